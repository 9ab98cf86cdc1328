/**
 * The records of RedisStorage on Redis. Each is one hash (`p` its payload's JSON, `c` once
 * consumed) written with its expiry in one transaction, and listed in the indexes its payload
 * names; the models the cache keeps are read from memory while it is up to date, and their
 * changes announced to the other instances in the change's own transaction.
 *
 * Times are the machine's clock, not the server's `now` option: a record expires by its Redis TTL,
 * counted by Redis itself, which no clock of the product can move; the expiry scores of the indexes
 * (compared with the time here) must agree with those TTLs.
 */
import type { RecordPayload as AdapterPayload, StorageObserver } from '../../lib/storage.js';

import type { RecordCache } from '../record-cache.js';
import { accountOf, organizationOf, ownerOf } from '../records.js';
import { CACHED, type SharedRecordCache } from './cache.js';
import type { RedisCommands, RedisTransaction } from './client.js';
import { GRANT_BOUND, parseKey, type RedisKeys } from './keys.js';
import { consume } from './scripts.js';

const FOREVER = '+inf';

interface StoredRecord {
  readonly json: string;
  readonly payload: AdapterPayload;
  readonly consumed: boolean;
}

export class RedisRecords {
  /** Told of each look-up in the cache (hit or miss), once the server observes the storage. */
  observer: Pick<StorageObserver, 'recordCacheLookup'> | undefined;

  constructor(
    readonly redis: RedisCommands,
    readonly keys: RedisKeys,
    /** The cache, when the host app gave a subscriber and did not turn it off. */
    readonly cache: SharedRecordCache | undefined,
  ) {}

  /** The record at `key`, of `model`: from memory while the cache keeps it, else from Redis. */
  find(model: string, key: string): Promise<AdapterPayload | undefined> {
    const kept = CACHED.has(model) ? this.cache?.kept : undefined;
    return kept ? this.#readKept(key, kept) : this.read(key);
  }

  /**
   * What stands for the record at `key` of `model` as the cache keeps it now
   * (`RecordCache.revision`); undefined when the cache does not keep it. One found counts as a hit
   * of the cache; none is not a miss, as the record is then read (and that read counted).
   */
  revision(model: string, key: string): object | undefined {
    const revision = CACHED.has(model) ? this.cache?.kept?.revision(key) : undefined;
    if (revision) this.observer?.recordCacheLookup('records', true);
    return revision;
  }

  /** The record at `key`, from Redis. */
  async read(key: string): Promise<AdapterPayload | undefined> {
    return (await this.#stored(key))?.payload;
  }

  /**
   * Writes the record, with its expiry (`expiresIn` seconds; none when undefined), and lists it in
   * the indexes its payload names. Written with no time left, it is deleted.
   */
  write(model: string, id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    return this.#announcing(async () => {
      const key = this.keys.record(model, id);
      // Saved with no time left (e.g. an interaction touched after it expired): nothing to keep.
      if (typeof expiresIn === 'number' && expiresIn <= 0) {
        await this.delete(key);
        return;
      }
      const ttl = typeof expiresIn === 'number' ? expiresIn * 1000 : undefined;
      const expiresAt = ttl === undefined ? undefined : Date.now() + ttl;
      const json = JSON.stringify(payload);
      const record = this.redis.multi().del(key).hSet(key, 'p', json);
      if (ttl !== undefined) record.pExpire(key, ttl);
      const announcement = this.#announcement(model, key);
      if (announcement) record.publish(this.keys.channel, announcement);
      const writes = this.#sendListed(model, id, payload, record, expiresAt);
      for (const kind of ['uid', 'userCode'] as const) {
        const value = payload[kind];
        if (typeof value === 'string') writes.push(this.redis.multi().set(this.keys.pointer(kind, model, value), id, ttl === undefined ? {} : { PX: ttl }).exec());
      }
      const keep = CACHED.has(model) ? this.cache?.written(key) : undefined;
      try {
        await Promise.all(writes);
      } catch (error) {
        keep?.(undefined);
        throw error;
      }
      keep?.(json, expiresAt);
    });
  }

  /** Marks the record consumed now: 1 when this call consumed it, 0 when it already was, -1 when it is gone. */
  async consume(model: string, id: string): Promise<number> {
    const key = this.keys.record(model, id);
    const consuming = consume(this.redis, key, Math.floor(Date.now() / 1000));
    const kept = CACHED.has(model);
    if (kept) this.cache?.changed(key);
    const outcome = await consuming;
    // oidc-provider consumes no kept model; should a host app do so, the others hear of it.
    const announcement = kept && outcome === 1 ? this.#announcement(model, key) : undefined;
    if (announcement) await this.#announcing(() => this.redis.multi().publish(this.keys.channel, announcement).exec());
    return outcome;
  }

  /** Deletes the record; a grant or client leaves the PSU or organization index with it. */
  async destroy(model: string, id: string): Promise<void> {
    const key = this.keys.record(model, id);
    const payload = model === 'Grant' || model === 'Client' ? await this.read(key) : undefined;
    await this.delete(key);
    if (payload) await this.unlist(model, id, payload);
  }

  /**
   * Deletes `key`; a kept record's deletion is announced in the same transaction, and the record
   * forgotten here once the deletion is sent (a read under way is not kept, a later read sees it).
   */
  delete(key: string): Promise<unknown> {
    const model = parseKey(key)?.name;
    const kept = this.cache !== undefined && model !== undefined && CACHED.has(model);
    return this.#announcing<unknown>(() => {
      const announcement = kept ? this.cache?.announcement([key]) : undefined;
      const deleted = announcement ? this.redis.multi().del(key).publish(this.keys.channel, announcement).exec() : this.redis.del(key);
      if (kept) this.cache?.changed(key);
      return deleted;
    });
  }

  /** Removes a grant from its PSU's index, or a client from its organization's. */
  async unlist(model: string, id: string, payload: AdapterPayload): Promise<void> {
    const account = accountOf(model, payload);
    if (account) await this.redis.zRem(this.keys.accountIndex(account), id);
    const organization = organizationOf(model, payload);
    if (organization) await this.redis.zRem(this.keys.organizationIndex(organization), id);
  }

  /** The ids of `index` whose record of `model` still exists; the others are dropped from it. */
  async existing(index: string, model: string): Promise<string[]> {
    const ids = await this.redis.zRangeByScore(index, Date.now(), FOREVER);
    const present = await Promise.all(ids.map(async (id) => (await this.read(this.keys.record(model, id))) !== undefined));
    const gone = ids.filter((_id, i) => !present[i]);
    if (gone.length) await this.redis.zRem(index, gone);
    return ids.filter((_id, i) => present[i]);
  }

  /** A record as stored: its payload's JSON, the payload, and whether it was consumed. */
  async #stored(key: string): Promise<StoredRecord | undefined> {
    const hash = await this.redis.hGetAll(key);
    if (!hash || typeof hash.p !== 'string') return undefined;
    const payload = JSON.parse(hash.p) as AdapterPayload;
    if (hash.c !== undefined) payload.consumed = Number(hash.c);
    return { json: hash.p, payload, consumed: hash.c !== undefined };
  }

  /** A record of a cached model: from memory when kept, else read and kept (unless consumed). */
  async #readKept(key: string, cache: RecordCache): Promise<AdapterPayload | undefined> {
    const json = cache.get(key);
    this.observer?.recordCacheLookup('records', json !== undefined);
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

  /** What the other instances are told of a write of `key`, for the models the cache keeps. */
  #announcement(model: string, key: string): string | undefined {
    return CACHED.has(model) ? this.cache?.announcement([key]) : undefined;
  }

  /**
   * Sends a write that may carry an announcement; sends it once more, without, when Redis refuses
   * the channel (the whole transaction was refused then, nothing of it applied).
   */
  async #announcing<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (this.cache?.refused(error)) return send();
      throw error;
    }
  }

  /**
   * Sends the record's transaction `record` and lists the record in the indexes its payload names:
   * its grant's in the same transaction when they share a hash slot, the others (in other slots)
   * alongside, each in its own.
   */
  #sendListed(model: string, id: string, payload: AdapterPayload, record: RedisTransaction, expiresAt: number | undefined): Promise<unknown>[] {
    const key = this.keys.record(model, id);
    const grantId = typeof payload.grantId === 'string' && GRANT_BOUND.has(model) ? payload.grantId : undefined;
    const sameSlot = grantId !== undefined && this.keys.sharesGrantSlot(model, id, grantId);
    if (grantId && sameSlot) this.#index(record, this.keys.grantIndex(grantId), key, expiresAt, false);
    const writes: Promise<unknown>[] = [record.exec()];
    const others: [string, string, boolean][] = [];
    if (grantId && !sameSlot) others.push([this.keys.grantIndex(grantId), key, false]);
    const owner = ownerOf(model, id, payload);
    if (owner) others.push([this.keys.clientIndex(owner), key, true]);
    const account = accountOf(model, payload);
    if (account) others.push([this.keys.accountIndex(account), id, false]);
    const organization = organizationOf(model, payload);
    if (organization) others.push([this.keys.organizationIndex(organization), id, true]);
    for (const [index, member, lasting] of others) writes.push(this.#index(this.redis.multi(), index, member, expiresAt, lasting).exec());
    return writes;
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
}
