/**
 * RedisStorage's memory of clients, interactions, grants and sessions, kept coherent across
 * instances by the announcements on `<keyPrefix>changes`; and its batches, whose writes are
 * pipelined and answered for together. On a single Redis and on a Redis Cluster.
 */
import { randomBytes } from 'node:crypto';

import { expect } from 'chai';
import type { AdapterPayload } from 'oidc-provider';
import { createClient } from 'redis';

import { RedisStorage, type RedisCommands, type RedisTransaction } from '../../adapters/redis.js';
import { StorageUnavailableError } from '../../lib/errors.js';
import { authorizationUrl, entryPath, exchangeCode, openPages, redirectParams, registerClient, requestParams, sandboxAuthorization, submit } from '../authorization/helpers.js';
import { LEAK } from '../support/leak.js';
import { sandboxTpp } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser } from '../support/psu-browser.js';
import { startRedis, startRedisCluster, watchedTransaction, type TestRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';

/** What the storage asked Redis for, and which of its transactions are made to fail. */
interface Probe {
  /** Keys read with HGETALL, in order. */
  readonly reads: string[];
  /** A transaction whose first key this picks fails without reaching Redis. */
  failing: (key: string) => boolean;
  /** Transactions holding only a PUBLISH (the cache's heartbeats) are dropped silently. */
  mute?: boolean;
}

/** `client` as the storage sees it, recording its reads and failing the transactions `probe` picks. */
function probed(client: RedisCommands, probe: Probe, duplicate = true): RedisCommands {
  const multi = (): RedisTransaction => watchedTransaction(client.multi(), (first, _queued, run) => {
    if (first === undefined && probe.mute) return Promise.resolve([]);
    return first !== undefined && probe.failing(first) ? Promise.reject(new Error(`refused for the test: ${first}`)) : run();
  });
  return {
    get isReady() {
      return client.isReady;
    },
    hGetAll: (key) => {
      probe.reads.push(key);
      return client.hGetAll(key);
    },
    get: (key) => client.get(key),
    del: (keys) => client.del(keys),
    zRange: (key, start, stop) => client.zRange(key, start, stop),
    zRangeByScore: (key, min, max) => client.zRangeByScore(key, min, max),
    zRem: (key, members) => client.zRem(key, members),
    eval: (script, options) => client.eval(script, options),
    multi,
    ...(client.withCommandOptions ? { withCommandOptions: (options: { readonly timeout: number }) => probed(client.withCommandOptions!(options), probe, duplicate) } : {}),
    ...(duplicate && client.duplicate ? { duplicate: () => client.duplicate!() } : {}),
  };
}

function newProbe(): Probe {
  return { reads: [], failing: () => false };
}

/** Polls `check` every 10 ms until it holds, or fails after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 2000): Promise<number> {
  const started = Date.now();
  while (!await check()) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

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

    const open = (client: RedisCommands, options: ConstructorParameters<typeof RedisStorage>[1] = {}) => {
      const storage = new RedisStorage(client, { keyPrefix: redis.keyPrefix, ...options });
      opened.push(storage);
      return storage;
    };
    const readsOf = (probe: Probe, model: string, recordId: string) => probe.reads.filter((key) => key.endsWith(`}:${model}:${recordId}`)).length;

    before(async () => {
      redis = await start();
      probeA = newProbe();
      a = open(probed(redis.client, probeA));
      b = open(redis.client);
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
      await b.adapterFor('Client').upsert(clientId, { client_id: clientId, client_name: 'Kept' } as AdapterPayload, undefined as unknown as number);
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
      await b.adapterFor('Client').upsert(clientId, { client_id: clientId, client_name: 'First' } as AdapterPayload, undefined as unknown as number);
      await b.adapterFor('Grant').upsert(grantId, { accountId: 'psu-2', clientId } as AdapterPayload, 60);
      await b.adapterFor('Interaction').upsert(interactionId, { uid: interactionId } as AdapterPayload, 60);
      expect(await a.adapterFor('Client').find(clientId)).to.include({ client_name: 'First' });
      expect(await a.adapterFor('Grant').find(grantId)).to.include({ accountId: 'psu-2' });
      expect(await a.adapterFor('Interaction').find(interactionId)).to.include({ uid: interactionId });

      await b.adapterFor('Client').upsert(clientId, { client_id: clientId, client_name: 'Second' } as AdapterPayload, undefined as unknown as number);
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
      const short = open(redis.client, { cache: { maxAge: 400 } });
      await until('it listens', () => short.caching, 10_000);
      const clientId = id();
      await short.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined as unknown as number);
      expect(await short.adapterFor('Client').find(clientId)).to.include({ client_id: clientId });
      await redis.client.del(`${redis.keyPrefix}{r:${clientId}}:Client:${clientId}`);
      expect(await short.adapterFor('Client').find(clientId), 'still kept').to.include({ client_id: clientId });
      await new Promise((resolve) => setTimeout(resolve, 450));
      expect(await short.adapterFor('Client').find(clientId), 'after maxAge').to.equal(undefined);
    });

    it('refuses cache sizes and ages that are not positive integers', () => {
      for (const cache of [{ maxEntries: 0 }, { maxAge: -1 }, { maxAge: 1.5 }, { maxEntries: Number.NaN }]) {
        expect(() => new RedisStorage(redis.client, { cache }), JSON.stringify(cache)).to.throw(TypeError, /cache\.max(Entries|Age) must be a positive integer/);
      }
    });

    it('keeps nothing with cache: false, nor when the client cannot be duplicated', async () => {
      for (const [what, storage, probe] of (() => {
        const off = newProbe();
        const bare = newProbe();
        return [
          ['cache: false', open(probed(redis.client, off), { cache: false }), off],
          ['no duplicate()', open(probed(redis.client, bare, false)), bare],
        ] as const;
      })()) {
        const clientId = id();
        await storage.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined as unknown as number);
        await storage.adapterFor('Client').find(clientId);
        await storage.adapterFor('Client').find(clientId);
        expect(readsOf(probe, 'Client', clientId), what).to.equal(2);
        expect(storage.caching, what).to.equal(false);
      }
    });

    it('keeps nothing once closed', async () => {
      const storage = open(probed(redis.client, probeA));
      await until('it listens', () => storage.caching, 10_000);
      const clientId = id();
      await storage.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined as unknown as number);
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
      probeA.failing = (key) => key.endsWith(`}:Grant:${grantId}`);
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
          probeA.failing = (key) => key.endsWith(`}:Grant:${grantId}`);
          return a.adapterFor('Grant').upsert(grantId, { accountId: 'late' } as AdapterPayload, 60);
        });
      });
      const lateFailure = await late!.then(() => undefined, (error: unknown) => error);
      expect(lateFailure, 'a write after the batch fails its own caller').to.be.instanceOf(StorageUnavailableError);
    });
  });
}

describe('RedisStorage cache, when its listening connection drops', function drops() {
  this.timeout(30_000);
  let redis: TestRedis;
  let storage: RedisStorage;
  let probe: Probe;
  let admin: ReturnType<typeof createClient>;

  before(async () => {
    redis = await startRedis();
    probe = newProbe();
    storage = new RedisStorage(probed(redis.client, probe), { keyPrefix: redis.keyPrefix });
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
    await storage.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined as unknown as number);
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
    const password = randomBytes(12).toString('hex');
    await admin.sendCommand(['ACL', 'SETUSER', 'no-channels', 'on', `>${password}`, '~*', '+@all', 'resetchannels']);
    const url = new URL(redis.processes[0]?.url ?? process.env.REDIS_URL!);
    url.username = 'no-channels';
    url.password = password;
    const limited = createClient({ url: url.href });
    limited.on('error', () => { /* the storage reports */ });
    await limited.connect();
    const warnings: string[] = [];
    const refused = new RedisStorage(limited as unknown as RedisCommands, { keyPrefix: redis.keyPrefix, onWarning: (message) => warnings.push(message) });
    try {
      // The first write may go out before the storage learns of the refusal: sent again without its announcement.
      const clientId = id();
      await refused.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined as unknown as number);
      await refused.adapterFor('Interaction').destroy(id());
      await until('the refusal is known', () => warnings.length > 0, 2000);
      expect(refused.caching).to.equal(false);
      expect(warnings, 'told once').to.have.length(1);
      expect(warnings[0]).to.match(new RegExp(`refused the channel ${redis.keyPrefix}changes .*NOPERM.*grant the Redis user &${redis.keyPrefix}changes`));
      await refused.adapterFor('Grant').upsert(id(), { accountId: 'psu-acl' } as AdapterPayload, 60);
      expect(await refused.adapterFor('Client').find(clientId)).to.include({ client_id: clientId });
    } finally {
      await refused.close();
      limited.destroy();
      await admin.sendCommand(['ACL', 'DELUSER', 'no-channels']);
    }
  });

  it('keeps nothing, and says so, when listening cannot start; a failing onWarning harms nothing', async () => {
    const told: string[] = [];
    const unreachable = {
      ...probed(redis.client, newProbe(), false),
      duplicate: () => createClient({ url: 'redis://127.0.0.1:1', socket: { reconnectStrategy: false, connectTimeout: 500 } }),
    } as unknown as RedisCommands;
    const deaf = new RedisStorage(unreachable, {
      keyPrefix: redis.keyPrefix,
      onWarning: (message) => {
        told.push(message);
        throw new Error('the host app\'s handler fails');
      },
    });
    try {
      await until('it says so', () => told.length > 0, 3000);
      expect(told[0]).to.match(/^listening on .*changes failed \(.+\): records are not kept in memory$/);
      const clientId = id();
      await deaf.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined as unknown as number);
      expect(await deaf.adapterFor('Client').find(clientId)).to.include({ client_id: clientId });
      expect(deaf.caching).to.equal(false);
    } finally {
      await deaf.close();
    }
  });

  it('forgets what it kept, and keeps records again once subscribed anew', async () => {
    const clientId = id();
    await storage.adapterFor('Client').upsert(clientId, { client_id: clientId } as AdapterPayload, undefined as unknown as number);
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

describe('the server on RedisStorage with its cache and pipelined writes', function served() {
  this.timeout(40_000);
  let redis: TestRedis;
  let probe: Probe;
  let first: TestServer;
  let second: TestServer;

  before(async () => {
    redis = await startRedis();
    probe = newProbe();
    const storages = [new RedisStorage(probed(redis.client, probe), { keyPrefix: redis.keyPrefix }), new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix })];
    await until('both instances listen', () => storages.every((storage) => storage.caching), 10_000);
    first = await startServer({ options: { storage: storages[0] } });
    second = await startServer({ options: { storage: storages[1] } });
  });
  afterEach(() => {
    probe.failing = () => false;
  });
  after(async () => {
    await first?.close();
    await second?.close();
    await Promise.all([first, second].map((server) => (server?.auth.storage as RedisStorage | undefined)?.close()));
    await redis?.close();
  });

  it('answers a code exchange whose tokens cannot be stored with 503, and no token', async () => {
    const client = await registerClient(first, { tpp: await sandboxTpp({ organization: 'Pipelined Tokens', authorisationNumber: 'PIPE1' }) });
    const { location, pair } = await sandboxAuthorization(first, client);
    const code = redirectParams(location).get('code')!;
    probe.failing = (key) => key.includes('}:AccessToken:');
    const res = await exchangeCode(first, client, code, pair);
    expect(res.status, res.text).to.equal(503);
    expect(res.body).to.include({ error: 'temporarily_unavailable' });
    expect(res.body.access_token).to.equal(undefined);
    expect(res.text).not.to.match(LEAK);
    const issued = () => first.logs.filter((line) => line.fields.event === 'token.issued' && line.fields.clientId === client.clientId);
    expect(issued(), 'no token.issued audit line for tokens that were not stored').to.deep.equal([]);

    probe.failing = () => false;
    const again = await sandboxAuthorization(first, client);
    const ok = await exchangeCode(first, client, redirectParams(again.location).get('code')!, again.pair);
    expect(ok.status, ok.text).to.equal(200);
    expect(issued(), 'logged once stored').to.have.length(1);
  });

  it('answers a PSU coming back from consent with a 503 page, not a code, when the code cannot be stored', async () => {
    const client = await registerClient(first, { tpp: await sandboxTpp({ organization: 'Pipelined Codes', authorisationNumber: 'PIPE2' }) });
    const browser = new PsuBrowser();
    probe.failing = (key) => key.includes('}:AuthorizationCode:');
    const signIn = await openPages(first, browser, authorizationUrl(first, requestParams(client), entryPath('sandbox')));
    const consent = await submit(first, browser, signIn, '/signin', { psu: 'sandbox-anna' });
    const decided = await browser.post(formAction(consent, '/consent'), { csrf: csrfOf(consent), decision: 'grant', accounts: 'sb-anna-1' });
    expect(decided.location, 'the consent itself went through').to.match(new RegExp(`^${first.issuer}/`));
    const back = await browser.get(decided.location!);
    expect(back.status, back.text.slice(0, 300)).to.equal(503);
    expect(back.location).to.equal(undefined);
    expect(back.text).to.contain('Service temporarily unavailable');
  });

  it('refuses at once, on another instance that had it in memory, a client deleted with RFC 7592', async () => {
    const client = await registerClient(first, { roles: ['PSP_PI'], tpp: await sandboxTpp({ roles: ['PSP_PI'], organization: 'Deleted Elsewhere', authorisationNumber: 'PIPE3' }) });
    const issue = (on: TestServer) => on.request(client.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId });
    expect((await issue(second)).status, 'the second instance keeps the client').to.equal(200);
    const deleted = await first.request(client.tpp).delete(`/oauth2/register/${client.clientId}`);
    expect(deleted.status, deleted.text).to.equal(204);
    await until('the second instance refuses the client', async () => (await issue(second)).status === 401, 1000);
  });
});
