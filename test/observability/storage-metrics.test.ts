/**
 * The storage's metrics as the server feeds them on a real Redis (spawned, or REDIS_URL): the
 * calls timed in the Redis storage's own call wrapper, the hit ratio of its record cache and of
 * the suspension cache, `pubsub_up` from the cache's heartbeat, and `storage_up` right from
 * start-up, before any readiness probe.
 */
import { expect } from 'chai';

import { RedisStorage } from '../../adapters/redis/storage.js';
import { registerClient, type TestClient } from '../authorization/helpers.js';
import { startRedis, until, type TestRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';
import { sample } from './helpers.js';

const scrape = async (server: TestServer) => (await server.auth.metrics.scrape()).body;

/** Waits until Redis answered everything sent before on the storage's connection, and the answers were read. */
async function drained(redis: TestRedis): Promise<void> {
  await redis.client.get(`${redis.keyPrefix}drain`);
  await new Promise((resolve) => setImmediate(resolve));
}

describe('observability: the storage in the metrics, on Redis', function storageMetrics() {
  this.timeout(30_000);
  let redis: TestRedis;
  let storage: RedisStorage;
  let server: TestServer;
  let pisp: TestClient;

  before(async () => {
    redis = await startRedis();
    storage = new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, subscriber: await redis.subscriber() });
    server = await startServer({ options: { storage } });
    await drained(redis);
  });
  after(async () => {
    await server?.close();
    await storage?.close();
    await redis?.close();
  });

  const token = () => server.request(pisp.tpp).post('/oauth2/token').type('form')
    .send({ grant_type: 'client_credentials', scope: 'pisp', client_id: pisp.clientId });

  it('says storage_up 1 from start-up, before anyone asked for readiness', async () => {
    expect(sample(await scrape(server), 'psd2_as_storage_up')).to.equal(1);
  });

  it('times the calls in the Redis storage by operation', async () => {
    pisp = await registerClient(server, { roles: ['PSP_PI'], body: { scope: 'pisp', redirect_uris: undefined } });
    const count = (text: string, operation: string) => sample(text, 'psd2_as_storage_operation_duration_seconds_count', { operation }) ?? 0;
    const before = await scrape(server);
    const res = await token();
    expect(res.status, res.text).to.equal(200);
    const after = await scrape(server);
    expect(count(after, 'find') - count(before, 'find')).to.be.above(0);
    expect(count(after, 'upsert') - count(before, 'upsert')).to.be.above(0);
    expect(sample(after, 'psd2_as_storage_operation_duration_seconds_sum', { operation: 'find' })).to.be.above(0);
    expect(sample(after, 'psd2_as_storage_errors_total', { operation: 'find' }) ?? 0).to.equal(0);
  });

  it('says pubsub_up 1 while the cache hears its heartbeat, and counts the record cache\'s hits', async () => {
    await until('the cache hears its heartbeat', () => storage.caching, 5000);
    expect(sample(await scrape(server), 'psd2_as_pubsub_up')).to.equal(1);
    const hits = async () => sample(await scrape(server), 'psd2_as_cache_lookups_total', { cache: 'records', result: 'hit' }) ?? 0;
    const misses = async () => sample(await scrape(server), 'psd2_as_cache_lookups_total', { cache: 'records', result: 'miss' }) ?? 0;
    const [hitsBefore, missesBefore] = [await hits(), await misses()];
    expect((await token()).status).to.equal(200);
    expect((await token()).status).to.equal(200);
    // The client is read once from Redis at most, then from memory.
    expect(await hits()).to.be.above(hitsBefore);
    expect(await misses() - missesBefore).to.be.at.most(1);
  });

  it('counts the suspension cache\'s hits and misses', async () => {
    const count = async (result: string) => sample(await scrape(server), 'psd2_as_cache_lookups_total', { cache: 'suspensions', result }) ?? 0;
    const [hits, misses] = [await count('hit'), await count('miss')];
    expect((await token()).status).to.equal(200);
    expect((await token()).status).to.equal(200);
    expect(await count('hit') + await count('miss')).to.be.at.least(hits + misses + 2);
    expect(await count('hit')).to.be.above(hits);
  });

  it('says pubsub_up 0 for a Redis storage without a subscriber, where nothing is kept', async () => {
    const plain = new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix });
    const other = await startServer({ options: { storage: plain } });
    try {
      expect(sample(await scrape(other), 'psd2_as_pubsub_up')).to.equal(0);
    } finally {
      await other.close();
    }
  });

  it('says storage_up 0 from start-up when Redis is not reachable', async function unreachable() {
    if (!redis.processes.length) this.skip();
    await redis.processes[0]!.stop();
    try {
      const other = await startServer({ options: { storage: new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix }) } });
      try {
        await new Promise((resolve) => setImmediate(resolve));
        expect(sample(await scrape(other), 'psd2_as_storage_up')).to.equal(0);
      } finally {
        await other.close();
      }
    } finally {
      await redis.processes[0]!.start();
    }
  });

  it('times nothing on the memory storage, whose calls are the request\'s own time', async () => {
    const memory = await startServer();
    try {
      const client = await registerClient(memory, { roles: ['PSP_PI'], body: { scope: 'pisp', redirect_uris: undefined } });
      const res = await memory.request(client.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId });
      expect(res.status, res.text).to.equal(200);
      const text = await scrape(memory);
      expect(text).not.to.match(/^psd2_as_storage_operation_duration_seconds_count\{/m);
      expect(sample(text, 'psd2_as_storage_up')).to.equal(1);
    } finally {
      await memory.close();
    }
  });
});
