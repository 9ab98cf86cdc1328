import type { RecordAdapter as Adapter, RecordPayload as AdapterPayload } from '../lib/storage.js';

import { checkCounterGroup, type CounterLimit, type Storage } from '../lib/storage.js';
import { ExpiryQueue } from './memory/expiry.js';
import { copyOut, keep, type KeptPayload } from './memory/payloads.js';
import { accountOf, consumeFailure, organizationOf, ownerOf } from './records.js';

/** The records of one model, by id, uid and user code: a lookup builds no `model:id` key. */
class ModelRecords {
  readonly byId = new Map<string, Entry>();
  readonly byUid = new Map<string, Entry>();
  readonly byUserCode = new Map<string, Entry>();
  constructor(readonly model: string) {}
}

/**
 * A stored record. A rewrite of a live record changes its entry in place, so that the indexes and
 * the expiry queue, which hold entries, are touched only for what the rewrite changed (a flow
 * rewrites its interaction three times, each time with the same index fields and second of expiry).
 */
interface Entry {
  readonly records: ModelRecords;
  readonly id: string;
  /** Set when the record is deleted: an entry is never used again once deleted. */
  deleted: boolean;
  kept: KeptPayload;
  /** Stands for the record as it is now (recordRevision): an empty object, new at each change. */
  revision: object;
  /** Epoch milliseconds, or Infinity for records without expiry. */
  expiresAt: number;
  /** Whether the payload was written with a `consumed` field: such a record is consumed already. */
  writtenConsumed: boolean;
  /** When `consume` consumed the record, epoch seconds: added to every copy read. */
  consumedAt: number | undefined;
  /** What the indexes list the record under, read once when it is written: a deletion parses nothing. */
  grantId: string | undefined;
  uid: string | undefined;
  userCode: string | undefined;
  owner: string | undefined;
  account: string | undefined;
  organization: string | undefined;
}

/** A `string` field of a payload, or undefined. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A copy of a stored entry's payload for a reader, its consumption included. */
function readCopy(entry: Entry): AdapterPayload {
  const payload = copyOut(entry.kept);
  if (entry.consumedAt !== undefined) payload.consumed = entry.consumedAt;
  return payload;
}

/**
 * In-memory storage for development and tests. Everything is lost when the process ends and nothing
 * is shared between processes: production deployments use the Redis storage.
 */
export class MemoryStorage implements Storage {
  readonly #models = new Map<string, ModelRecords>();
  #size = 0;
  readonly #byGrant = new Map<string, Set<Entry>>();
  readonly #byClient = new Map<string, Set<Entry>>();
  readonly #byAccount = new Map<string, Set<Entry>>();
  readonly #byOrganization = new Map<string, Set<Entry>>();
  readonly #adapters = new Map<string, Adapter>();
  readonly #counters = new Map<string, { value: number; expiresAt: number }>();
  /** Records and counters by expiry: each write deletes those due, and visits nothing else. */
  readonly #recordExpiries = new ExpiryQueue<Entry>();
  readonly #counterExpiries = new ExpiryQueue<string>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  adapterFor(model: string): Adapter {
    let adapter = this.#adapters.get(model);
    if (!adapter) {
      adapter = this.#createAdapter(this.#recordsOf(model));
      this.#adapters.set(model, adapter);
    }
    return adapter;
  }

  /** The revision of the live record: a write or consumption makes a new one, a deletion none. */
  recordRevision(model: string, id: string): object | undefined {
    const records = this.#models.get(model);
    return records ? this.#get(records, id)?.revision : undefined;
  }

  async removeClient(clientId: string, options: { keepMetadata?: boolean } = {}): Promise<void> {
    for (const entry of [...(this.#byClient.get(clientId) ?? [])]) {
      const { model } = entry.records;
      if (options.keepMetadata && ((model === 'Client' && entry.id === clientId) || model === 'RegistrationAccessToken')) continue;
      this.#delete(entry);
    }
  }

  async grantIdsOf(accountId: string): Promise<string[]> {
    return [...(this.#byAccount.get(accountId) ?? [])].filter((entry) => this.#live(entry)).map((entry) => entry.id);
  }

  async clientIdsOf(organization: string): Promise<string[]> {
    return [...(this.#byOrganization.get(organization) ?? [])].filter((entry) => this.#live(entry)).map((entry) => entry.id);
  }

  async incrementCounter(name: string, windowSeconds: number, amount = 1): Promise<number> {
    return this.#increment(name, windowSeconds, amount);
  }

  async incrementCountersWithin(counters: readonly CounterLimit[]): Promise<boolean> {
    checkCounterGroup(counters);
    // Checked and counted without awaiting anything: no other call runs in between.
    if (counters.some(({ name, limit }) => this.#read(name) >= limit)) return false;
    for (const { name, windowSeconds } of counters) this.#increment(name, windowSeconds, 1);
    return true;
  }

  async readCounter(name: string): Promise<number> {
    return this.#read(name);
  }

  async resetCounter(name: string): Promise<void> {
    this.#deleteCounter(name);
  }

  /** Number of live records, for tests and diagnostics. */
  get size(): number {
    return this.#size;
  }

  /**
   * What is kept, for tests and diagnostics: counters, entries of the indexes (by grant, client, PSU,
   * organization, uid and user code), and records and counters waiting to expire.
   */
  get counts(): { counters: number; indexEntries: number; expiring: number } {
    let indexEntries = 0;
    for (const records of this.#models.values()) indexEntries += records.byUid.size + records.byUserCode.size;
    for (const index of [this.#byGrant, this.#byClient, this.#byAccount, this.#byOrganization]) {
      for (const members of index.values()) indexEntries += members.size;
    }
    return { counters: this.#counters.size, indexEntries, expiring: this.#recordExpiries.size + this.#counterExpiries.size };
  }

  #increment(name: string, windowSeconds: number, amount: number): number {
    const now = this.#now();
    let counter = this.#counters.get(name);
    if (!counter || counter.expiresAt <= now) {
      this.#deleteCounter(name);
      counter = { value: 0, expiresAt: now + windowSeconds * 1000 };
      this.#counters.set(name, counter);
      this.#counterExpiries.add(name, counter.expiresAt);
    }
    counter.value += amount;
    this.#expire(now);
    return counter.value;
  }

  #read(name: string): number {
    const counter = this.#counters.get(name);
    if (!counter) return 0;
    if (counter.expiresAt <= this.#now()) {
      this.#deleteCounter(name);
      return 0;
    }
    return counter.value;
  }

  #deleteCounter(name: string): void {
    const counter = this.#counters.get(name);
    if (!counter) return;
    this.#counters.delete(name);
    this.#counterExpiries.remove(name, counter.expiresAt);
  }

  #recordsOf(model: string): ModelRecords {
    let records = this.#models.get(model);
    if (!records) {
      records = new ModelRecords(model);
      this.#models.set(model, records);
    }
    return records;
  }

  /** The record of `id`, unless it has expired (then deleted). */
  #get(records: ModelRecords, id: string): Entry | undefined {
    const entry = records.byId.get(id);
    if (entry && entry.expiresAt <= this.#now()) {
      this.#delete(entry);
      return undefined;
    }
    return entry;
  }

  /** Whether an entry an index listed is still stored and has not expired (then deleted). */
  #live(entry: Entry): boolean {
    if (entry.deleted) return false;
    if (entry.expiresAt > this.#now()) return true;
    this.#delete(entry);
    return false;
  }

  #delete(entry: Entry): void {
    if (entry.deleted) return;
    entry.deleted = true;
    const { records } = entry;
    records.byId.delete(entry.id);
    this.#size -= 1;
    this.#recordExpiries.remove(entry, entry.expiresAt);
    if (entry.grantId !== undefined) unlist(this.#byGrant, entry.grantId, entry);
    if (entry.owner !== undefined) unlist(this.#byClient, entry.owner, entry);
    if (entry.account !== undefined) unlist(this.#byAccount, entry.account, entry);
    if (entry.organization !== undefined) unlist(this.#byOrganization, entry.organization, entry);
    if (entry.uid !== undefined && records.byUid.get(entry.uid) === entry) records.byUid.delete(entry.uid);
    if (entry.userCode !== undefined && records.byUserCode.get(entry.userCode) === entry) records.byUserCode.delete(entry.userCode);
  }

  /** Deletes the records and counters expired at `now`, and only them. */
  #expire(now: number): void {
    for (const entry of this.#recordExpiries.takeDue(now)) {
      if (entry.expiresAt <= now) this.#delete(entry);
    }
    for (const name of this.#counterExpiries.takeDue(now)) {
      if ((this.#counters.get(name)?.expiresAt ?? Infinity) <= now) this.#counters.delete(name);
    }
  }

  #write(records: ModelRecords, id: string, payload: AdapterPayload, expiresIn: number | undefined): void {
    const kept = keep(payload);
    const now = this.#now();
    const expiresAt = typeof expiresIn === 'number' ? now + expiresIn * 1000 : Infinity;
    const entry = records.byId.get(id);
    // Saved with no time left (e.g. an interaction touched after it expired): nothing to keep.
    if (expiresAt <= now) {
      if (entry) this.#delete(entry);
      return;
    }
    const { model } = records;
    const grantId = text(payload.grantId);
    const uid = text(payload.uid);
    const userCode = text(payload.userCode);
    const owner = ownerOf(model, id, payload);
    const account = accountOf(model, payload);
    const organization = organizationOf(model, payload);
    if (!entry) {
      const created: Entry = {
        records,
        id,
        deleted: false,
        kept,
        revision: {},
        expiresAt,
        writtenConsumed: payload.consumed !== undefined,
        consumedAt: undefined,
        grantId,
        uid,
        userCode,
        owner,
        account,
        organization,
      };
      records.byId.set(id, created);
      this.#size += 1;
      this.#recordExpiries.add(created, expiresAt);
      if (grantId !== undefined) listUnder(this.#byGrant, grantId, created);
      if (owner !== undefined) listUnder(this.#byClient, owner, created);
      if (account !== undefined) listUnder(this.#byAccount, account, created);
      if (organization !== undefined) listUnder(this.#byOrganization, organization, created);
      if (uid !== undefined) records.byUid.set(uid, created);
      if (userCode !== undefined) records.byUserCode.set(userCode, created);
    } else {
      // Rewritten (an expired record not yet deleted too: it is written anew): only what changed moves.
      entry.kept = kept;
      entry.revision = {};
      entry.writtenConsumed = payload.consumed !== undefined;
      entry.consumedAt = undefined;
      this.#recordExpiries.move(entry, entry.expiresAt, expiresAt);
      entry.expiresAt = expiresAt;
      if (grantId !== entry.grantId) entry.grantId = relist(this.#byGrant, entry.grantId, grantId, entry);
      if (owner !== entry.owner) entry.owner = relist(this.#byClient, entry.owner, owner, entry);
      if (account !== entry.account) entry.account = relist(this.#byAccount, entry.account, account, entry);
      if (organization !== entry.organization) entry.organization = relist(this.#byOrganization, entry.organization, organization, entry);
      if (entry.uid !== undefined && entry.uid !== uid && records.byUid.get(entry.uid) === entry) records.byUid.delete(entry.uid);
      entry.uid = uid;
      // Set again even when unchanged: the uid names the record written last, as it always did.
      if (uid !== undefined) records.byUid.set(uid, entry);
      if (entry.userCode !== undefined && entry.userCode !== userCode && records.byUserCode.get(entry.userCode) === entry) {
        records.byUserCode.delete(entry.userCode);
      }
      entry.userCode = userCode;
      if (userCode !== undefined) records.byUserCode.set(userCode, entry);
    }
    this.#expire(now);
  }

  #createAdapter(records: ModelRecords): Adapter {
    const { model } = records;
    return {
      upsert: async (id, payload, expiresIn) => {
        this.#write(records, id, payload, expiresIn);
      },
      find: async (id) => {
        const entry = this.#get(records, id);
        return entry ? readCopy(entry) : undefined;
      },
      findByUid: async (uid) => {
        const entry = records.byUid.get(uid);
        return entry && this.#live(entry) ? readCopy(entry) : undefined;
      },
      findByUserCode: async (userCode) => {
        const entry = records.byUserCode.get(userCode);
        return entry && this.#live(entry) ? readCopy(entry) : undefined;
      },
      consume: async (id) => {
        const entry = this.#get(records, id);
        // Two requests redeeming one code or rotated refresh token: only the first one wins, and a
        // record revoked or expired meanwhile is not redeemed either.
        if (!entry) throw consumeFailure(model, `${model} no longer exists`);
        if (entry.writtenConsumed || entry.consumedAt !== undefined) throw consumeFailure(model, `${model} already consumed`);
        entry.consumedAt = Math.floor(this.#now() / 1000);
        // A new revision: what a reader gets has changed.
        entry.revision = {};
      },
      destroy: async (id) => {
        const entry = records.byId.get(id);
        if (entry) this.#delete(entry);
      },
      revokeByGrantId: async (grantId) => {
        for (const entry of [...(this.#byGrant.get(grantId) ?? [])]) {
          if (entry.records === records) this.#delete(entry);
        }
      },
    };
  }
}

function listUnder(index: Map<string, Set<Entry>>, name: string, entry: Entry): void {
  let members = index.get(name);
  if (!members) {
    members = new Set();
    index.set(name, members);
  }
  members.add(entry);
}

function unlist(index: Map<string, Set<Entry>>, name: string, entry: Entry): void {
  const members = index.get(name);
  if (!members) return;
  members.delete(entry);
  if (!members.size) index.delete(name);
}

/** Lists `entry` under `to` instead of `from` in `index`, and gives back `to`. */
function relist(index: Map<string, Set<Entry>>, from: string | undefined, to: string | undefined, entry: Entry): string | undefined {
  if (from !== undefined) unlist(index, from, entry);
  if (to !== undefined) listUnder(index, to, entry);
  return to;
}
