import { X509Certificate } from 'node:crypto';

import { expect } from 'chai';

import { CertificateVerifier } from '../../lib/certificates/identity.js';
import { issueTppCertificate } from '../../tools/dev-pki/pki.js';

import { createAuthorizationServer, MemoryStorage, type AuthorizationServerOptions, type BankEnvironmentOptions } from '../../lib/index.js';
import { euLists, type EuLists } from '../support/eu-lists.js';
import { configurationError, optionsWithEnvironments } from '../support/options.js';
import { testPki } from '../support/pki.js';
import { TestBank } from '../support/psus.js';
import { keepingLogger } from '../observability/helpers.js';
import { sourceOf, verdict } from './helpers.js';

const bank = new TestBank();

async function optionsWith(bankOptions: Partial<BankEnvironmentOptions>): Promise<AuthorizationServerOptions> {
  return optionsWithEnvironments({ authenticator: bank, accounts: bank, ...bankOptions });
}

describe('EU trusted lists: options and wiring', function () {
  this.timeout(60_000);
  let lists: EuLists;

  before(async () => {
    lists = await euLists();
  });
  after(() => lists.close());

  it('need trustAnchors or trustedList for the bank, a list URL and a PEM of signers', async () => {
    const neither = await optionsWith({});
    expect(configurationError(() => createAuthorizationServer(neither)).message).to.contain('environments.bank.trustAnchors: is required unless trustedList is set');
    const ftp = await optionsWith({ trustedList: { url: 'ftp://lists.example/lotl.xml', signers: lists.officialJournal.certPem } });
    expect(configurationError(() => createAuthorizationServer(ftp)).message).to.contain('environments.bank.trustedList.url: must be an https, http or file URL');
    const noPem = await optionsWith({ trustedList: { url: lists.lotlUrl, signers: 'not a certificate' } });
    expect(configurationError(() => createAuthorizationServer(noPem)).message).to.contain('environments.bank.trustedList.signers: must be a PEM bundle holding at least one certificate');
    const fast = await optionsWith({ trustedList: { url: lists.lotlUrl, signers: lists.officialJournal.certPem, refreshInterval: 10 } });
    expect(configurationError(() => createAuthorizationServer(fast)).path).to.equal('environments.bank.trustedList.refreshInterval');
  });

  it('give the bank the lists alone, with readiness, metrics and close()', async () => {
    const server = createAuthorizationServer({
      ...await optionsWith({ trustedList: { url: lists.lotlUrl, signers: lists.officialJournal.certPem } }),
      storage: new MemoryStorage(),
      logger: keepingLogger(),
    });
    try {
      expect(await server.trustedLists!.started).to.include({ ok: true, anchors: 3 });
      expect((await server.health.ready()).checks.trusted_list).to.deep.include({ status: 'ok' });
      const metrics = (await server.metrics.scrape()).body;
      expect(metrics).to.match(/^psd2_as_trusted_list_anchors 3$/m);
      expect(metrics).to.match(/^psd2_as_trusted_list_territory_age_seconds\{territory="FR"\} \d+$/m);
      expect(server.trustedLists!.age()).to.be.within(0, 5);
      const again = await server.trustedLists!.refresh();
      expect(again.ok).to.equal(true);
      expect((await server.metrics.scrape()).body).to.match(/^psd2_as_trusted_list_refreshes_total\{result="verified"\} 2$/m);
    } finally {
      await server.close();
    }
  });

  it('name their metrics with the metrics prefix, and register none when metrics are off', async () => {
    const trustedList = { url: lists.lotlUrl, signers: lists.officialJournal.certPem };
    const prefixed = createAuthorizationServer({ ...await optionsWith({ trustedList }), metrics: { prefix: 'bank_' }, storage: new MemoryStorage(), logger: keepingLogger() });
    const off = createAuthorizationServer({ ...await optionsWith({ trustedList }), metrics: false, storage: new MemoryStorage(), logger: keepingLogger() });
    try {
      await Promise.all([prefixed.trustedLists!.started, off.trustedLists!.started]);
      expect((await prefixed.metrics.scrape()).body).to.match(/^bank_trusted_list_anchors 3$/m);
      expect((await off.metrics.scrape()).body).not.to.contain('trusted_list');
      expect(off.trustedLists!.age()).to.be.a('number');
    } finally {
      await Promise.all([prefixed.close(), off.close()]);
    }
  });

  it('leave the bank with its bundle alone when no list is configured', async () => {
    const pki = await testPki();
    const server = createAuthorizationServer({ ...await optionsWith({ trustAnchors: pki.bankCa.certPem }), storage: new MemoryStorage() });
    expect(server.trustedLists).to.equal(undefined);
    expect((await server.health.ready()).checks).not.to.have.property('trusted_list');
    await server.close();
  });

  it('accept both a bundle and the lists at once', async () => {
    const pki = await testPki();
    const source = sourceOf(lists);
    await source.start();
    source.close();
    const both = new CertificateVerifier([{
      name: 'bank', anchors: [new X509Certificate(pki.bankCa.certPem)], anchorSource: source, requireQualifiedStatements: true, requiredExtendedKeyUsages: [],
    }]);
    expect(verdict(both, await lists.tpp(lists.frCa))).to.have.property('environment', 'bank');
    expect(verdict(both, await issueTppCertificate(pki.bankCa))).to.have.property('environment', 'bank');
    expect(verdict(both, await issueTppCertificate(pki.rogueCa))).to.equal('issuer_untrusted');
  });
});
