import type { RecordAdapter as Adapter, RecordPayload as AdapterPayload } from '../lib/storage.js';

import { checkCounterGroup, type CounterLimit, type Storage } from '../lib/storage.js';
import { accountOf, consumeFailure, organizationOf, ownerOf } from './records.js';

interface Entry {
  readonly model: string;
  readonly payload: AdapterPayload;
  /** Whether the payload is JSON data, copied on every read without checks. */
  readonly plain: boolean;
  /** Epoch milliseconds, or Infinity for records without expiry. */
  readonly expiresAt: number;
}

const SWEEP_EVERY = 1000;

/** Nesting beyond which a payload is left to structuredClone (which also copies cycles). */
const MAX_PLAIN_DEPTH = 64;
const NOT_PLAIN = Symbol('not plain');

/**
 * A deep copy of `value` when it is JSON data (plain objects, arrays without holes, primitives), or
 * NOT_PLAIN. Several times cheaper than structuredClone, which the storage pays on every write and
 * every read.
 */
function plainCopy(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return typeof value === 'function' || typeof value === 'symbol' ? NOT_PLAIN : value;
  if (depth > MAX_PLAIN_DEPTH) return NOT_PLAIN;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value) && prototype === Array.prototype) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      const copied = item === undefined && !(i in value) ? NOT_PLAIN : plainCopy(item, depth + 1);
      if (copied === NOT_PLAIN) return NOT_PLAIN;
      copy[i] = copied;
    }
    return copy;
  }
  if (prototype !== Object.prototype && prototype !== null) return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copied = plainCopy((value as Record<string, unknown>)[key], depth + 1);
    if (copied === NOT_PLAIN) return NOT_PLAIN;
    // An own `__proto__` field (JSON.parse makes one) stays a field, as structuredClone keeps it.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: copied, enumerable: true, writable: true, configurable: true });
    else copy[key] = copied;
  }
  return copy;
}

/**
 * A deep copy of a payload stored as JSON data (checked once, when it was written): every read pays
 * for a copy, none for the checks again.
 */
function copyStored(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i += 1) copy[i] = copyStored(value[i]);
    return copy;
  }
  const copy: Record<string, unknown> = {};
  // Object.keys, not for…in: the records' many shapes make for…in the slower of the two.
  for (const key of Object.keys(value)) {
    const copied = copyStored((value as Record<string, unknown>)[key]);
    if (key === '__proto__') Object.defineProperty(copy, key, { value: copied, enumerable: true, writable: true, configurable: true });
    else copy[key] = copied;
  }
  return copy;
}

/**
 * A copy of a payload that shares nothing with it: no caller can change a stored record through the
 * object it gave or was given. Anything but JSON data goes through structuredClone, as it always did.
 */
function copyPayload(payload: AdapterPayload): { payload: AdapterPayload; plain: boolean } {
  const copied = plainCopy(payload, 0);
  return copied === NOT_PLAIN ? { payload: structuredClone(payload), plain: false } : { payload: copied as AdapterPayload, plain: true };
}

/** A copy of a stored entry's payload for a reader. */
function readCopy(entry: Entry): AdapterPayload {
  return entry.plain ? copyStored(entry.payload) as AdapterPayload : structuredClone(entry.payload);
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
  readonly #now: () => number;
  #writes = 0;

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
    this.#counters.delete(name);
  }

  /** Number of live records, for tests and diagnostics. */
  get size(): number {
    return this.#records.size;
  }

  #increment(name: string, windowSeconds: number, amount: number): number {
    const now = this.#now();
    let counter = this.#counters.get(name);
    if (!counter || counter.expiresAt <= now) {
      counter = { value: 0, expiresAt: now + windowSeconds * 1000 };
      this.#counters.set(name, counter);
    }
    counter.value += amount;
    this.#writes += 1;
    if (this.#writes % SWEEP_EVERY === 0) this.#sweep();
    return counter.value;
  }

  #read(name: string): number {
    const counter = this.#counters.get(name);
    if (!counter) return 0;
    if (counter.expiresAt <= this.#now()) {
      this.#counters.delete(name);
      return 0;
    }
    return counter.value;
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
    const { payload } = entry;
    if (typeof payload.grantId === 'string') this.#unindex(this.#byGrant, payload.grantId, key);
    const owner = ownerOf(entry.model, key.slice(entry.model.length + 1), payload);
    if (owner) this.#unindex(this.#byClient, owner, key);
    const account = accountOf(entry.model, payload);
    if (account) this.#unindex(this.#byAccount, account, key);
    const organization = organizationOf(entry.model, payload);
    if (organization) this.#unindex(this.#byOrganization, organization, key);
    if (typeof payload.uid === 'string' && this.#uid.get(`${entry.model}:${payload.uid}`) === key) this.#uid.delete(`${entry.model}:${payload.uid}`);
    if (typeof payload.userCode === 'string' && this.#userCode.get(`${entry.model}:${payload.userCode}`) === key) {
      this.#userCode.delete(`${entry.model}:${payload.userCode}`);
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

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#records) {
      if (entry.expiresAt <= now) this.#delete(key);
    }
    for (const [name, counter] of this.#counters) {
      if (counter.expiresAt <= now) this.#counters.delete(name);
    }
  }

  #createAdapter(model: string): Adapter {
    const keyOf = (id: string) => `${model}:${id}`;

    return {
      upsert: async (id, payload, expiresIn) => {
        const key = keyOf(id);
        this.#delete(key);
        const expiresAt = typeof expiresIn === 'number' ? this.#now() + expiresIn * 1000 : Infinity;
        this.#records.set(key, { model, ...copyPayload(payload), expiresAt });
        if (typeof payload.grantId === 'string') this.#index(this.#byGrant, payload.grantId, key);
        const owner = ownerOf(model, id, payload);
        if (owner) this.#index(this.#byClient, owner, key);
        const account = accountOf(model, payload);
        if (account) this.#index(this.#byAccount, account, key);
        const organization = organizationOf(model, payload);
        if (organization) this.#index(this.#byOrganization, organization, key);
        if (typeof payload.uid === 'string') this.#uid.set(`${model}:${payload.uid}`, key);
        if (typeof payload.userCode === 'string') this.#userCode.set(`${model}:${payload.userCode}`, key);
        this.#writes += 1;
        if (this.#writes % SWEEP_EVERY === 0) this.#sweep();
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
        if (entry.payload.consumed !== undefined) throw consumeFailure(model, `${model} already consumed`);
        entry.payload.consumed = Math.floor(this.#now() / 1000);
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
