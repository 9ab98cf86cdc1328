import type { RecordAdapter as Adapter } from '../../lib/storage.js';

import { checkCounterGroup, type CounterLimit, type Storage, type StorageObserver } from '../../lib/storage.js';
import { RecordCache } from '../record-cache.js';
import { redisAdapter } from './adapter.js';
import { SharedRecordCache } from './cache.js';
import { RedisCalls } from './calls.js';
import type { RedisCommands, RedisSubscriber } from './client.js';
import { isRecordOf, parseKey, RedisKeys } from './keys.js';
import { RedisRecords } from './records.js';
import { countWithin } from './scripts.js';

export type { RedisCommands, RedisSubscriber, RedisTransaction } from './client.js';

export interface RedisStorageOptions {
  /** Prefix of every key, e.g. `psd2:` (no braces: they would change the Redis Cluster hash slot). Default `psd2:`. */
  readonly keyPrefix?: string;
  /**
   * Milliseconds a storage call may take before the request fails with `temporarily_unavailable`
   * (503); a client that is not connected fails at once. Default 2000.
   */
  readonly timeout?: number;
  /**
   * A second connection of the host app's, connected, for the cache to listen on (e.g.
   * `client.duplicate()`, or `cluster.duplicate()` for a Redis Cluster); the host closes it after
   * the storage's `close()`. Without it, nothing is kept in memory: every read goes to Redis.
   */
  readonly subscriber?: RedisSubscriber;
  /**
   * Clients, interactions, grants and browser sessions, read again and again during an
   * authorization, are kept in this instance's memory once read or written, when the host app gives
   * a `subscriber`. Each write of one publishes its key on the channel `<keyPrefix>changes`, in
   * the same transaction; every instance listens there on its subscriber and forgets what another
   * instance changed. Records are kept only while the instance hears its own heartbeat on that
   * channel, which it sends every second from the time it is given a subscriber until `close()`.
   * `maxEntries` (default 10000) bounds the memory, `maxAge` (ms, default 10000) how long a record
   * changed outside the storages (e.g. by hand) may still be served. `false` turns the cache off,
   * and the announcements with it, as does giving no subscriber: every instance sharing the key
   * prefix should be given a subscriber, or none. Default: on, when a subscriber is given.
   */
  readonly cache?: false | { readonly maxEntries?: number; readonly maxAge?: number };
  /** Told of a misconfiguration found while running, e.g. Redis refusing the cache's channel. */
  readonly onWarning?: (message: string) => void;
}

/**
 * Redis storage for production: every oidc-provider model, the client, PSU, organization, grant,
 * uid and user-code indexes, and the counters of the sign-in limits. Each record is one hash
 * written with its expiry in the same transaction; tokens of a grant share the grant's hash slot,
 * so `revokeByGrantId` is one atomic script on a single Redis and on Redis Cluster alike.
 *
 * The storage opens no connection of its own: the host app creates and connects `client`
 * (`createClient` or `createCluster` of `redis`) and, for the cache, `options.subscriber`, and
 * closes both after {@link RedisStorage.close}.
 */
export class RedisStorage implements Storage {
  readonly #redis: RedisCommands;
  readonly #keys: RedisKeys;
  readonly #calls: RedisCalls;
  readonly #records: RedisRecords;
  readonly #cache: SharedRecordCache | undefined;
  readonly #adapters = new Map<string, Adapter>();

  constructor(client: RedisCommands, options: RedisStorageOptions = {}) {
    this.#keys = new RedisKeys(options.keyPrefix ?? 'psd2:');
    this.#redis = client.withCommandOptions ? client.withCommandOptions({ timeout: 0 }) : client;
    this.#calls = new RedisCalls(this.#redis, options.timeout ?? 2000);
    for (const name of ['maxEntries', 'maxAge'] as const) {
      const value = options.cache ? options.cache[name] : undefined;
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new TypeError(`cache.${name} must be a positive integer, not ${String(value)}`);
    }
    if (options.cache !== false && options.subscriber) {
      const records = new RecordCache(options.cache?.maxEntries ?? 10_000, options.cache?.maxAge ?? 10_000);
      const { channel } = this.#keys;
      this.#cache = new SharedRecordCache(records, channel, (message) => this.#redis.multi().publish(channel, message).exec(), options.subscriber, options.onWarning);
    }
    this.#records = new RedisRecords(this.#redis, this.#keys, this.#cache);
  }

  /**
   * Times every call into `observer` (the server's metrics, `storage_operation_duration_seconds`)
   * and counts the record cache's hits and misses; the server calls it once it is created.
   */
  observe(observer: StorageObserver): void {
    this.#calls.observe(observer);
    this.#records.observer = observer;
  }

  /** Whether records are kept in memory now (the cache is on and hears its own heartbeat). */
  get caching(): boolean {
    return this.#cache?.kept !== undefined;
  }

  /**
   * Stops the cache's heartbeat and listening; the connections given stay the host app's to close.
   * Without a subscriber, there is nothing to stop.
   */
  async close(): Promise<void> {
    this.#cache?.close();
  }

  /**
   * Runs `work` with its record writes pipelined: each is sent at once and `work` goes on without
   * waiting for Redis to answer it; the batch then waits for every answer and fails with the first
   * failure. Reads that follow a write see it: Redis answers a connection in order, and a key's
   * reads and writes go to its master (do not read from replicas).
   */
  batch<T>(work: () => Promise<T>): Promise<T> {
    return this.#calls.batch(work);
  }

  /**
   * While the cache keeps the record (a model it keeps: clients, grants, interactions, sessions),
   * what stands for it there; otherwise undefined (the record is then read).
   */
  recordRevision(model: string, id: string): object | undefined {
    return this.#records.revision(model, this.#keys.record(model, id));
  }

  adapterFor(model: string): Adapter {
    let adapter = this.#adapters.get(model);
    if (!adapter) {
      adapter = redisAdapter(model, this.#records, this.#calls);
      this.#adapters.set(model, adapter);
    }
    return adapter;
  }

  removeClient(clientId: string, options: { keepMetadata?: boolean } = {}): Promise<void> {
    return this.#calls.call('removeClient', async () => {
      const index = this.#keys.clientIndex(clientId);
      const keys = await this.#redis.zRange(index, 0, -1);
      const kept = (key: string) => options.keepMetadata && (isRecordOf(key, 'Client', clientId) || isRecordOf(key, 'RegistrationAccessToken'));
      const removed = keys.filter((key) => !kept(key));
      if (!options.keepMetadata) {
        const metadata = await this.#records.read(this.#keys.record('Client', clientId));
        if (metadata) await this.#records.unlist('Client', clientId, metadata);
      }
      // Grants leave their PSU's index with them.
      const grantKeys = removed.filter((key) => isRecordOf(key, 'Grant'));
      await Promise.all(grantKeys.map(async (key) => {
        const payload = await this.#records.read(key);
        const grant = parseKey(key);
        if (payload && grant) await this.#records.unlist('Grant', grant.id, payload);
      }));
      // Records live in their own slots: deleted one by one (each grant's tokens stay atomic through revokeByGrantId).
      await Promise.all(removed.map((key) => this.#records.delete(key)));
      if (removed.length) await this.#redis.zRem(index, removed);
      if (!options.keepMetadata) await this.#redis.del(index);
    });
  }

  grantIdsOf(accountId: string): Promise<string[]> {
    return this.#calls.call('grantIdsOf', () => this.#records.existing(this.#keys.accountIndex(accountId), 'Grant'));
  }

  clientIdsOf(organization: string): Promise<string[]> {
    return this.#calls.call('clientIdsOf', () => this.#records.existing(this.#keys.organizationIndex(organization), 'Client'));
  }

  incrementCounter(name: string, windowSeconds: number, amount = 1): Promise<number> {
    return this.#calls.call('incrementCounter', async () => {
      const key = this.#keys.counter(name);
      const [value] = await this.#redis.multi().incrBy(key, amount).expire(key, windowSeconds, 'NX').exec();
      return Number(value);
    });
  }

  async incrementCountersWithin(counters: readonly CounterLimit[]): Promise<boolean> {
    checkCounterGroup(counters);
    if (!counters.length) return true;
    return this.#calls.call('incrementCountersWithin', () => countWithin(this.#redis, counters.map(({ name }) => this.#keys.counter(name)), counters));
  }

  readCounter(name: string): Promise<number> {
    return this.#calls.call('readCounter', async () => Number(await this.#redis.get(this.#keys.counter(name)) ?? 0));
  }

  resetCounter(name: string): Promise<void> {
    return this.#calls.call('resetCounter', async () => {
      await this.#redis.del(this.#keys.counter(name));
    });
  }
}
