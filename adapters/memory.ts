import type { RecordAdapter as Adapter, RecordPayload as AdapterPayload } from '../lib/storage.js';

import { checkCounterGroup, type CounterLimit, type Storage } from '../lib/storage.js';
import { ExpiryQueue } from './memory/expiry.js';
import { copyOut, keep, type KeptPayload } from './memory/payloads.js';
import { accountOf, consumeFailure, organizationOf, ownerOf } from './records.js';

interface Entry {
  readonly model: string;
  readonly kept: KeptPayload;
  /** Epoch milliseconds, or Infinity for records without expiry. */
  readonly expiresAt: number;
  /** Whether the payload was written with a `consumed` field: such a record is consumed already. */
  readonly writtenConsumed: boolean;
  /** When `consume` consumed the record, epoch seconds: added to every copy read. */
  consumedAt: number | undefined;
  /** What the indexes list the record under, read once when it is written: a deletion parses nothing. */
  readonly grantId: string | undefined;
  readonly uid: string | undefined;
  readonly userCode: string | undefined;
  readonly owner: string | undefined;
  readonly account: string | undefined;
  readonly organization: string | undefined;
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
  readonly #records = new Map<string, Entry>();
  readonly #byGrant = new Map<string, Set<string>>();
  readonly #byClient = new Map<string, Set<string>>();
  readonly #byAccount = new Map<string, Set<string>>();
  readonly #byOrganization = new Map<string, Set<string>>();
  readonly #uid = new Map<string, string>();
  readonly #userCode = new Map<string, string>();
  readonly #adapters = new Map<string, Adapter>();
  readonly #counters = new Map<string, { value: number; expiresAt: number }>();
  /** Records and counters by expiry: each write deletes those due, and visits nothing else. */
  readonly #recordExpiries = new ExpiryQueue();
  readonly #counterExpiries = new ExpiryQueue();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  adapterFor(model: string): Adapter {
    let adapter = this.#adapters.get(model);
    if (!adapter) {
      adapter = this.#createAdapter(model);
      this.#adapters.set(model, adapter);
    }
    return adapter;
  }

  async removeClient(clientId: string, options: { keepMetadata?: boolean } = {}): Promise<void> {
    for (const key of [...(this.#byClient.get(clientId) ?? [])]) {
      if (options.keepMetadata && (key === `Client:${clientId}` || key.startsWith('RegistrationAccessToken:'))) continue;
      this.#delete(key);
    }
  }

  async grantIdsOf(accountId: string): Promise<string[]> {
    return [...(this.#byAccount.get(accountId) ?? [])].filter((key) => this.#get(key)).map((key) => key.slice('Grant:'.length));
  }

  async clientIdsOf(organization: string): Promise<string[]> {
    return [...(this.#byOrganization.get(organization) ?? [])].filter((key) => this.#get(key)).map((key) => key.slice('Client:'.length));
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
    return this.#records.size;
  }

  /**
   * What is kept, for tests and diagnostics: counters, entries of the indexes (by grant, client, PSU,
   * organization, uid and user code), and records and counters waiting to expire.
   */
  get counts(): { counters: number; indexEntries: number; expiring: number } {
    let indexEntries = this.#uid.size + this.#userCode.size;
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

  #get(key: string): Entry | undefined {
    const entry = this.#records.get(key);
    if (entry && entry.expiresAt <= this.#now()) {
      this.#delete(key);
      return undefined;
    }
    return entry;
  }

  #delete(key: string): void {
    const entry = this.#records.get(key);
    if (!entry) return;
    this.#records.delete(key);
    this.#recordExpiries.remove(key, entry.expiresAt);
    if (entry.grantId !== undefined) this.#unindex(this.#byGrant, entry.grantId, key);
    if (entry.owner !== undefined) this.#unindex(this.#byClient, entry.owner, key);
    if (entry.account !== undefined) this.#unindex(this.#byAccount, entry.account, key);
    if (entry.organization !== undefined) this.#unindex(this.#byOrganization, entry.organization, key);
    if (entry.uid !== undefined && this.#uid.get(`${entry.model}:${entry.uid}`) === key) this.#uid.delete(`${entry.model}:${entry.uid}`);
    if (entry.userCode !== undefined && this.#userCode.get(`${entry.model}:${entry.userCode}`) === key) {
      this.#userCode.delete(`${entry.model}:${entry.userCode}`);
    }
  }

  #unindex(index: Map<string, Set<string>>, name: string, key: string): void {
    const members = index.get(name);
    if (!members) return;
    members.delete(key);
    if (!members.size) index.delete(name);
  }

  #index(index: Map<string, Set<string>>, name: string, key: string): void {
    let members = index.get(name);
    if (!members) {
      members = new Set();
      index.set(name, members);
    }
    members.add(key);
  }

  /** Deletes the records and counters expired at `now`, and only them. */
  #expire(now: number): void {
    for (const key of this.#recordExpiries.takeDue(now)) {
      if ((this.#records.get(key)?.expiresAt ?? Infinity) <= now) this.#delete(key);
    }
    for (const name of this.#counterExpiries.takeDue(now)) {
      if ((this.#counters.get(name)?.expiresAt ?? Infinity) <= now) this.#counters.delete(name);
    }
  }

  #write(model: string, id: string, payload: AdapterPayload, expiresIn: number | undefined): void {
    const key = `${model}:${id}`;
    const kept = keep(payload);
    this.#delete(key);
    const now = this.#now();
    const expiresAt = typeof expiresIn === 'number' ? now + expiresIn * 1000 : Infinity;
    // Saved with no time left (e.g. an interaction touched after it expired): nothing to keep.
    if (expiresAt <= now) return;
    const entry: Entry = {
      model,
      kept,
      expiresAt,
      writtenConsumed: payload.consumed !== undefined,
      consumedAt: undefined,
      grantId: text(payload.grantId),
      uid: text(payload.uid),
      userCode: text(payload.userCode),
      owner: ownerOf(model, id, payload),
      account: accountOf(model, payload),
      organization: organizationOf(model, payload),
    };
    this.#records.set(key, entry);
    this.#recordExpiries.add(key, expiresAt);
    if (entry.grantId !== undefined) this.#index(this.#byGrant, entry.grantId, key);
    if (entry.owner !== undefined) this.#index(this.#byClient, entry.owner, key);
    if (entry.account !== undefined) this.#index(this.#byAccount, entry.account, key);
    if (entry.organization !== undefined) this.#index(this.#byOrganization, entry.organization, key);
    if (entry.uid !== undefined) this.#uid.set(`${model}:${entry.uid}`, key);
    if (entry.userCode !== undefined) this.#userCode.set(`${model}:${entry.userCode}`, key);
    this.#expire(now);
  }

  #createAdapter(model: string): Adapter {
    const keyOf = (id: string) => `${model}:${id}`;

    return {
      upsert: async (id, payload, expiresIn) => {
        this.#write(model, id, payload, expiresIn);
      },
      find: async (id) => {
        const entry = this.#get(keyOf(id));
        return entry ? readCopy(entry) : undefined;
      },
      findByUid: async (uid) => {
        const key = this.#uid.get(`${model}:${uid}`);
        const entry = key ? this.#get(key) : undefined;
        return entry ? readCopy(entry) : undefined;
      },
      findByUserCode: async (userCode) => {
        const key = this.#userCode.get(`${model}:${userCode}`);
        const entry = key ? this.#get(key) : undefined;
        return entry ? readCopy(entry) : undefined;
      },
      consume: async (id) => {
        const entry = this.#get(keyOf(id));
        // Two requests redeeming one code or rotated refresh token: only the first one wins, and a
        // record revoked or expired meanwhile is not redeemed either.
        if (!entry) throw consumeFailure(model, `${model} no longer exists`);
        if (entry.writtenConsumed || entry.consumedAt !== undefined) throw consumeFailure(model, `${model} already consumed`);
        entry.consumedAt = Math.floor(this.#now() / 1000);
      },
      destroy: async (id) => {
        this.#delete(keyOf(id));
      },
      revokeByGrantId: async (grantId) => {
        for (const key of [...(this.#byGrant.get(grantId) ?? [])]) {
          if (key.startsWith(`${model}:`)) this.#delete(key);
        }
      },
    };
  }
}
