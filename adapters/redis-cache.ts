import { randomUUID } from 'node:crypto';

import type { RecordCache } from './record-cache.js';

/** The part of a node-redis client (or cluster) the cache listens on. */
export interface RedisSubscriber {
  connect(): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Lets the process end while the connection is open. */
  unref?(): void;
  destroy(): void;
}

/** How often an instance announces itself on the channel. */
export const HEARTBEAT_MS = 1000;
/** How long an instance keeps records without hearing its own announcements. */
export const SILENCE_MS = 3 * HEARTBEAT_MS;

/**
 * Events of a node-redis client or cluster after which announcements may have been missed: the
 * connection failed or was replaced (on a cluster, any node's).
 */
const DISRUPTIONS = ['error', 'end', 'reconnecting', 'node-error', 'node-reconnecting', 'node-disconnect'];

/**
 * A {@link RecordCache} kept coherent across the instances sharing a Redis: each instance announces
 * the keys it writes on one channel (the storage adds the announcement to the write's own
 * transaction) and listens there on a connection of its own, forgetting the keys other instances
 * announce. Records are kept only while the instance hears its own heartbeat, sent every second
 * through its main connection: a lost heartbeat, a silence of 3 s or a disruption of the listening
 * connection forgets everything. When Redis refuses the channel (ACL: NOPERM), nothing is kept and
 * writes are no longer announced.
 */
export class SharedRecordCache {
  readonly #instance = randomUUID();
  readonly #timer: NodeJS.Timeout;
  #subscriber: RedisSubscriber | undefined;
  #sent = 0;
  #expected = 1;
  #heardAt = Number.NEGATIVE_INFINITY;
  #permitted = true;

  constructor(
    private readonly records: RecordCache,
    readonly channel: string,
    /** Publishes on `channel` through the storage's own connection. */
    private readonly publish: (message: string) => Promise<unknown>,
    subscriber: RedisSubscriber,
    /** Told when Redis refuses the channel: a misconfiguration the host app should hear of. */
    private readonly warn: (message: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.#subscriber = subscriber;
    for (const event of DISRUPTIONS) subscriber.on(event, () => this.#disrupted());
    subscriber.unref?.();
    this.#timer = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#timer.unref();
    subscriber.connect()
      .then(() => subscriber.subscribe(channel, (message) => this.#heard(message)))
      .then(() => this.#beat())
      .catch((error: unknown) => this.#failed(error));
  }

  /** The records, while they are known to be up to date. */
  get kept(): RecordCache | undefined {
    if (this.now() - this.#heardAt <= SILENCE_MS) return this.records;
    if (this.#heardAt !== Number.NEGATIVE_INFINITY) this.#disrupted();
    return undefined;
  }

  /** What other instances are told of a write of `keys`; undefined once Redis refused the channel. */
  announcement(keys: readonly string[]): string | undefined {
    return this.#permitted ? JSON.stringify({ i: this.#instance, k: keys }) : undefined;
  }

  /** `key` was changed here (the change is sent): forgotten, and reads under way are not kept. */
  changed(key: string): void {
    this.records.invalidate(key);
  }

  /**
   * `key` was written here (the write is sent): forgotten now; the function returned keeps what was
   * written once Redis stored it (`undefined` when it failed), unless it changed meanwhile.
   */
  written(key: string): (json: string | undefined, expiresAt?: number) => void {
    this.records.invalidate(key);
    return this.kept ? this.records.beginRead(key) : () => undefined;
  }

  /** Stops listening; writes are still announced to the other instances. */
  close(): void {
    clearInterval(this.#timer);
    this.#subscriber?.destroy();
    this.#subscriber = undefined;
    this.#disrupted();
  }

  #beat(): void {
    if (!this.#subscriber || !this.#permitted) return;
    this.#sent += 1;
    this.publish(JSON.stringify({ i: this.#instance, b: this.#sent })).catch((error: unknown) => this.#failed(error));
  }

  #heard(message: string): void {
    let announcement: { i?: unknown; k?: unknown; b?: unknown };
    try {
      announcement = JSON.parse(message) as typeof announcement;
    } catch {
      this.records.clear();
      return;
    }
    if (announcement.i === this.#instance) {
      if (typeof announcement.b !== 'number') return;
      // A heartbeat lost on the way: announcements may have been lost with it.
      if (announcement.b !== this.#expected) this.records.clear();
      this.#expected = announcement.b + 1;
      this.#heardAt = this.now();
      return;
    }
    if (!Array.isArray(announcement.k)) return;
    for (const key of announcement.k) if (typeof key === 'string') this.records.invalidate(key);
  }

  #disrupted(): void {
    this.#heardAt = Number.NEGATIVE_INFINITY;
    this.records.clear();
  }

  /** Redis refused the channel: nothing is kept, and writes are not announced (they would fail). */
  #failed(error: unknown): void {
    this.#disrupted();
    const reason = String((error as { message?: unknown })?.message ?? error);
    if (!/NOPERM/.test(reason)) return;
    if (this.#permitted) this.warn(`Redis refused the channel ${this.channel} (${reason}): records are not kept in memory and writes are not announced; grant the Redis user &${this.channel}, or set cache: false`);
    this.#permitted = false;
    clearInterval(this.#timer);
    this.#subscriber?.destroy();
    this.#subscriber = undefined;
  }
}
