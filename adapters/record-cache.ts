/**
 * Records of the storage kept in this process's memory, by key: bounded in number (the least
 * recently used go first) and in age, and told of changes. A read that was under way when its key
 * changed does not fill the cache with what it read.
 */
export class RecordCache {
  readonly #entries = new Map<string, { readonly json: string; readonly expiresAt: number }>();
  /** Reads under way, by key, and the version at which the key last changed while they were. */
  readonly #reads = new Map<string, { count: number; changedAt: number }>();
  #version = 0;
  #clearedAt = 0;

  constructor(
    readonly maxEntries: number,
    /** Milliseconds an entry is kept at most. */
    readonly maxAge: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /** The record's JSON, when it is kept and has not expired. */
  get(key: string): string | undefined {
    return this.#used(key)?.json;
  }

  /**
   * An object standing for what is kept of the record, when it is kept and has not expired: the
   * same until the key is set again (even to the same JSON), forgotten or cleared, never after.
   */
  revision(key: string): object | undefined {
    return this.#used(key);
  }

  /** The live entry of `key`, made the most recently used; an expired one is forgotten. */
  #used(key: string): { readonly json: string; readonly expiresAt: number } | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.#entries.set(key, entry);
    return entry;
  }

  /** Keeps `json` until `expiresAt` (ms since the epoch, when the record itself expires) or `maxAge`. */
  set(key: string, json: string, expiresAt?: number): void {
    const now = this.now();
    const until = Math.min(now + this.maxAge, expiresAt ?? Number.POSITIVE_INFINITY);
    this.#entries.delete(key);
    if (until <= now) return;
    // Frozen: the entry itself is what revision() hands out.
    this.#entries.set(key, Object.freeze({ json, expiresAt: until }));
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.maxEntries) break;
      this.#entries.delete(oldest);
    }
  }

  /** The record changed or is gone: forgotten, and reads of it under way will not be kept. */
  invalidate(key: string): void {
    this.#version += 1;
    this.#entries.delete(key);
    const read = this.#reads.get(key);
    if (read) read.changedAt = this.#version;
  }

  /** Forgets everything, including what reads under way bring back. */
  clear(): void {
    this.#version += 1;
    this.#clearedAt = this.#version;
    this.#entries.clear();
  }

  /**
   * Marks the start of a read of `key`; the function returned ends it and keeps what was read,
   * unless the key changed or the cache was cleared in between. It must be called once, with
   * `undefined` when the read found nothing or failed.
   */
  beginRead(key: string): (json: string | undefined, expiresAt?: number) => void {
    const startedAt = this.#version;
    const read = this.#reads.get(key) ?? { count: 0, changedAt: 0 };
    read.count += 1;
    this.#reads.set(key, read);
    return (json, expiresAt) => {
      read.count -= 1;
      if (read.count === 0) this.#reads.delete(key);
      if (json === undefined || read.changedAt > startedAt || this.#clearedAt > startedAt) return;
      this.set(key, json, expiresAt);
    };
  }
}
