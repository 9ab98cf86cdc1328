/**
 * A function's answers remembered for the keys seen, up to a bound: keys that come from requests
 * (scope strings) or from time (days, slots) must not grow a map without end. When full, every
 * answer is forgotten at once, which costs a recomputation of the few keys in use.
 */
export class BoundedMemo<K, V> {
  readonly #answers = new Map<K, V>();
  readonly #max: number;
  readonly #compute: (key: K) => V;

  constructor(max: number, compute: (key: K) => V) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, not ${String(max)}`);
    this.#max = max;
    this.#compute = compute;
  }

  /** How many answers are remembered: never more than the bound. */
  get size(): number {
    return this.#answers.size;
  }

  /** The answer for `key`, computed the first time it is asked for since the memo was last emptied. */
  get(key: K): V {
    let answer = this.#answers.get(key);
    if (answer === undefined && !this.#answers.has(key)) {
      answer = this.#compute(key);
      if (this.#answers.size >= this.#max) this.#answers.clear();
      this.#answers.set(key, answer);
    }
    return answer as V;
  }
}
