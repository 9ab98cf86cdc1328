import { AsyncLocalStorage } from 'node:async_hooks';

import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';

import { StorageUnavailableError } from '../lib/errors.js';
import { GRANT_TAG_LENGTH, GRANT_TAG_SEPARATOR } from '../lib/token-ids.js';
import { RecordCache } from './record-cache.js';
import { SharedRecordCache, type RedisSubscriber } from './redis-cache.js';
import { checkCounterGroup, counterGroup, type CounterLimit, type Storage } from '../lib/storage.js';
import { accountOf, consumeFailure, organizationOf, ownerOf } from './records.js';

/**
 * The commands this storage sends, as node-redis (v5+) names them. A client from `createClient()`
 * or a cluster from `createCluster()` both fit.
 */
export interface RedisCommands {
  readonly isReady: boolean;
  hGetAll(key: string): Promise<Record<string, string>>;
  get(key: string): Promise<string | null>;
  del(keys: string | string[]): Promise<number>;
  zRange(key: string, start: number, stop: number): Promise<string[]>;
  zRangeByScore(key: string, min: number | string, max: number | string): Promise<string[]>;
  zRem(key: string, members: string | string[]): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  multi(): RedisTransaction;
  /**
   * node-redis: the same client with other command options. The storage turns node-redis's own
   * per-command timeout off for its commands (it enforces `timeout` itself): that timer is an
   * AbortSignal that keeps each request's state alive for its whole length after the answer.
   */
  withCommandOptions?(options: { readonly timeout: number }): RedisCommands;
  /**
   * node-redis: a new, unconnected client with the same options. The storage listens on it to
   * changes other instances make to the records it keeps in memory (see `cache`).
   */
  duplicate?(): RedisSubscriber;
}

/** The part of a node-redis MULTI this storage uses. */
export interface RedisTransaction {
  del(key: string): RedisTransaction;
  hSet(key: string, field: string, value: string): RedisTransaction;
  pExpire(key: string, ms: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): RedisTransaction;
  pExpireAt(key: string, at: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): RedisTransaction;
  persist(key: string): RedisTransaction;
  zAdd(key: string, member: { score: number; value: string }): RedisTransaction;
  zRemRangeByScore(key: string, min: number | string, max: number | string): RedisTransaction;
  set(key: string, value: string, options?: { PX?: number }): RedisTransaction;
  incrBy(key: string, amount: number): RedisTransaction;
  publish(channel: string, message: string): RedisTransaction;
  expire(key: string, seconds: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): RedisTransaction;
  exec(): Promise<unknown[]>;
}

export type { RedisSubscriber } from './redis-cache.js';

export interface RedisStorageOptions {
  /** Prefix of every key, e.g. `psd2:` (no braces: they would change the Redis Cluster hash slot). Default `psd2:`. */
  readonly keyPrefix?: string;
  /**
   * Milliseconds a storage call may take before the request fails with `temporarily_unavailable`
   * (503); a client that is not connected fails at once. Default 2000.
   */
  readonly timeout?: number;
  /**
   * Clients, interactions, grants and browser sessions, read again and again during an
   * authorization, are kept in this instance's memory once read or written. Each write of one
   * publishes its key on the channel `<keyPrefix>changes`, in the same transaction; every instance
   * listens there on a connection of its own (`client.duplicate()`) and forgets what another
   * instance changed. Records are kept only while the instance hears its own heartbeat on that
   * channel (every second). `maxEntries` (default 10000) bounds the memory, `maxAge` (ms, default
   * 10000) how long a record changed outside the storages (e.g. by hand) may still be served.
   * `false` turns the cache off, and the announcements with it: every instance sharing the key
   * prefix should have the same setting. Default: on, when the client can be duplicated.
   */
  readonly cache?: false | { readonly maxEntries?: number; readonly maxAge?: number };
  /** Told of a misconfiguration found while running, e.g. Redis refusing the cache's channel. */
  readonly onWarning?: (message: string) => void;
}

/** Models whose records belong to a grant, found through it by `revokeByGrantId`. */
const GRANT_BOUND = new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** Marks a record consumed, once: 1 when this call consumed it, 0 when it already was, -1 when it is gone. */
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'c', ARGV[1])`;

/**
 * Deletes the records of one model listed in a grant's index, in one step. The index and the
 * records share a hash slot (token ids carry their grant's tag); members of another slot are
 * returned for the caller to delete one by one.
 */
const REVOKE_GRANT = `
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local foreign = {}
for _, key in ipairs(members) do
  if string.find(key, ARGV[1], 1, true) then
    if string.sub(key, 1, string.len(ARGV[2])) == ARGV[2] then
      redis.call('DEL', key)
    else
      table.insert(foreign, key)
    end
    redis.call('ZREM', KEYS[1], key)
  end
end
return foreign`;

/**
 * Counts one attempt against every counter in KEYS when each is below its limit, else touches
 * none: 1 when counted. ARGV holds each counter's limit and window (seconds), in turn. Checked in
 * the order given, all within one script: no other command runs in between.
 */
const COUNT_WITHIN = `
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[2 * i - 1]) then return 0 end
end
for i = 1, #KEYS do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[2 * i], 'NX')
end
return 1`;

const FOREVER = '+inf';

/** Models kept in memory by the cache: read several times in one authorization. */
const CACHED = new Set(['Client', 'Interaction', 'Grant', 'Session']);

/**
 * Writes a batch sends without waiting: those of an authorization and a code exchange, which
 * nothing in the request compensates for or reports before the answer. Others (clients,
 * registration tokens, payment outcomes, revocations) are awaited in a batch too.
 */
const PIPELINED = { upsert: new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Session', 'Interaction', 'Grant']), destroy: new Set(['Session', 'Interaction']) };

interface StoredRecord {
  readonly json: string;
  readonly payload: AdapterPayload;
  readonly consumed: boolean;
}

/** Writes of a {@link RedisStorage.batch} not yet answered; `open` until the batch waits for them. */
interface Batch {
  readonly writes: Promise<unknown>[];
  open: boolean;
}

/**
 * Redis storage for production: every oidc-provider model, the client, PSU, organization, grant,
 * uid and user-code indexes, and the counters of the sign-in limits. Each record is one hash
 * written with its expiry in the same transaction; tokens of a grant share the grant's hash slot,
 * so `revokeByGrantId` is one atomic script on a single Redis and on Redis Cluster alike.
 * The host app creates and connects the client (`createClient` or `createCluster` of `redis`).
 */
export class RedisStorage implements Storage {
  readonly #redis: RedisCommands;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #adapters = new Map<string, Adapter>();
  readonly #batches = new AsyncLocalStorage<Batch>();
  readonly #cache: SharedRecordCache | undefined;
  /** Where writes of kept records are announced. */
  readonly #channel: string;

  constructor(redis: RedisCommands, options: RedisStorageOptions = {}) {
    const prefix = options.keyPrefix ?? 'psd2:';
    if (/[{}]/.test(prefix)) throw new TypeError('keyPrefix must not hold braces: they would change the Redis Cluster hash slot');
    this.#redis = redis.withCommandOptions ? redis.withCommandOptions({ timeout: 0 }) : redis;
    this.#prefix = prefix;
    this.#timeout = options.timeout ?? 2000;
    this.#channel = `${prefix}changes`;
    for (const name of ['maxEntries', 'maxAge'] as const) {
      const value = options.cache ? options.cache[name] : undefined;
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new TypeError(`cache.${name} must be a positive integer, not ${String(value)}`);
    }
    if (options.cache !== false && typeof redis.duplicate === 'function') {
      const records = new RecordCache(options.cache?.maxEntries ?? 10_000, options.cache?.maxAge ?? 10_000);
      this.#cache = new SharedRecordCache(records, this.#channel, (message) => this.#redis.multi().publish(this.#channel, message).exec(), redis.duplicate(), options.onWarning);
    }
  }

  /** Whether records are kept in memory now (the cache is on and hears its own heartbeat). */
  get caching(): boolean {
    return this.#cache?.kept !== undefined;
  }

  /** Stops listening to other instances (the client given stays the host app's to close). */
  async close(): Promise<void> {
    this.#cache?.close();
  }

  /**
   * Runs `work` with its record writes pipelined: each is sent at once and `work` goes on without
   * waiting for Redis to answer it; the batch then waits for every answer and fails with the first
   * failure. Reads that follow a write see it: Redis answers a connection in order, and a key's
   * reads and writes go to its master (do not read from replicas).
   */
  async batch<T>(work: () => Promise<T>): Promise<T> {
    if (this.#batches.getStore()?.open) return work();
    const batch: Batch = { writes: [], open: true };
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: await this.#batches.run(batch, work) };
    } catch (error) {
      outcome = { error };
    }
    let failure: unknown;
    for (let i = 0; i < batch.writes.length; i += 1) {
      try {
        await batch.writes[i];
      } catch (error) {
        failure ??= error;
      }
    }
    batch.open = false;
    if ('error' in outcome) throw outcome.error;
    if (failure !== undefined) throw failure;
    return outcome.value;
  }

  /** A write: awaited, or inside a batch, when `pipelined`, sent now and answered for by the batch. */
  #write(pipelined: boolean, operation: () => Promise<void>): Promise<void> {
    const write = this.#call(operation);
    const batch = this.#batches.getStore();
    if (!pipelined || !batch?.open) return write;
    write.catch(() => undefined);
    batch.writes.push(write);
    return Promise.resolve();
  }

  /** Runs one storage call, failing fast when Redis is not connected and after the timeout otherwise. */
  async #call<T>(operation: () => Promise<T>): Promise<T> {
    if (!this.#redis.isReady) throw new StorageUnavailableError('the token store is not connected');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        operation(),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new StorageUnavailableError(`the token store did not answer within ${this.#timeout} ms`)), this.#timeout);
        }),
      ]);
    } catch (error) {
      if (error instanceof StorageUnavailableError || error instanceof errors.OIDCProviderError) throw error;
      throw new StorageUnavailableError('the token store failed', { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The hash tag of a record: a grant's tokens share the grant's tag, anything else has its own. */
  #tag(model: string, id: string): string {
    if (model === 'Grant') return id.slice(0, GRANT_TAG_LENGTH);
    if (GRANT_BOUND.has(model) && id.charAt(GRANT_TAG_LENGTH) === GRANT_TAG_SEPARATOR) return id.slice(0, GRANT_TAG_LENGTH);
    return `r:${id}`;
  }

  #recordKey(model: string, id: string): string {
    return `${this.#prefix}{${this.#tag(model, id)}}:${model}:${id}`;
  }

  #grantIndex(grantId: string): string {
    return `${this.#prefix}{${grantId.slice(0, GRANT_TAG_LENGTH)}}:grant:${grantId}`;
  }

  #clientIndex(clientId: string): string {
    return `${this.#prefix}{c:${clientId}}:client:${clientId}`;
  }

  #accountIndex(accountId: string): string {
    return `${this.#prefix}{a:${accountId}}:account:${accountId}`;
  }

  #organizationIndex(organization: string): string {
    return `${this.#prefix}{o:${organization}}:organization:${organization}`;
  }

  #pointer(kind: 'uid' | 'userCode', model: string, value: string): string {
    return `${this.#prefix}{${kind}:${value}}:${kind}:${model}:${value}`;
  }

  /**
   * A counter's key: in a slot of its own, or, for a name beginning with `{group}`, in the group's
   * slot, so that `incrementCountersWithin` can count the group's counters in one script on Redis
   * Cluster too.
   */
  #counterKey(name: string): string {
    const group = counterGroup(name);
    return group === undefined ? `${this.#prefix}{n:${name}}:counter:${name}` : `${this.#prefix}{g:${group}}:counter:${name}`;
  }

  adapterFor(model: string): Adapter {
    let adapter = this.#adapters.get(model);
    if (!adapter) {
      adapter = this.#createAdapter(model);
      this.#adapters.set(model, adapter);
    }
    return adapter;
  }

  /** A record as stored: its payload's JSON, the payload, and whether it was consumed. */
  async #stored(key: string): Promise<StoredRecord | undefined> {
    const hash = await this.#redis.hGetAll(key);
    if (!hash || typeof hash.p !== 'string') return undefined;
    const payload = JSON.parse(hash.p) as AdapterPayload;
    if (hash.c !== undefined) payload.consumed = Number(hash.c);
    return { json: hash.p, payload, consumed: hash.c !== undefined };
  }

  async #read(key: string): Promise<AdapterPayload | undefined> {
    return (await this.#stored(key))?.payload;
  }

  /** A record of a cached model: from memory when kept, else read and kept (unless consumed). */
  async #readKept(key: string, cache: RecordCache): Promise<AdapterPayload | undefined> {
    const json = cache.get(key);
    if (json !== undefined) return JSON.parse(json) as AdapterPayload;
    const done = cache.beginRead(key);
    let stored: StoredRecord | undefined;
    try {
      stored = await this.#stored(key);
    } finally {
      const exp = stored?.payload.exp;
      done(stored && !stored.consumed ? stored.json : undefined, typeof exp === 'number' ? exp * 1000 : undefined);
    }
    return stored?.payload;
  }

  /** Whether `key` is a record the cache keeps (while it is on). */
  #isCached(key: string): boolean {
    if (!this.#cache) return false;
    const rest = key.slice(key.indexOf('}:') + 2);
    return CACHED.has(rest.slice(0, rest.indexOf(':')));
  }

  /**
   * Deletes `key`; a kept record's deletion is announced in the same transaction, and the record
   * forgotten here once the deletion is sent (a read under way is not kept, a later read sees it).
   */
  #delete(key: string): Promise<unknown> {
    const kept = this.#isCached(key);
    return this.#announcing<unknown>(() => {
      const announcement = kept ? this.#cache?.announcement([key]) : undefined;
      const deleted = announcement ? this.#redis.multi().del(key).publish(this.#channel, announcement).exec() : this.#redis.del(key);
      if (kept) this.#cache?.changed(key);
      return deleted;
    });
  }

  /**
   * Sends a write that may carry an announcement; sends it once more, without, when Redis refuses
   * the channel (the whole transaction was refused then, nothing of it applied).
   */
  async #announcing<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (this.#cache?.refused(error)) return send();
      throw error;
    }
  }

  /**
   * Adds `member` to a sorted-set index scored by its expiry, dropping members that expired.
   * `lasting` indexes (of clients, which never expire) keep no expiry; the others live as long as
   * their longest-lived member.
   */
  #index(transaction: RedisTransaction, index: string, member: string, expiresAt: number | undefined, lasting: boolean): RedisTransaction {
    transaction.zRemRangeByScore(index, '-inf', Date.now()).zAdd(index, { score: expiresAt ?? Number.POSITIVE_INFINITY, value: member });
    if (lasting || expiresAt === undefined) return lasting ? transaction : transaction.persist(index);
    return transaction.pExpireAt(index, expiresAt, 'NX').pExpireAt(index, expiresAt, 'GT');
  }

  #createAdapter(model: string): Adapter {
    const call = <T>(operation: () => Promise<T>) => this.#call(operation);
    const cached = this.#cache !== undefined && CACHED.has(model);
    const read = (key: string) => {
      const cache = cached ? this.#cache?.kept : undefined;
      return cache ? this.#readKept(key, cache) : this.#read(key);
    };
    const find = (id: string) => call(() => read(this.#recordKey(model, id)));
    const findBy = (kind: 'uid' | 'userCode') => (value: string) => call(async () => {
      const id = await this.#redis.get(this.#pointer(kind, model, value));
      return id ? read(this.#recordKey(model, id)) : undefined;
    });

    return {
      upsert: (id, payload, expiresIn) => this.#write(PIPELINED.upsert.has(model), () => this.#announcing(async () => {
        const key = this.#recordKey(model, id);
        // Saved with no time left (e.g. an interaction touched after it expired): nothing to keep.
        if (typeof expiresIn === 'number' && expiresIn <= 0) {
          await this.#delete(key);
          return;
        }
        const ttl = typeof expiresIn === 'number' ? expiresIn * 1000 : undefined;
        const expiresAt = ttl === undefined ? undefined : Date.now() + ttl;
        const json = JSON.stringify(payload);
        const record = this.#redis.multi().del(key).hSet(key, 'p', json);
        if (ttl !== undefined) record.pExpire(key, ttl);
        const announcement = cached ? this.#cache?.announcement([key]) : undefined;
        if (announcement) record.publish(this.#channel, announcement);
        const grantId = typeof payload.grantId === 'string' && GRANT_BOUND.has(model) ? payload.grantId : undefined;
        const sameSlot = grantId !== undefined && this.#tag(model, id) === grantId.slice(0, GRANT_TAG_LENGTH);
        if (grantId && sameSlot) this.#index(record, this.#grantIndex(grantId), key, expiresAt, false);
        const writes: Promise<unknown>[] = [record.exec()];
        // Indexes in other hash slots: written alongside, each in its own slot.
        const others: [string, string, boolean][] = [];
        if (grantId && !sameSlot) others.push([this.#grantIndex(grantId), key, false]);
        const owner = ownerOf(model, id, payload);
        if (owner) others.push([this.#clientIndex(owner), key, true]);
        const account = accountOf(model, payload);
        if (account) others.push([this.#accountIndex(account), id, false]);
        const organization = organizationOf(model, payload);
        if (organization) others.push([this.#organizationIndex(organization), id, true]);
        for (const [index, member, lasting] of others) writes.push(this.#index(this.#redis.multi(), index, member, expiresAt, lasting).exec());
        for (const kind of ['uid', 'userCode'] as const) {
          const value = payload[kind];
          if (typeof value === 'string') writes.push(this.#redis.multi().set(this.#pointer(kind, model, value), id, ttl === undefined ? {} : { PX: ttl }).exec());
        }
        const keep = cached ? this.#cache?.written(key) : undefined;
        try {
          await Promise.all(writes);
        } catch (error) {
          keep?.(undefined);
          throw error;
        }
        keep?.(json, expiresAt);
      })),
      find,
      findByUid: findBy('uid'),
      findByUserCode: findBy('userCode'),
      consume: (id) => call(async () => {
        const key = this.#recordKey(model, id);
        const consuming = this.#redis.eval(CONSUME, { keys: [key], arguments: [String(Math.floor(Date.now() / 1000))] });
        if (cached) this.#cache?.changed(key);
        const outcome = Number(await consuming);
        // oidc-provider consumes no kept model; should a host app do so, the others hear of it.
        const announcement = cached && outcome === 1 ? this.#cache?.announcement([key]) : undefined;
        if (announcement) await this.#announcing(() => this.#redis.multi().publish(this.#channel, announcement).exec());
        // Two requests redeeming one code or rotated refresh token: only the first one wins, and a
        // record revoked or expired meanwhile is not redeemed either.
        if (outcome !== 1) throw consumeFailure(model, outcome === 0 ? `${model} already consumed` : `${model} no longer exists`);
      }),
      destroy: (id) => this.#write(PIPELINED.destroy.has(model), async () => {
        const key = this.#recordKey(model, id);
        // Grants and clients are listed in PSU and organization indexes: leave them with the record.
        const payload = model === 'Grant' || model === 'Client' ? await this.#read(key) : undefined;
        await this.#delete(key);
        if (payload) await this.#unlist(model, id, payload);
      }),
      revokeByGrantId: (grantId) => call(async () => {
        const slotPrefix = `${this.#prefix}{${grantId.slice(0, GRANT_TAG_LENGTH)}}:`;
        const foreign = await this.#redis.eval(REVOKE_GRANT, { keys: [this.#grantIndex(grantId)], arguments: [`}:${model}:`, slotPrefix] }) as string[] | null;
        for (const key of foreign ?? []) await this.#redis.del(key);
      }),
    };
  }

  /** Removes a grant from its PSU's index, or a client from its organization's. */
  async #unlist(model: string, id: string, payload: AdapterPayload): Promise<void> {
    const account = accountOf(model, payload);
    if (account) await this.#redis.zRem(this.#accountIndex(account), id);
    const organization = organizationOf(model, payload);
    if (organization) await this.#redis.zRem(this.#organizationIndex(organization), id);
  }

  /** The ids of `index` whose record of `model` still exists; the others are dropped from it. */
  async #existing(index: string, model: string): Promise<string[]> {
    const ids = await this.#redis.zRangeByScore(index, Date.now(), FOREVER);
    const present = await Promise.all(ids.map(async (id) => (await this.#read(this.#recordKey(model, id))) !== undefined));
    const gone = ids.filter((_id, i) => !present[i]);
    if (gone.length) await this.#redis.zRem(index, gone);
    return ids.filter((_id, i) => present[i]);
  }

  removeClient(clientId: string, options: { keepMetadata?: boolean } = {}): Promise<void> {
    return this.#call(async () => {
      const index = this.#clientIndex(clientId);
      const keys = await this.#redis.zRange(index, 0, -1);
      const kept = (key: string) => options.keepMetadata && (key.endsWith(`}:Client:${clientId}`) || key.includes('}:RegistrationAccessToken:'));
      const removed = keys.filter((key) => !kept(key));
      if (!options.keepMetadata) {
        const metadata = await this.#read(this.#recordKey('Client', clientId));
        if (metadata) await this.#unlist('Client', clientId, metadata);
      }
      // Grants leave their PSU's index with them.
      const grantKeys = removed.filter((key) => key.includes('}:Grant:'));
      await Promise.all(grantKeys.map(async (key) => {
        const payload = await this.#read(key);
        if (payload) await this.#unlist('Grant', key.slice(key.lastIndexOf(':') + 1), payload);
      }));
      // Records live in their own slots: deleted one by one (each grant's tokens stay atomic through revokeByGrantId).
      await Promise.all(removed.map((key) => this.#delete(key)));
      if (removed.length) await this.#redis.zRem(index, removed);
      if (!options.keepMetadata) await this.#redis.del(index);
    });
  }

  grantIdsOf(accountId: string): Promise<string[]> {
    return this.#call(() => this.#existing(this.#accountIndex(accountId), 'Grant'));
  }

  clientIdsOf(organization: string): Promise<string[]> {
    return this.#call(() => this.#existing(this.#organizationIndex(organization), 'Client'));
  }

  incrementCounter(name: string, windowSeconds: number, amount = 1): Promise<number> {
    return this.#call(async () => {
      const key = this.#counterKey(name);
      const [value] = await this.#redis.multi().incrBy(key, amount).expire(key, windowSeconds, 'NX').exec();
      return Number(value);
    });
  }

  async incrementCountersWithin(counters: readonly CounterLimit[]): Promise<boolean> {
    checkCounterGroup(counters);
    if (!counters.length) return true;
    return this.#call(async () => {
      const counted = await this.#redis.eval(COUNT_WITHIN, {
        keys: counters.map(({ name }) => this.#counterKey(name)),
        arguments: counters.flatMap(({ limit, windowSeconds }) => [String(limit), String(windowSeconds)]),
      });
      return Number(counted) === 1;
    });
  }

  readCounter(name: string): Promise<number> {
    return this.#call(async () => Number(await this.#redis.get(this.#counterKey(name)) ?? 0));
  }

  resetCounter(name: string): Promise<void> {
    return this.#call(async () => {
      await this.#redis.del(this.#counterKey(name));
    });
  }
}
