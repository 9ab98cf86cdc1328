import { X509Certificate } from 'node:crypto';

import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import { CertificateVerifier } from '../../lib/certificates/identity.js';
import { createAuthority } from '../../tools/dev-pki/pki.js';
import { euLists, type EuLists } from '../support/eu-lists.js';
import { keepingLogger } from '../observability/helpers.js';
import { bankVerifier, sourceOf, verdict } from './helpers.js';

const DAY = 86_400_000;

describe('EU trusted lists: hostile, stale and incomplete lists', function () {
  this.timeout(60_000);
  let lists: EuLists;

  before(async () => {
    lists = await euLists();
  });
  after(() => lists.close());
  afterEach(() => lists.publish());

  it('refuses a list padded beyond the element cap before parsing it, keeping the others', async () => {
    const padding = '<tsl:Padding/>'.repeat(1200);
    await lists.publish({ fr: { padding } });
    const source = sourceOf(lists, { settings: { maxElements: 1000 } });
    const outcome = await source.start();
    source.close();
    expect(outcome.failedTerritories).to.deep.equal([{ territory: 'FR', reason: 'the list holds more than 1000 elements' }]);
    expect(verdict(bankVerifier(source), await lists.tpp(lists.deCa))).to.have.property('environment', 'bank');
  });

  it('ends a reading that takes longer than its time limit, of the stored lists as of the published ones', async () => {
    const storage = new MemoryStorage();
    const first = sourceOf(lists, { storage });
    expect(await first.start()).to.include({ ok: true, anchors: 3 });
    first.close();
    const logger = keepingLogger();
    const slow = sourceOf(lists, { storage, logger, settings: { readTimeout: 1 } });
    const outcome = await slow.start();
    slow.close();
    expect(outcome).to.deep.include({ ok: false, reason: 'reading the list took longer than 1 ms', anchors: 0 });
    expect(logger.lines.find((entry) => entry.fields.event === 'trusted_list.stored_discarded')?.fields).to.include({ reason: 'reading the list took longer than 1 ms' });
  });

  it('stops anchoring a kept national list past its NextUpdate and grace, and ages the set by its oldest list', async () => {
    const start = Date.now();
    let now = new Date(start);
    await lists.publish({ fr: { nextUpdate: new Date(start + DAY) } });
    const logger = keepingLogger();
    const source = sourceOf(lists, { logger, now: () => now });
    await source.start();
    const verifier = bankVerifier(source);
    const tpp = await lists.tpp(lists.frCa);
    lists.server.fail('/fr.xml');
    now = new Date(start + 1.5 * DAY);
    const kept = await source.refresh();
    expect(kept.failedTerritories.map((failure) => failure.territory)).to.deep.equal(['FR']);
    expect(source.age(), 'the kept FR list is the oldest in use').to.be.within(1.5 * 86_400 - 5, 1.5 * 86_400 + 5);
    expect(verdict(verifier, tpp), 'within the grace').to.have.property('environment', 'bank');

    // No reading needed: the set in use drops the list when its time comes, and the leaf verified before with it.
    now = new Date(start + 2 * DAY + 1000);
    expect(verdict(verifier, tpp)).to.equal('issuer_not_granted');
    await source.refresh();
    source.close();
    expect(verdict(verifier, tpp), 'nor after a reading that fails FR again').to.equal('issuer_not_granted');
    try {
      verifier.identify({ leaf: tpp.der, chain: [] });
    } catch (error) {
      expect((error as Error).message).to.match(/the EU trusted list of FR in use is past its NextUpdate \(.*\) and no newer one could be verified/);
    }
    expect(verdict(verifier, await lists.tpp(lists.deCa))).to.have.property('environment', 'bank');
    expect(source.readiness()).to.deep.equal({ ready: false, detail: 'no current verified EU trusted list of FR' });
    expect(source.age(), 'an expired list is not in use').to.be.below(5);
    expect(logger.lines.find((entry) => entry.fields.event === 'trusted_list.territory_expired')?.fields).to.deep.include({ territories: ['FR'] });
  });

  it('is not ready, and warns, while no national list could be verified', async () => {
    lists.server.fail('/fr.xml');
    lists.server.fail('/de.xml');
    const logger = keepingLogger();
    const source = sourceOf(lists, { logger });
    const outcome = await source.start();
    expect(outcome).to.include({ ok: true, anchors: 0 });
    expect(source.readiness()).to.deep.equal({ ready: false, detail: 'the verified EU trusted lists anchor no QTSP' });
    expect(logger.lines.find((entry) => entry.fields.event === 'trusted_list.incomplete')?.fields).to.deep.include({ territories: ['FR', 'DE'] });

    await lists.publish();
    lists.server.fail('/de.xml');
    expect(await source.refresh()).to.include({ ok: true, anchors: 1 });
    source.close();
    expect(source.readiness()).to.deep.equal({ ready: false, detail: 'no current verified EU trusted list of DE' });
  });

  it('does not use a stored set verified against other pins', async () => {
    const storage = new MemoryStorage();
    const first = sourceOf(lists, { storage });
    await first.start();
    first.close();
    lists.server.fail('/lotl.xml');
    const logger = keepingLogger();
    const repinned = sourceOf(lists, { storage, logger, signers: [lists.stranger.certPem] });
    expect(await repinned.start()).to.include({ ok: false, anchors: 0 });
    repinned.close();
    expect(repinned.current()).to.equal(undefined);
    expect(logger.lines.map((entry) => entry.fields.event)).to.include('trusted_list.stored_discarded');
    expect(verdict(bankVerifier(repinned), await lists.tpp(lists.frCa))).to.equal('trust_list_unavailable');
  });

  it('lets a list that verifies against the pins replace a stored set of a higher sequence number', async () => {
    const storage = new MemoryStorage();
    await lists.publish({ lotl: { sequenceNumber: 900 }, fr: { sequenceNumber: 900 } });
    const first = sourceOf(lists, { storage });
    await first.start();
    first.close();
    await lists.publish({ lotl: { sequenceNumber: 5 }, fr: { sequenceNumber: 5 } });
    const restarted = sourceOf(lists, { storage });
    const outcome = await restarted.start();
    restarted.close();
    expect(outcome).to.deep.include({ ok: true, failedTerritories: [] });
    expect(restarted.current()!.stored.lotl.sequenceNumber).to.equal(5);
  });

  it('says the lists are not verified yet only of certificates that are not the sandbox\'s', async () => {
    const source = sourceOf(lists);
    const sandboxCa = await createAuthority('Sandbox QTSP');
    const verifier = new CertificateVerifier([
      { name: 'bank', anchors: [], anchorSource: source, requireQualifiedStatements: true, requiredExtendedKeyUsages: [] },
      { name: 'sandbox', anchors: [new X509Certificate(sandboxCa.der)], requireQualifiedStatements: false, requiredExtendedKeyUsages: [] },
    ]);
    // A CA of the same name with another key: the certificate names the sandbox's CA but does not chain to it.
    const impostor = await createAuthority('Sandbox QTSP');
    expect(verdict(verifier, await lists.tpp(sandboxCa))).to.have.property('environment', 'sandbox');
    expect(verdict(verifier, await lists.tpp(impostor))).to.equal('issuer_untrusted');
    expect(verdict(verifier, await lists.tpp(lists.frCa))).to.equal('trust_list_unavailable');
  });
});
