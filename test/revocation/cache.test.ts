import { expect } from 'chai';
import type { RecordAdapter as Adapter } from '../../lib/storage.js';
import { createClient } from 'redis';

import { MemoryStorage } from '../../adapters/memory.js';
import { RedisStorage, type RedisCommands } from '../../adapters/redis/storage.js';
import { Qtsp } from '../support/qtsp.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { withAdapters } from '../support/storage.js';
import { ManualClock, pathOf, suiteQtsp, testChecker, thumbprintOf } from './helpers.js';

describe('revocation: statuses cached in the storage and in process', function () {
  const qtsp = suiteQtsp('Cache Test QTSP', {}, true);

  it('a second check asks nobody, not even the storage; an outage after that does not matter until maxAge', async function () {
    const leaf = await qtsp.issue({ crl: false });
    const path = pathOf(leaf, qtsp.authority);
    let storageCalls = 0;
    const storage = withAdapters(new MemoryStorage(), (_model, adapter): Adapter => ({
      ...adapter,
      find: (id) => {
        storageCalls += 1;
        return adapter.find(id);
      },
      upsert: (id, payload, expiresIn) => {
        storageCalls += 1;
        return adapter.upsert(id, payload, expiresIn);
      },
    }));
    const { checker, clock } = testChecker({ maxAge: 600 }, { storage });
    expect(await checker.checkPath(path)).to.deep.equal({ status: 'good' });
    expect(qtsp.requests.ocsp).to.equal(1);
    storageCalls = 0;
    expect(await checker.checkPath(path)).to.deep.equal({ status: 'good' });
    expect(qtsp.requests.ocsp).to.equal(1);
    expect(storageCalls).to.equal(0);

    await qtsp.stopResponder();
    clock.advance(599);
    expect(await checker.checkPath(path)).to.deep.equal({ status: 'good' });
    clock.advance(2);
    expect(await checker.checkPath(path)).to.include({ status: 'unknown' });
  });

  it('a good status is kept no longer than the OCSP response\'s nextUpdate', async function () {
    const short = await Qtsp.create('Short-lived Answers QTSP', { ocspNextUpdateMinutes: 1 });
    try {
      const leaf = await short.issue({ crl: false });
      const path = pathOf(leaf, short.authority);
      const { checker, clock } = testChecker({ maxAge: 3600 });
      await checker.checkPath(path);
      clock.advance(30);
      await checker.checkPath(path);
      expect(short.requests.ocsp).to.equal(1);
      clock.advance(31);
      await checker.checkPath(path);
      expect(short.requests.ocsp).to.equal(2);
    } finally {
      await short.close();
    }
  });

  it('concurrent checks of one certificate share one lookup', async function () {
    const leaf = await qtsp.issue({ crl: false });
    const path = pathOf(leaf, qtsp.authority);
    const { checker } = testChecker();
    const statuses = await Promise.all(Array.from({ length: 5 }, () => checker.checkPath(path)));
    expect(statuses.every((status) => status.status === 'good')).to.equal(true);
    expect(qtsp.requests.ocsp).to.equal(1);
  });

  it('an unreachable responder costs one timeout for unreachableTtl, not one per check', async function () {
    const leaf = await qtsp.issue({ crl: false });
    const sibling = await qtsp.issue({ crl: false });
    await qtsp.hangResponder();
    const { checker, clock, logger } = testChecker({ timeout: 200, unreachableTtl: 30 });
    const first = performance.now();
    expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.include({ status: 'unknown' });
    expect(performance.now() - first).to.be.at.least(190);
    const again = performance.now();
    expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.include({ status: 'unknown' });
    // Another certificate of the same responder: the responder is known not to answer.
    const status = await checker.checkPath(pathOf(sibling, qtsp.authority));
    expect((status as { description: string }).description).to.include('did not answer within 200 ms');
    expect(performance.now() - again).to.be.below(100);
    expect(qtsp.requests.ocsp).to.equal(1);
    expect(logger.events('certificate.status_unknown')).to.have.length(2);

    await qtsp.startResponder();
    clock.advance(29);
    expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.include({ status: 'unknown' });
    clock.advance(2);
    expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.deep.equal({ status: 'good' });
    expect(qtsp.requests.ocsp).to.equal(2);
  });

  it('a certificate revoked after a good status was cached is seen revoked once that status ages out', async function () {
    const leaf = await qtsp.issue();
    const path = pathOf(leaf, qtsp.authority);
    const { checker, clock, logger } = testChecker({ maxAge: 1 });
    expect(await checker.checkPath(path)).to.deep.equal({ status: 'good' });
    await qtsp.revoke(leaf);
    expect(await checker.checkPath(path)).to.deep.equal({ status: 'good' });
    clock.advance(1.1);
    expect(await checker.checkPath(path)).to.include({ status: 'revoked', source: 'ocsp' });
    // Revoked for good: no more lookups, one audit.
    clock.advance(3600);
    expect(await checker.checkPath(path)).to.include({ status: 'revoked' });
    expect(qtsp.requests.ocsp).to.equal(2);
    expect(logger.events('certificate.revoked')).to.have.length(1);
  });

  it('knownRevoked: what the storage knows of a leaf and the CAs of its path, without asking the network', async function () {
    const root = await Qtsp.create('Known Revoked Root');
    const intermediate = await Qtsp.start(await root.subordinate('Known Revoked QTSP'));
    try {
      await root.revoke(intermediate.authority);
      const good = await qtsp.issue();
      const revoked = await qtsp.issue();
      await qtsp.revoke(revoked);
      const underRevoked = await intermediate.issue();
      const storage = new MemoryStorage();
      const clock = new ManualClock();
      const { checker } = testChecker({}, { storage, clock });
      await checker.checkPath(pathOf(good, qtsp.authority));
      await checker.checkPath(pathOf(revoked, qtsp.authority));
      expect(await checker.checkPath(pathOf(underRevoked, intermediate.authority, root.authority))).to.include({ status: 'revoked', certificate: 'intermediate' });

      const other = testChecker({}, { storage, clock }).checker;
      qtsp.resetCounts();
      root.resetCounts();
      intermediate.resetCounts();
      expect(await checker.knownRevoked(thumbprintOf(revoked))).to.equal(true);
      expect(await other.knownRevoked(thumbprintOf(revoked))).to.equal(true);
      expect(await other.knownRevoked(thumbprintOf(underRevoked))).to.equal(true);
      expect(await other.knownRevoked(thumbprintOf(good))).to.equal(false);
      expect(await other.knownRevoked(thumbprintOf(await qtsp.issue()))).to.equal(false);
      for (const server of [qtsp, root, intermediate]) expect(server.requests).to.deep.equal({ ocsp: 0, crl: 0 });
    } finally {
      await intermediate.close();
      await root.close();
    }
  });

  describe('two instances on one Redis', function () {
    let redis: TestRedis;
    const clients: { close(): Promise<void> }[] = [];

    before(async function () {
      redis = await startRedis();
    });

    after(async function () {
      await Promise.all(clients.map((client) => client.close()));
      await redis?.close();
    });

    async function redisStorage(): Promise<RedisStorage> {
      const url = redis.processes[0]?.url ?? process.env.REDIS_URL;
      const client = createClient({ url });
      client.on('error', () => undefined);
      await client.connect();
      clients.push({ close: async () => client.destroy() });
      return new RedisStorage(client as unknown as RedisCommands, { keyPrefix: redis.keyPrefix, cache: false });
    }

    it('share a status: the second instance asks nobody', async function () {
      const leaf = await qtsp.issue();
      const path = pathOf(leaf, qtsp.authority);
      const clock = new ManualClock();
      const first = testChecker({}, { storage: await redisStorage(), clock });
      const second = testChecker({}, { storage: await redisStorage(), clock });
      expect(await first.checker.checkPath(path)).to.deep.equal({ status: 'good' });
      expect(qtsp.requests).to.deep.equal({ ocsp: 1, crl: 0 });
      expect(await second.checker.checkPath(path)).to.deep.equal({ status: 'good' });
      expect(qtsp.requests).to.deep.equal({ ocsp: 1, crl: 0 });
    });

    it('share a revocation and its audit, and a CRL', async function () {
      const leaf = await qtsp.issue({ ocsp: false });
      const sibling = await qtsp.issue({ ocsp: false });
      await qtsp.revoke(leaf);
      const clock = new ManualClock();
      const first = testChecker({}, { storage: await redisStorage(), clock });
      const second = testChecker({}, { storage: await redisStorage(), clock });
      expect(await first.checker.checkPath(pathOf(leaf, qtsp.authority))).to.include({ status: 'revoked', source: 'crl' });
      expect(await second.checker.checkPath(pathOf(leaf, qtsp.authority))).to.include({ status: 'revoked', source: 'crl' });
      expect(await second.checker.checkPath(pathOf(sibling, qtsp.authority))).to.deep.equal({ status: 'good' });
      expect(qtsp.requests).to.deep.equal({ ocsp: 0, crl: 1 });
      expect(first.logger.events('certificate.revoked').length + second.logger.events('certificate.revoked').length).to.equal(1);
    });
  });
});
