/**
 * RedisStorage's memory of clients, interactions, grants and sessions, kept coherent across
 * instances by the announcements on `<keyPrefix>changes`; and its batches, whose writes are
 * pipelined and answered for together. On a single Redis and on a Redis Cluster.
 */
import { randomBytes } from 'node:crypto';

import { expect } from 'chai';
import type { RecordPayload as AdapterPayload } from '../../lib/storage.js';

import { isRecordOf, RedisKeys } from '../../adapters/redis/keys.js';
import { RedisStorage, type RedisCommands, type RedisStorageOptions } from '../../adapters/redis/storage.js';
import { StorageUnavailableError } from '../../lib/errors.js';
import { newProbe, probed, startRedis, startRedisCluster, until, type Probe, type TestRedis } from '../support/redis.js';

const id = () => randomBytes(12).toString('base64url');

const STARTERS = [
  { name: 'a single Redis', start: startRedis },
  { name: 'a Redis Cluster of three masters', start: startRedisCluster },
] as const;

for (const { name, start } of STARTERS) {
  describe(`RedisStorage cache and batches, on ${name}`, function cache() {
    this.timeout(30_000);
    let redis: TestRedis;
    let probeA: Probe;
    let a: RedisStorage;
    let b: RedisStorage;
    const opened: RedisStorage[] = [];

    /** A storage on `client` with a subscriber of its own, unless `options` says which (or none). */
    const open = async (client: RedisCommands, options: RedisStorageOptions = {}) => {
      const subscriber = 'subscriber' in options ? options.subscriber : await redis.subscriber();
      const storage = new RedisStorage(client, { keyPrefix: redis.keyPrefix, ...options, subscriber });
      opened.push(storage);
      return storage;
    };
    const readsOf = (probe: Probe, model: string, recordId: string) => probe.reads.filter((key) => isRecordOf(key, model, recordId)).length;

    before(async () => {
      redis = await start();
      probeA = newProbe();
      a = await open(probed(redis.client, probeA));
      b = await open(redis.client);
      await until('both instances listen', () => a.caching && b.caching, 10_000);
    });
    afterEach(() => {
      probeA.failing = () => false;
    });
    after(async () => {
      await Promise.all(opened.map((storage) => storage.close()));
      await redis?.close();
    });

    it('finds a record it wrote or read again without asking Redis; tokens are always read', async () => {
      const grantId = id();
      await a.adapterFor('Grant').upsert(grantId, { accountId: 'psu-1', clientId: 'c', exp: Math.floor(Date.now() / 1000) + 60 } as AdapterPayload, 60);
      expect(await a.adapterFor('Grant').find(grantId)).to.include({ accountId: 'psu-1' });
      expect(readsOf(probeA, 'Grant', grantId), 'written here').to.equal(0);

      const clientId = id();
      await b.adapterFor('Client').upsert(clientId, { client_id: clientId, client_name: 'Kept' } as AdapterPayload, undefined);
      // A read that overlaps the announcement of b's write is not kept: read until one is.
      let reads = -1;
      await until('a read is kept', async () => {
        const before = reads;
        expect(await a.adapterFor('Client').find(clientId)).to.include({ client_name: 'Kept' });
        reads = readsOf(probeA, 'Client', clientId);
        return reads === before;
      }, 1000);
      for (let i = 0; i < 3; i += 1) expect(await a.adapterFor('Client').find(clientId)).to.include({ client_name: 'Kept' });
      expect(readsOf(probeA, 'Client', clientId), 'then found in memory').to.equal(reads);

      const tokenId = id();
      await a.adapterFor('AccessToken').upsert(tokenId, { accountId: 'psu-1' } as AdapterPayload, 60);
      await a.adapterFor('AccessToken').find(tokenId);
      await a.adapterFor('AccessToken').find(tokenId);
      expect(readsOf(probeA, 'AccessToken', tokenId), 'never kept').to.equal(2);
    });

    it('hands out copies: changing a found record changes nothing kept', async () => {
      const grantId = id();
      await a.adapterFor('Grant').upsert(grantId, { accountId: 'psu-1', openid: { scope: 'aisp' } } as AdapterPayload, 60);
      const found = await a.adapterFor('Grant').find(grantId) as { openid: { scope: string } };
      found.openid.scope = 'changed';
      expect(await a.adapterFor('Grant').find(grantId)).to.deep.include({ openid: { scope: 'aisp' } });
    });

    it('forgets at once what another instance changes, deletes, consumes or removes with its client', async () => {
      const clientId = id();
      const grantId = id();
      const interactionId = id();
      await b.adapterFor('Client').upsert(clientId, { client_id: clientId, client_name: 'First' } as AdapterPayload, undefined);
      await b.adapterFor('Grant').upsert(grantId, { accountId: 'psu-2', clientId } as AdapterPayload, 60);
      await b.adapterFor('Interaction').upsert(interactionId, { uid: interactionId } as AdapterPayload, 60);
      expect(await a.adapterFor('Client').find(clientId)).to.include({ client_name: 'First' });
      expect(await a.adapterFor('Grant').find(grantId)).to.include({ accountId: 'psu-2' });
      expect(await a.adapterFor('Interaction').find(interactionId)).to.include({ uid: interactionId });

      await b.adapterFor('Client').upsert(clientId, { client_id: clientId, client_name: 'Second' } as AdapterPayload, undefined);
      await until('the update is seen', async () => (await a.adapterFor('Client').find(clientId))?.client_name === 'Second', 1000);

      await b.adapterFor('Interaction').consume(interactionId);
      await until('the consumption is seen', async () => typeof (await a.adapterFor('Interaction').find(interactionId))?.consumed === 'number', 1000);

      await b.removeClient(clientId);
      await until('the removal is seen', async () => await a.adapterFor('Client').find(clientId) === undefined && await a.adapterFor('Grant').find(grantId) === undefined, 1000);

      const other = id();
      await b.adapterFor('Grant').upsert(other, { accountId: 'psu-3' } as AdapterPayload, 60);
      expect(await a.adapterFor('Grant').find(other)).to.include({ accountId: 'psu-3' });
      await b.adapterFor('Grant').destroy(other);
      await until('the deletion is seen', async () => await a.adapterFor('Grant').find(other) === undefined, 1000);
    });

    it('keeps a record changed behind the storages\' back (by hand) for at most maxAge', async () => {
      const short = await open(redis.client, { cache: { maxAge: 400 } });
      await until('it listens', () => short.caching, 10_000);
      const clientId = id();
      await short.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined);
      expect(await short.adapterFor('Client').find(clientId)).to.include({ client_id: clientId });
      await redis.client.del(new RedisKeys(redis.keyPrefix).record('Client', clientId));
      expect(await short.adapterFor('Client').find(clientId), 'still kept').to.include({ client_id: clientId });
      await new Promise((resolve) => setTimeout(resolve, 450));
      expect(await short.adapterFor('Client').find(clientId), 'after maxAge').to.equal(undefined);
    });

    it('refuses cache sizes and ages that are not positive integers', () => {
      for (const cache of [{ maxEntries: 0 }, { maxAge: -1 }, { maxAge: 1.5 }, { maxEntries: Number.NaN }]) {
        expect(() => new RedisStorage(redis.client, { cache }), JSON.stringify(cache)).to.throw(TypeError, /cache\.max(Entries|Age) must be a positive integer/);
      }
    });

    it('keeps nothing with cache: false, nor without a subscriber', async () => {
      for (const [what, storage, probe] of await (async () => {
        const off = newProbe();
        const bare = newProbe();
        return [
          ['cache: false', await open(probed(redis.client, off), { cache: false }), off],
          ['no subscriber', await open(probed(redis.client, bare), { subscriber: undefined }), bare],
        ] as const;
      })()) {
        const clientId = id();
        await storage.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined);
        await storage.adapterFor('Client').find(clientId);
        await storage.adapterFor('Client').find(clientId);
        expect(readsOf(probe, 'Client', clientId), what).to.equal(2);
        expect(storage.caching, what).to.equal(false);
      }
    });

    it('keeps nothing once closed', async () => {
      const storage = await open(probed(redis.client, probeA));
      await until('it listens', () => storage.caching, 10_000);
      const clientId = id();
      await storage.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined);
      await storage.adapterFor('Client').find(clientId);
      expect(readsOf(probeA, 'Client', clientId)).to.equal(0);
      await storage.close();
      expect(storage.caching).to.equal(false);
      await storage.adapterFor('Client').find(clientId);
      await storage.adapterFor('Client').find(clientId);
      expect(readsOf(probeA, 'Client', clientId), 'read from Redis once closed').to.equal(2);
    });

    it('sends the writes of a batch without waiting, and answers once all are stored', async () => {
      const tokenId = id();
      const grantId = id();
      let written = false;
      await a.batch(async () => {
        await a.adapterFor('Grant').upsert(grantId, { accountId: 'psu-4' } as AdapterPayload, 60);
        await a.adapterFor('AccessToken').upsert(tokenId, { accountId: 'psu-4', grantId: 'unrelated' } as AdapterPayload, 60);
        // A read after a write on the same connection sees it.
        expect(await a.adapterFor('AccessToken').find(tokenId)).to.include({ accountId: 'psu-4' });
        written = true;
      });
      expect(written).to.equal(true);
      expect(await b.adapterFor('Grant').find(grantId)).to.include({ accountId: 'psu-4' });
      expect(await b.adapterFor('AccessToken').find(tokenId)).to.include({ accountId: 'psu-4' });
    });

    it('fails a batch whose write failed, and forgets the record it would have written', async () => {
      const grantId = id();
      await a.adapterFor('Grant').upsert(grantId, { accountId: 'before' } as AdapterPayload, 60);
      probeA.failing = (key) => isRecordOf(key, 'Grant', grantId);
      let went = false;
      const batch = a.batch(async () => {
        await a.adapterFor('Grant').upsert(grantId, { accountId: 'after' } as AdapterPayload, 60);
        went = true;
        return 'done';
      });
      const failure = await batch.then(() => undefined, (error: unknown) => error);
      expect(went, 'the work went on without waiting').to.equal(true);
      expect(failure).to.be.instanceOf(StorageUnavailableError);
      probeA.failing = () => false;
      expect(await a.adapterFor('Grant').find(grantId), 'what Redis holds').to.include({ accountId: 'before' });
    });

    it('rethrows the work\'s own error after its writes are answered, and awaits writes made after the batch', async () => {
      const grantId = id();
      const failure = await a.batch(async () => {
        await a.adapterFor('Grant').upsert(grantId, { accountId: 'psu-5' } as AdapterPayload, 60);
        throw new Error('the work failed');
      }).then(() => undefined, (error: unknown) => error);
      expect((failure as Error).message).to.equal('the work failed');
      expect(await b.adapterFor('Grant').find(grantId), 'its write was still stored').to.include({ accountId: 'psu-5' });

      let late: Promise<void> | undefined;
      await a.batch(async () => {
        late = new Promise<void>((resolve) => setTimeout(resolve, 20)).then(() => {
          probeA.failing = (key) => isRecordOf(key, 'Grant', grantId);
          return a.adapterFor('Grant').upsert(grantId, { accountId: 'late' } as AdapterPayload, 60);
        });
      });
      const lateFailure = await late!.then(() => undefined, (error: unknown) => error);
      expect(lateFailure, 'a write after the batch fails its own caller').to.be.instanceOf(StorageUnavailableError);
    });
  });
}
