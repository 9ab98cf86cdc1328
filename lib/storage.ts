/**
 * A stored record: an oidc-provider model's payload (a grant, a token, a client's metadata) or one
 * of the server's own (a payment authorization, a suspension), as JSON-compatible fields.
 */
export interface RecordPayload {
  [field: string]: unknown;
}

/**
 * The records of one model, as oidc-provider's adapters keep them (its `Adapter` interface, in the
 * product's own types: the public declarations name no oidc-provider type).
 */
export interface RecordAdapter {
  /** Stores the record, replacing any; it expires `expiresIn` seconds from now, or never. */
  upsert(id: string, payload: RecordPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<RecordPayload | undefined>;
  findByUserCode(userCode: string): Promise<RecordPayload | undefined>;
  findByUid(uid: string): Promise<RecordPayload | undefined>;
  /** Marks the record consumed (`consumed` set to the time, in seconds). */
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  /** Destroys every record of the grant `grantId`. */
  revokeByGrantId(grantId: string): Promise<void>;
}

/**
 * The storage seam of the authorization server. Besides oidc-provider's per-model adapters it keeps
 * the client → records index that oidc-provider itself lacks, so that deleting or suspending a client
 * removes every grant, code and token it holds.
 */
export interface Storage {
  /** The adapter of one model (`Client`, `Grant`, `AccessToken`, …, and the server's own). */
  adapterFor(model: string): RecordAdapter;
  /**
   * Removes every record held for the client: its metadata, grants, codes, tokens; with
   * `keepMetadata`, its grants, codes and tokens only (the client stays registered, with its
   * metadata and registration access tokens).
   */
  removeClient(clientId: string, options?: { keepMetadata?: boolean }): Promise<void>;
  /** Ids of the grants a PSU holds (the `accountId` of `Grant` records). */
  grantIdsOf(accountId: string): Promise<string[]>;
  /** Ids of the clients an organization registered (the `provider_legal_id` of `Client` records). */
  clientIdsOf(organization: string): Promise<string[]>;
  /**
   * Adds `amount` (default 1, may be negative) to the counter `name` and returns its new value. A
   * counter that does not exist starts at zero and expires `windowSeconds` after it is created (a
   * fixed window), e.g. sign-in attempts of a PSU. Must be atomic across instances sharing the storage.
   */
  incrementCounter(name: string, windowSeconds: number, amount?: number): Promise<number>;
  /** The counter's value, 0 when it does not exist or has expired. */
  readCounter(name: string): Promise<number>;
  /** Deletes the counter. */
  resetCounter(name: string): Promise<void>;
  /**
   * Counts one attempt against every counter of `counters`, in one atomic step across instances:
   * adds 1 to each when every one of them is below its `limit`; otherwise changes none of them, and
   * creates none, and resolves false. Counters are checked in the order given (e.g. a client
   * address before an identifier), so that one used up stops the attempt before any other is
   * touched. Windows as in `incrementCounter` (a counter created here expires `windowSeconds`
   * after). Counters counted together must be of one group (see {@link counterGroup}); the
   * storage refuses others with a TypeError.
   */
  incrementCountersWithin(counters: readonly CounterLimit[]): Promise<boolean>;
  /**
   * Optional: runs `work` (one request) with its record writes pipelined, and resolves once every
   * write is stored, rejecting with the first failure. Without it, each write is awaited in turn.
   */
  batch?<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Optional: an object standing for the record `model`/`id` as it is stored now, when the storage
   * can tell without a call (from its own memory): the same object while the record is unchanged,
   * and never the same again once it is rewritten, deleted or expired. Undefined when there is no
   * such record or the storage cannot tell. It must agree with `adapterFor(model).find`: while the
   * revision is the same, `find` answers the record it stands for. The server reuses what it built
   * from a record (the client oidc-provider validated) while its revision is the same, and
   * otherwise reads it. Only its identity counts: the object tells nothing of the record.
   */
  recordRevision?(model: string, id: string): object | undefined;
  /**
   * Optional: from now on, tells `observer` the time and outcome of each call and the hits and
   * misses of a cache it keeps. The server calls it once, with its metrics, when it is created
   * (a storage shared by several servers reports to the last one). A storage without it is not
   * timed: the memory storage answers within the request's own time.
   */
  observe?(observer: StorageObserver): void;
  /**
   * Optional: whether the storage hears its change announcements now (the Redis storage's shared
   * cache), read at each scrape of `pubsub_up`.
   */
  readonly caching?: boolean;
}

/** What a storage tells the server's metrics; see {@link Storage.observe}. */
export interface StorageObserver {
  /** One call: its operation (`find`, `upsert`, `incrementCounter`, …), seconds, and whether it succeeded. */
  recordStorage(operation: string, seconds: number, ok: boolean): void;
  /** One look-up in the storage's record cache. */
  recordCacheLookup(cache: 'records', hit: boolean): void;
}

/** One counter of {@link Storage.incrementCountersWithin}: its name, window and limit. */
export interface CounterLimit {
  readonly name: string;
  readonly windowSeconds: number;
  /** The highest value the counter may reach: at this value, it is used up. */
  readonly limit: number;
}

/**
 * The group of a counter whose name begins with `{group}` (e.g. `{login-attempts}:ip:192.0.2.1`),
 * or undefined. A group's counters are kept together (on Redis: in one cluster hash slot) so that
 * one atomic step can count several of them; counters without a group are spread by name.
 */
export function counterGroup(name: string): string | undefined {
  return /^\{([^{}]+)\}/.exec(name)?.[1];
}

/** Throws unless `counters` can be counted in one step: one counter, or counters of one group. */
export function checkCounterGroup(counters: readonly CounterLimit[]): void {
  if (counters.length < 2) return;
  const group = counterGroup(counters[0]!.name);
  if (group === undefined || counters.some((counter) => counterGroup(counter.name) !== group)) {
    throw new TypeError(`counters counted in one step must share a {group} prefix: ${counters.map((counter) => counter.name).join(', ')}`);
  }
}

/** A value as the storage keeps it: what JSON carries. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

/**
 * A record of the product's own models (certificate statuses, CRLs, …), as the storage keeps it: a
 * JSON object. Declare record shapes with `type` (an `interface` has no index signature).
 */
export type JsonRecord = { readonly [key: string]: JsonValue | undefined };

/** The records of one of the product's own models, typed: see {@link recordsOf}. */
export interface Records<T extends JsonRecord> {
  /** The record, when one is stored and `accepts` recognises it; undefined otherwise. */
  find(id: string): Promise<T | undefined>;
  /** Stores `record` under `id`, replacing any other, for `expiresIn` seconds (for good without). */
  upsert(id: string, record: T, expiresIn?: number): Promise<void>;
  destroy(id: string): Promise<void>;
}

/**
 * The records of `model` in `storage`, written as `T` and read back only when `accepts` recognises
 * what is stored: another version of the product, or a hand, may have written something else.
 */
export function recordsOf<T extends JsonRecord>(storage: Storage, model: string, accepts: (stored: unknown) => stored is T): Records<T> {
  const adapter = () => storage.adapterFor(model);
  return {
    find: async (id) => {
      const stored: unknown = await adapter().find(id);
      return accepts(stored) ? stored : undefined;
    },
    upsert: async (id, record, expiresIn) => {
      await adapter().upsert(id, record, expiresIn);
    },
    destroy: async (id) => {
      await adapter().destroy(id);
    },
  };
}
