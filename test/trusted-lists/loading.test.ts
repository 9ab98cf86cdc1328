import { X509Certificate } from 'node:crypto';

import { expect } from 'chai';

import { CertificateRejectedError } from '../../lib/certificates/rejection.js';
import { euLists, type EuLists } from '../support/eu-lists.js';
import { lotlXml, signList } from '../support/trusted-lists.js';
import { keepingLogger } from '../observability/helpers.js';
import { bankVerifier, sourceOf, verdict } from './helpers.js';

const DAY = 86_400_000;

describe('EU trusted lists: loading', function () {
  this.timeout(60_000);
  let lists: EuLists;

  before(async () => {
    lists = await euLists();
  });
  after(() => lists.close());
  afterEach(() => lists.publish());

  it('verifies the LOTL and both national lists (ECDSA, RSA-PSS) and anchors their website CAs', async () => {
    const source = sourceOf(lists);
    const outcome = await source.start();
    source.close();
    expect(outcome).to.include({ ok: true, anchors: 3 });
    expect(outcome.failedTerritories).to.deep.equal([]);
    const fingerprints = source.current()!.anchors.map((anchor) => anchor.fingerprint256);
    for (const ca of [lists.frCa, lists.deCa, lists.withdrawnCa]) expect(fingerprints).to.include(new X509Certificate(ca.der).fingerprint256);
    expect(fingerprints, 'the e-seal CA is not for websites').not.to.include(new X509Certificate(lists.esealCa.der).fingerprint256);
    // The LOTL's pointers to PDF copies are not followed.
    expect(lists.server.requests.filter((path) => path.endsWith('.pdf'))).to.deep.equal([]);
  });

  it('accepts a QWAC of a listed issuing CA without any PEM bundle, and refuses others', async () => {
    const source = sourceOf(lists);
    const verifier = bankVerifier(source);
    const tpp = await lists.tpp(lists.frCa);
    expect(verdict(verifier, tpp), 'before any list is verified').to.equal('trust_list_unavailable');
    await source.start();
    source.close();
    expect(verdict(verifier, tpp)).to.have.property('environment', 'bank');
    expect(verdict(verifier, await lists.tpp(lists.deCa))).to.have.property('environment', 'bank');
    expect(verdict(verifier, await lists.tpp(lists.esealCa))).to.equal('issuer_untrusted');
  });

  it('keeps certificates issued before a withdrawal and refuses those issued after, saying why', async () => {
    const source = sourceOf(lists);
    await source.start();
    source.close();
    const verifier = bankVerifier(source);
    const before = await lists.tpp(lists.withdrawnCa, { notBefore: new Date(lists.withdrawnAt.getTime() - 5 * DAY) });
    const after = await lists.tpp(lists.withdrawnCa, { notBefore: new Date(lists.withdrawnAt.getTime() + DAY) });
    expect(verdict(verifier, before)).to.have.property('environment', 'bank');
    expect(verdict(verifier, after)).to.equal('issuer_not_granted');
    const error = (() => {
      try {
        verifier.identify({ leaf: after.der, chain: [] });
      } catch (caught) {
        return caught as CertificateRejectedError;
      }
      return undefined;
    })();
    expect(error?.error_description).to.match(/"DE Withdrawn QWAC CA" \(DE\) was not granted when the client certificate was issued .*its status is withdrawn, granted from .* to /);
  });

  it('leaves out a tampered national list and keeps the others', async () => {
    await lists.publish({ fr: { tamper: (xml) => xml.replace('FR QWAC Issuing CA', 'FR QWAC Issuing CB') } });
    const source = sourceOf(lists);
    const outcome = await source.start();
    source.close();
    expect(outcome.ok).to.equal(true);
    expect(outcome.failedTerritories).to.have.length(1);
    expect(outcome.failedTerritories[0]).to.have.property('territory', 'FR');
    expect(outcome.failedTerritories[0]!.reason, outcome.failedTerritories[0]!.reason).to.match(/does not verify: .*Invalid digest/);
    expect(verdict(bankVerifier(source), await lists.tpp(lists.frCa))).to.equal('issuer_untrusted');
    expect(verdict(bankVerifier(source), await lists.tpp(lists.deCa))).to.have.property('environment', 'bank');
  });

  it('refuses a national list signed by a key its LOTL pointer does not give, however valid the signature', async () => {
    await lists.publish({ fr: { signer: lists.stranger } });
    const source = sourceOf(lists);
    const outcome = await source.start();
    source.close();
    expect(outcome.failedTerritories).to.deep.equal([{ territory: 'FR', reason: 'the list is not signed by any of the certificates expected for it' }]);
    expect(verdict(bankVerifier(source), await lists.tpp(lists.frCa))).to.equal('issuer_untrusted');
  });

  it('refuses a LOTL signed by a key that is not pinned, and anchors nothing', async () => {
    await lists.publish({ lotl: { signer: lists.stranger } });
    const logger = keepingLogger();
    const source = sourceOf(lists, { logger });
    const outcome = await source.start();
    source.close();
    expect(outcome).to.deep.include({ ok: false, reason: 'the list is not signed by any of the certificates expected for it', anchors: 0 });
    expect(source.current()).to.equal(undefined);
    expect(source.readiness()).to.deep.equal({ ready: false, detail: 'no verified EU trusted list yet' });
    expect(logger.lines.map((entry) => entry.fields.event)).to.include('trusted_list.refused');
    expect(verdict(bankVerifier(source), await lists.tpp(lists.frCa))).to.equal('trust_list_unavailable');
  });

  it('refuses a LOTL past its NextUpdate, and a national list past its own', async () => {
    await lists.publish({ lotl: { nextUpdate: new Date(Date.now() - DAY) } });
    const stale = sourceOf(lists);
    const outcome = await stale.start();
    stale.close();
    expect(outcome.ok).to.equal(false);
    expect(outcome.reason).to.match(/^the list of trusted lists is past its NextUpdate/);

    await lists.publish({ de: { nextUpdate: new Date(Date.now() - DAY) } });
    const source = sourceOf(lists);
    const partial = await source.start();
    source.close();
    expect(partial.ok).to.equal(true);
    expect(partial.failedTerritories).to.have.length(1);
    expect(partial.failedTerritories[0]!.reason).to.match(/^the list of DE is past its NextUpdate \(\d{4}-/);
    expect(verdict(bankVerifier(source), await lists.tpp(lists.deCa)), 'no DE list was in use before').to.equal('issuer_untrusted');
  });

  it('refuses an older LOTL than the one in use (a replay), keeping the newer set', async () => {
    await lists.publish({ lotl: { sequenceNumber: 7 } });
    const source = sourceOf(lists);
    await source.start();
    const version = source.current()!.version;
    await lists.publish({ lotl: { sequenceNumber: 6 } });
    const outcome = await source.refresh();
    source.close();
    expect(outcome.reason).to.equal('the list of trusted lists has sequence number 6, older than 7 in use');
    expect(source.current()!.version).to.equal(version);
  });

  it('keeps the last good set when a refresh fails, and a certificate check sees a new set at once', async () => {
    const source = sourceOf(lists);
    await source.start();
    const verifier = bankVerifier(source);
    const tpp = await lists.tpp(lists.frCa);
    expect(verdict(verifier, tpp)).to.have.property('environment', 'bank');
    lists.server.fail('/lotl.xml');
    const failed = await source.refresh();
    expect(failed.ok).to.equal(false);
    expect(failed.reason).to.match(/lotl\.xml answered HTTP 503$/);
    expect(verdict(verifier, tpp), 'the previous set stays').to.have.property('environment', 'bank');
    // The FR list now fails: its services are kept from the set in use.
    await lists.publish({ fr: { signer: lists.stranger } });
    const kept = await source.refresh();
    expect(kept.failedTerritories.map((failure) => failure.territory)).to.deep.equal(['FR']);
    expect(verdict(verifier, tpp)).to.have.property('environment', 'bank');
    // A LOTL that no longer points to FR: the verification of the leaf does not outlive its anchor.
    const onlyDe = lotlXml({ sequenceNumber: 2 }, [{ territory: 'DE', location: lists.server.url('/de.xml'), signers: [lists.deSigner.base64] }]);
    lists.server.publish('/lotl.xml', await signList(onlyDe, lists.officialJournal));
    const smaller = await source.refresh();
    source.close();
    expect(smaller).to.include({ ok: true, anchors: 2 });
    expect(verdict(verifier, tpp)).to.equal('issuer_untrusted');
  });
});
