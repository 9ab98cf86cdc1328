import { randomUUID } from 'node:crypto';

import type { RecordCache } from '../record-cache.js';
import type { ChannelListener, RedisSubscriber } from './client.js';

/** Models kept in memory by the cache: read several times in one authorization. */
export const CACHED: ReadonlySet<string> = new Set(['Client', 'Interaction', 'Grant', 'Session']);

/** How often an instance announces itself on the channel. */
export const HEARTBEAT_MS = 1000;
/** How long an instance keeps records after sending the last heartbeat it heard. */
export const SILENCE_MS = 3 * HEARTBEAT_MS;

/**
 * Events of a node-redis client or cluster after which announcements may have been missed: the
 * connection failed or was replaced (on a cluster, any node's).
 */
const DISRUPTIONS = ['error', 'end', 'reconnecting', 'node-error', 'node-reconnecting', 'node-disconnect'];

/**
 * A {@link RecordCache} kept coherent across the instances sharing a Redis: each instance announces
 * the keys it writes on one channel (the storage adds the announcement to the write's own
 * transaction) and listens there on the subscriber connection the host app gave, forgetting the
 * keys other instances announce.
 *
 * The heartbeat is what makes kept records safe to serve: an announcement lost on the way (a
 * dropped or lagging listening connection) would otherwise leave a changed record served from
 * memory. So records are kept only while the instance hears its own heartbeat, which it sends every
 * second through its main connection (on a cluster, through its nodes in turn): a lost heartbeat,
 * one heard more than 3 s after it was sent, or a disruption of the listening connection forgets
 * everything. The heartbeat starts with the cache (when the host gives a subscriber) on a timer
 * that keeps no process alive, and stops with `close()`.
 *
 * When Redis refuses the channel (ACL: NOPERM), nothing is kept and writes are no longer announced.
 * Should listening fail to start, nothing is kept either; `warn` hears of both.
 */
export class SharedRecordCache {
  readonly #instance = randomUUID();
  readonly #timer: NodeJS.Timeout;
  /** Hears the channel while listening: a message arriving after `close()` changes nothing. */
  readonly #listener: ChannelListener = (message) => {
    if (this.#subscriber) this.#heard(String(message));
  };
  readonly #onDisruption = () => this.#disrupted();
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
    /** Told when Redis refuses the channel or listening fails to start: the host app should hear of it. */
    private readonly warn: (message: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.#subscriber = subscriber;
    for (const event of DISRUPTIONS) subscriber.on(event, this.#onDisruption);
    this.#timer = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#timer.unref();
    // A subscriber that throws rather than rejects (e.g. one closed) fails the same way.
    (async () => subscriber.subscribe(channel, this.#listener))()
      .then(() => this.#beat())
      .catch((error: unknown) => {
        // Stopped meanwhile (closed, or refused on a write): nothing more to say.
        if (this.#subscriber !== subscriber || this.refused(error)) return;
        this.#tell(`listening on ${channel} failed (${reasonOf(error)}): records are not kept in memory`);
        this.#stop();
      });
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

  /**
   * Stops the heartbeat and listening (the subscriber connection stays the host app's to close);
   * writes are still announced to the other instances.
   */
  close(): void {
    this.#stop();
  }

  /**
   * Whether `error` (of a write or a heartbeat) is Redis refusing the channel: then nothing is
   * kept from now on and writes are not announced (the write can be sent again without).
   */
  refused(error: unknown): boolean {
    // "NOPERM … access one of the channels …" (a key refused is another matter).
    if (!/NOPERM.*channel/i.test(reasonOf(error))) return false;
    if (this.#permitted) this.#tell(`Redis refused the channel ${this.channel} (${reasonOf(error)}): records are not kept in memory and writes are not announced; grant the Redis user &${this.channel}, or set cache: false`);
    this.#permitted = false;
    this.#stop();
    return true;
  }

  #beat(): void {
    if (!this.#subscriber || !this.#permitted) return;
    this.#sent += 1;
    this.publish(JSON.stringify({ i: this.#instance, b: this.#sent, t: this.now() })).catch((error: unknown) => {
      if (!this.refused(error)) this.#disrupted();
    });
  }

  #heard(message: string): void {
    let announcement: { i?: unknown; k?: unknown; b?: unknown; t?: unknown };
    try {
      announcement = JSON.parse(message) as typeof announcement;
    } catch {
      this.records.clear();
      return;
    }
    if (announcement.i === this.#instance) {
      if (typeof announcement.b !== 'number' || typeof announcement.t !== 'number') return;
      // A heartbeat lost on the way: announcements may have been lost with it.
      if (announcement.b !== this.#expected) this.records.clear();
      this.#expected = announcement.b + 1;
      // Fresh as of its sending: a listening connection that lags behind is as good as silent.
      this.#heardAt = announcement.t;
      return;
    }
    if (!Array.isArray(announcement.k)) return;
    for (const key of announcement.k) if (typeof key === 'string') this.records.invalidate(key);
  }

  #disrupted(): void {
    this.#heardAt = Number.NEGATIVE_INFINITY;
    this.records.clear();
  }

  /** Nothing kept from now on: no heartbeat, no listening. */
  #stop(): void {
    clearInterval(this.#timer);
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    this.#disrupted();
    if (!subscriber) return;
    for (const event of DISRUPTIONS) subscriber.off(event, this.#onDisruption);
    // Not awaited: while Redis is away it would wait for it. Should it fail (the host closed the
    // connection, Redis refused the channel), nothing is heard here any more either way.
    subscriber.unsubscribe(this.channel, this.#listener).catch(() => undefined);
  }

  #tell(message: string): void {
    try {
      this.warn(message);
    } catch {
      // The host app's handler failing must not end the process.
    }
  }
}

function reasonOf(error: unknown): string {
  return String((error as { message?: unknown } | undefined)?.message ?? error);
}
