/**
 * Storages for the tests: ones that change what one part of a real storage does and pass the rest
 * through, and the storage contract's backends and records, shared by the contract's files
 * (test/storage/contract-*.test.ts).
 */
import { randomBytes } from 'node:crypto';

import type { RecordAdapter as Adapter, RecordPayload as AdapterPayload } from '../../lib/storage.js';

import { MemoryStorage } from '../../adapters/memory.js';
import { RedisKeys } from '../../adapters/redis/keys.js';
import { RedisStorage } from '../../adapters/redis/storage.js';
import type { Storage } from '../../lib/storage.js';
import { GRANT_TAG_LENGTH, GRANT_TAG_SEPARATOR } from '../../lib/token-ids.js';
import { startRedis, startRedisCluster, type RawRedis, type TestRedis } from './redis.js';

/** `storage` with each model's adapter replaced by `wrap(model, adapter)`; everything else as is. */
export function withAdapters(storage: Storage, wrap: (model: string, adapter: Adapter) => Adapter): Storage {
  return {
    ...forwarding(() => storage, wrap),
    ...(storage.batch ? { batch: <T>(work: () => Promise<T>) => storage.batch!(work) } : {}),
  };
}

/**
 * A storage calling, at each call, the one `current` returns, its adapters passed through `wrap`
 * (`batch` aside: it is there or not only once a storage is).
 */
function forwarding(current: () => Storage, wrap = (_model: string, adapter: Adapter) => adapter): Storage {
  return {
    adapterFor: (model) => wrap(model, current().adapterFor(model)),
    removeClient: (clientId, options) => current().removeClient(clientId, options),
    grantIdsOf: (accountId) => current().grantIdsOf(accountId),
    clientIdsOf: (organization) => current().clientIdsOf(organization),
    incrementCounter: (name, windowSeconds, amount) => current().incrementCounter(name, windowSeconds, amount),
    readCounter: (name) => current().readCounter(name),
    resetCounter: (name) => current().resetCounter(name),
    incrementCountersWithin: (counters) => current().incrementCountersWithin(counters),
  };
}

interface ClockTime {
  readonly kind: 'clock';
  advance(ms: number): void;
}

interface RedisTime {
  readonly kind: 'redis';
  readonly raw: RawRedis;
  /** The keys RedisStorage writes. */
  readonly keys: RedisKeys;
}

/** One storage the contract runs against, and how its time is checked. */
export interface Backend {
  readonly storage: Storage;
  readonly time: ClockTime | RedisTime;
  /** The storage's current time, epoch milliseconds. */
  now(): number;
  /** Whether anything at all is stored for the record (on Redis: its key exists, payload or not). */
  stored(model: string, id: string): Promise<boolean>;
  close(): Promise<void>;
}

async function memoryBackend(): Promise<Backend> {
  let clock = Date.now();
  const storage = new MemoryStorage({ now: () => clock });
  return {
    storage,
    time: { kind: 'clock', advance: (ms) => { clock += ms; } },
    now: () => clock,
    stored: async (model, id) => (await storage.adapterFor(model).find(id)) !== undefined,
    close: async () => {},
  };
}

function redisBackend(start: () => Promise<TestRedis>): () => Promise<Backend> {
  return async () => {
    const redis = await start();
    const raw: RawRedis = redis.client;
    const keys = new RedisKeys(redis.keyPrefix);
    const storage = new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, timeout: 5000, subscriber: await redis.subscriber() });
    return {
      storage,
      time: { kind: 'redis', raw, keys },
      now: () => Date.now(),
      stored: async (model, id) => (await raw.exists(keys.record(model, id))) === 1,
      close: async () => {
        await storage.close();
        await redis.close();
      },
    };
  };
}

const BACKENDS: readonly (readonly [string, () => Promise<Backend>])[] = [
  ['MemoryStorage', memoryBackend],
  ['RedisStorage on a single Redis', redisBackend(startRedis)],
  ['RedisStorage on a three-master Redis Cluster', redisBackend(startRedisCluster)],
];

/**
 * What a contract suite works with: the backend of the run and shortcuts to its storage, each
 * turning to the backend started for the run when called (from the suite's tests).
 */
export interface Contract {
  readonly backend: Backend;
  readonly storage: Storage;
  adapter(model: string): Adapter;
  find(model: string, id: string): Promise<AdapterPayload | undefined | void>;
  /** Ids of a client, grant, PSU, organization and uid no other test uses. */
  fresh(): RecordIds;
}

/**
 * Runs the suites `define` declares against the memory storage with a movable clock, the Redis
 * storage on a single Redis and on a three-master Redis Cluster, each under
 * `storage contract: <backend>`.
 */
export function storageContract(define: (contract: Contract) => void): void {
  for (const [name, makeBackend] of BACKENDS) {
    describe(`storage contract: ${name}`, function storageContract() {
      this.timeout(10_000);
      let current: Backend | undefined;
      const backend = (): Backend => {
        if (!current) throw new Error('the backend is not started yet');
        return current;
      };

      before(async function setup() {
        this.timeout(30_000);
        current = await makeBackend();
      });
      after(async () => {
        await current?.close();
      });

      // The contract uses no batch.
      const storage: Storage = {
        ...forwarding(() => backend().storage),
        recordRevision: (model, id) => backend().storage.recordRevision?.(model, id),
      };
      define({
        backend: {
          storage,
          get time() {
            return backend().time;
          },
          now: () => backend().now(),
          stored: (model, id) => backend().stored(model, id),
          close: () => backend().close(),
        },
        storage,
        adapter: (model) => storage.adapterFor(model),
        find: (model, id) => storage.adapterFor(model).find(id),
        fresh: () => ({
          clientId: `client-${random(9)}`, grantId: random(), accountId: `psu-${random(9)}`, organization: `PSDFR-NCA-${random(6)}`, uid: random(16),
        }),
      });
    });
  }
}

/** A random id like oidc-provider's (43 base64url characters). */
export const random = (bytes = 32) => randomBytes(bytes).toString('base64url');
/** A code or token id of a grant, as lib/token-ids.ts builds it. */
export const taggedId = (grantId: string) => `${grantId.slice(0, GRANT_TAG_LENGTH)}${GRANT_TAG_SEPARATOR}${random()}`;

export const MODELS = [
  'Client', 'Grant', 'AccessToken', 'RefreshToken', 'AuthorizationCode', 'ClientCredentials', 'Session', 'Interaction',
  'RegistrationAccessToken',
] as const;
export type Model = typeof MODELS[number];

export interface RecordIds {
  clientId: string;
  grantId: string;
  accountId: string;
  organization: string;
  uid: string;
}

/** `a Grant`, `an AccessToken`. */
export const article = (model: string) => `${/^[AEIOU]/.test(model) ? 'an' : 'a'} ${model}`;

/** An id for a record of the model (codes and tokens tagged with their grant, as the product does). */
export function idFor(model: Model, grantId: string): string {
  if (model === 'Grant') return grantId;
  if (model === 'AccessToken' || model === 'RefreshToken' || model === 'AuthorizationCode') return taggedId(grantId);
  return random();
}

/** The fields a record of the model carries in the product. */
export function fieldsOf(model: Model, ids: RecordIds): AdapterPayload {
  switch (model) {
    case 'Client':
      return { client_id: ids.clientId, provider_legal_id: ids.organization, redirect_uris: ['https://tpp.example/cb'] };
    case 'Grant':
      return { kind: 'Grant', clientId: ids.clientId, accountId: ids.accountId, jti: ids.grantId };
    case 'AccessToken':
    case 'RefreshToken':
    case 'AuthorizationCode':
      return { kind: model, clientId: ids.clientId, grantId: ids.grantId, accountId: ids.accountId };
    case 'ClientCredentials':
    case 'RegistrationAccessToken':
      return { kind: model, clientId: ids.clientId };
    case 'Session':
    case 'Interaction':
      return { kind: model, uid: ids.uid, accountId: ids.accountId };
  }
}

/** A payload exercising nesting, arrays (empty ones too), unicode and numbers. */
export function richPayload(fields: AdapterPayload): AdapterPayload {
  return {
    ...fields,
    nested: { level1: { level2: { level3: [1, { deep: 'value' }, [[]]] } }, emptyObject: {} },
    list: ['x', 2, true, null, { inner: [] }],
    emptyList: [],
    unicode: 'Grüße – 你好 – مرحبا – 🏦💶 – e\u0301 – "quotes" \\ backslash\nnew line\ttab \u0000 nul',
    loneSurrogate: '\ud800',
    numbers: { int: 42, negative: -7, float: 3.141592653589793, tiny: 1e-7, huge: 1.7976931348623157e308, safe: Number.MAX_SAFE_INTEGER, zero: 0 },
    flags: { yes: true, no: false, nothing: null },
  };
}
