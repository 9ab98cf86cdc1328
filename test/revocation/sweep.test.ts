import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import { WATCH_INDEX_MODEL } from '../../lib/certificates/revocation/index.js';
import { ManualClock, pathOf, suiteQtsp, testChecker, thumbprintOf } from './helpers.js';

describe('revocation: the background sweep of watched certificates', function () {
  const qtsp = suiteQtsp('Sweep Test QTSP');

  beforeEach(function () {
    qtsp.resetCounts();
  });

  it('finds a revocation of a watched certificate once its status is due, audits it once, and the request path then knows', async function () {
    const leaf = await qtsp.issue();
    const path = pathOf(leaf, qtsp.authority);
    const { checker, clock, logger } = testChecker({ maxAge: 600 });
    expect(await checker.checkPath(path)).to.deep.equal({ status: 'good' });
    await checker.watch(path);
    await qtsp.revoke(leaf);

    expect(await checker.sweepNow()).to.deep.equal({ checked: 0, revoked: 0 });
    // Due within the next interval: checked ahead of expiry.
    clock.advance(300);
    expect(await checker.sweepNow(400)).to.deep.equal({ checked: 1, revoked: 1 });
    expect(await checker.knownRevoked(thumbprintOf(leaf))).to.equal(true);
    const requests = qtsp.requests.ocsp;
    expect(await checker.checkPath(path)).to.include({ status: 'revoked' });
    expect(await checker.sweepNow(400)).to.deep.equal({ checked: 0, revoked: 0 });
    clock.advance(3600);
    expect(await checker.sweepNow(400)).to.deep.equal({ checked: 0, revoked: 0 });
    expect(qtsp.requests.ocsp).to.equal(requests);
    const audits = logger.events('certificate.revoked');
    expect(audits).to.have.length(1);
    expect(audits[0]).to.deep.include({ event: 'certificate.revoked', thumbprint: thumbprintOf(leaf), source: 'ocsp', certificate: 'leaf', serial: leaf.certificate.serialNumber.toUpperCase() });
    expect(audits[0]?.subject).to.be.a('string').and.include('CN=example-tpp.example');
  });

  it('watching survives the instance: another instance on the storage sweeps the path', async function () {
    const leaf = await qtsp.issue();
    const path = pathOf(leaf, qtsp.authority);
    const storage = new MemoryStorage();
    const clock = new ManualClock();
    const first = testChecker({ maxAge: 60 }, { storage, clock });
    await first.checker.checkPath(path);
    await first.checker.watch(path);
    await qtsp.revoke(leaf);
    clock.advance(61);
    const restarted = testChecker({ maxAge: 60 }, { storage, clock });
    expect(await restarted.checker.sweepNow()).to.deep.equal({ checked: 1, revoked: 1 });
    expect(await first.checker.knownRevoked(thumbprintOf(leaf))).to.equal(true);
  });

  it('watching a listed leaf again costs nothing; an expired leaf is not watched', async function () {
    const leaf = await qtsp.issue();
    const path = pathOf(leaf, qtsp.authority);
    let writes = 0;
    const memory = new MemoryStorage();
    const storage = Object.assign(Object.create(memory) as MemoryStorage, {
      adapterFor: (model: string) => {
        const adapter = memory.adapterFor(model);
        return { ...adapter, upsert: (...args: Parameters<typeof adapter.upsert>) => { writes += 1; return adapter.upsert(...args); } };
      },
    });
    const { checker, clock } = testChecker({}, { storage });
    await checker.watch(path);
    expect(writes).to.equal(2);
    await checker.watch(path);
    await checker.watch(pathOf(leaf, qtsp.authority));
    expect(writes).to.equal(2);
    clock.advance(400 * 24 * 3600);
    const later = await qtsp.issue({ notAfter: new Date(Date.now() + 3600_000) });
    await checker.watch(pathOf(later, qtsp.authority));
    expect(writes).to.equal(2);
  });

  it('an index update lost to a concurrent one is written again at the next sweep', async function () {
    const storage = new MemoryStorage();
    const clock = new ManualClock();
    const a = testChecker({ maxAge: 60 }, { storage, clock });
    const b = testChecker({ maxAge: 60 }, { storage, clock });
    // Two leaves listed in the same index record.
    const first = await qtsp.issue();
    let second = await qtsp.issue();
    while (thumbprintOf(second).charCodeAt(0) % 16 !== thumbprintOf(first).charCodeAt(0) % 16) second = await qtsp.issue();
    await Promise.all([a.checker.watch(pathOf(first, qtsp.authority)), b.checker.watch(pathOf(second, qtsp.authority))]);
    const bucket = String(thumbprintOf(first).charCodeAt(0) % 16);
    const listed = async () => Object.keys(((await storage.adapterFor(WATCH_INDEX_MODEL).find(bucket)) as { entries: Record<string, number> }).entries);
    // Both read the record before either wrote it: one addition is lost.
    expect(await listed()).to.have.length(1);
    await a.checker.sweepNow();
    await b.checker.sweepNow();
    expect((await listed()).sort()).to.deep.equal([thumbprintOf(first), thumbprintOf(second)].sort());
    clock.advance(61);
    expect(await a.checker.sweepNow()).to.deep.equal({ checked: 2, revoked: 0 });
  });

  it('startSweep runs on an unref\'d timer and close() stops it', async function () {
    const leaf = await qtsp.issue();
    const path = pathOf(leaf, qtsp.authority);
    const { checker, clock, logger } = testChecker({ maxAge: 60 });
    await checker.checkPath(path);
    await checker.watch(path);
    await qtsp.revoke(leaf);
    clock.advance(61);
    checker.startSweep(0.05);
    expect(checker.sweeping).to.equal(true);
    // The sweep's summary comes last, after the revocation it found.
    await logger.logged('revocation.sweep');
    expect(logger.events('certificate.revoked')).to.have.length(1);
    expect(logger.events('revocation.sweep')).to.deep.equal([{ event: 'revocation.sweep', checked: 1, revoked: 1 }]);
    await checker.close();
    expect(checker.sweeping).to.equal(false);
  });
});
