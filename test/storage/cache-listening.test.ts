/**
 * RedisStorage's cache and its listening connection: records are kept only while the storage
 * hears its own heartbeat on the subscriber the host app gave; nothing is kept when Redis refuses
 * the channel, or when listening cannot start; a dropped connection is listened on again.
 */
import { randomBytes } from 'node:crypto';

import { expect } from 'chai';
import type { RecordPayload as AdapterPayload } from '../../lib/storage.js';
import { createClient } from 'redis';

import { RedisStorage } from '../../adapters/redis/storage.js';
import { newProbe, probed, startRedis, until, type Probe, type TestRedis } from '../support/redis.js';

const id = () => randomBytes(12).toString('base64url');

describe('RedisStorage cache, when its listening connection drops', function drops() {
  this.timeout(30_000);
  let redis: TestRedis;
  let storage: RedisStorage;
  let probe: Probe;
  let admin: ReturnType<typeof createClient>;

  /**
   * A connected client of a Redis user made for the test with ACL `rules`, and a function
   * destroying the client and removing the user.
   */
  async function clientAs(user: string, rules: readonly string[]) {
    const password = randomBytes(12).toString('hex');
    await admin.sendCommand(['ACL', 'SETUSER', user, 'on', `>${password}`, ...rules]);
    const url = new URL(redis.processes[0]?.url ?? process.env.REDIS_URL!);
    url.username = user;
    url.password = password;
    const client = createClient({ url: url.href });
    client.on('error', () => { /* the storage reports */ });
    await client.connect();
    return {
      client,
      remove: async () => {
        client.destroy();
        await admin.sendCommand(['ACL', 'DELUSER', user]);
      },
    };
  }

  before(async () => {
    redis = await startRedis();
    probe = newProbe();
    storage = new RedisStorage(probed(redis.client, probe), { keyPrefix: redis.keyPrefix, subscriber: await redis.subscriber() });
    const url = redis.processes[0]?.url ?? process.env.REDIS_URL;
    admin = createClient({ url });
    await admin.connect();
    await until('it listens', () => storage.caching, 10_000);
  });
  after(async () => {
    await storage?.close();
    admin?.destroy();
    await redis?.close();
  });

  it('stops keeping records when its own heartbeat stops coming back, and forgets them; keeps them again once it does', async function silence() {
    this.timeout(15_000);
    const clientId = id();
    await storage.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined);
    await storage.adapterFor('Client').find(clientId);
    const reads = () => probe.reads.filter((key) => key.endsWith(clientId)).length;
    expect(reads()).to.equal(0);
    probe.mute = true;
    const silentFor = await until('it stops keeping records', () => !storage.caching, 6000);
    expect(silentFor, 'within 3 s of silence (and a heartbeat)').to.be.below(4500);
    await storage.adapterFor('Client').find(clientId);
    expect(reads(), 'read from Redis while silent').to.equal(1);
    probe.mute = false;
    await until('it keeps records again', () => storage.caching, 3000);
    await storage.adapterFor('Client').find(clientId);
    await storage.adapterFor('Client').find(clientId);
    expect(reads(), 'what it kept before was forgotten; read once, then kept').to.equal(2);
  });

  it('keeps nothing and announces nothing when Redis refuses it the channel (ACL), and no write fails', async () => {
    const { client: limited, remove } = await clientAs('no-channels', ['~*', '+@all', 'resetchannels']);
    const limitedSubscriber = limited.duplicate();
    limitedSubscriber.on('error', () => { /* as above */ });
    await limitedSubscriber.connect();
    const warnings: string[] = [];
    const refused = new RedisStorage(limited, { keyPrefix: redis.keyPrefix, subscriber: limitedSubscriber, onWarning: (message) => warnings.push(message) });
    try {
      // The first write may go out before the storage learns of the refusal: sent again without its announcement.
      const clientId = id();
      await refused.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined);
      await refused.adapterFor('Interaction').destroy(id());
      await until('the refusal is known', () => warnings.length > 0, 2000);
      expect(refused.caching).to.equal(false);
      expect(warnings, 'told once').to.have.length(1);
      expect(warnings[0]).to.match(new RegExp(`refused the channel ${redis.keyPrefix}changes .*NOPERM.*grant the Redis user &${redis.keyPrefix}changes`));
      await refused.adapterFor('Grant').upsert(id(), { accountId: 'psu-acl' } as AdapterPayload, 60);
      expect(await refused.adapterFor('Client').find(clientId)).to.include({ client_id: clientId });
    } finally {
      await refused.close();
      limitedSubscriber.destroy();
      await remove();
    }
  });

  it('keeps nothing, and says so, when listening cannot start; a failing onWarning harms nothing', async () => {
    const told: string[] = [];
    // A subscriber whose user may not SUBSCRIBE at all (the channel is not what Redis refuses).
    const { client: unsubscribable, remove } = await clientAs('no-subscribe', ['~*', 'allchannels', '+@all', '-subscribe']);
    const deaf = new RedisStorage(probed(redis.client, newProbe()), {
      keyPrefix: redis.keyPrefix,
      subscriber: unsubscribable,
      onWarning: (message) => {
        told.push(message);
        throw new Error('the host app\'s handler fails');
      },
    });
    try {
      await until('it says so', () => told.length > 0, 3000);
      expect(told[0]).to.match(/^listening on .*changes failed \(.+\): records are not kept in memory$/);
      const clientId = id();
      await deaf.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined);
      expect(await deaf.adapterFor('Client').find(clientId)).to.include({ client_id: clientId });
      expect(deaf.caching).to.equal(false);
    } finally {
      await deaf.close();
      await remove();
    }
  });

  it('forgets what it kept, and keeps records again once subscribed anew', async () => {
    const clientId = id();
    await storage.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined);
    await storage.adapterFor('Client').find(clientId);
    expect(probe.reads.filter((key) => key.endsWith(clientId))).to.have.length(0);
    const listeners = async () => new Set(String(await admin.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub'])).match(/^id=\d+/gm) ?? []);
    const before = await listeners();
    expect(before.size, 'the storage listens on a connection of its own').to.be.at.least(1);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
    await until('it listens again, on a new connection', async () => [...await listeners()].some((client) => !before.has(client)) && storage.caching, 10_000);
    await storage.adapterFor('Client').find(clientId);
    await storage.adapterFor('Client').find(clientId);
    expect(probe.reads.filter((key) => key.endsWith(clientId)), 'read once after the drop, then kept').to.have.length(1);
  });
});
