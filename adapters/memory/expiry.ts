/**
 * When MemoryStorage's records and counters expire: keys grouped by the second in which they
 * expire, and those seconds in a min-heap. Taking what is due visits only what is due, however many
 * keys wait for later, so a write never pays for the size of the storage.
 */
export class ExpiryQueue<K> {
  /** Keys by second (epoch seconds, rounded up): every key of second `s` expires at `s * 1000` or before. */
  readonly #buckets = new Map<number, Set<K>>();
  /** The seconds of #buckets, as a binary min-heap; each is in it once, until it is taken. */
  readonly #seconds: number[] = [];

  /** Number of keys waiting, for tests and diagnostics. */
  get size(): number {
    let size = 0;
    for (const bucket of this.#buckets.values()) size += bucket.size;
    return size;
  }

  /** Waits for `key` to expire at `expiresAt` (epoch milliseconds); Infinity never does. */
  add(key: K, expiresAt: number): void {
    if (expiresAt === Infinity) return;
    const second = Math.ceil(expiresAt / 1000);
    let bucket = this.#buckets.get(second);
    if (!bucket) {
      bucket = new Set();
      this.#buckets.set(second, bucket);
      this.#push(second);
    }
    bucket.add(key);
  }

  /**
   * Forgets `key`, added with `expiresAt`. Its second stays, empty, until it is due: a second taken
   * out of the heap here would cost a search through it.
   */
  remove(key: K, expiresAt: number): void {
    if (expiresAt !== Infinity) this.#buckets.get(Math.ceil(expiresAt / 1000))?.delete(key);
  }

  /** Waits for `key`, added with `from`, to expire at `to` instead; nothing moves within one second. */
  move(key: K, from: number, to: number): void {
    if (from === to || (from !== Infinity && to !== Infinity && Math.ceil(from / 1000) === Math.ceil(to / 1000))) return;
    this.remove(key, from);
    this.add(key, to);
  }

  /** Takes out the keys expired at `now` (epoch milliseconds), second by second, oldest first. */
  takeDue(now: number): K[] {
    const due: K[] = [];
    while (this.#seconds.length > 0 && this.#seconds[0]! * 1000 <= now) {
      const second = this.#pop();
      const bucket = this.#buckets.get(second);
      this.#buckets.delete(second);
      if (bucket) for (const key of bucket) due.push(key);
    }
    return due;
  }

  #push(second: number): void {
    const heap = this.#seconds;
    let i = heap.push(second) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= second) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = second;
  }

  #pop(): number {
    const heap = this.#seconds;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
