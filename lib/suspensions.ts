/**
 * TPP organizations the bank suspended: a record per organization in the storage, read by every
 * check of a TPP's request (registration, token, revocation, authorization, introspection) and
 * remembered for `suspensionCacheTtl` by each instance.
 */
import { epochSeconds } from './clock.js';
import type { ResolvedOptions } from './options/index.js';
import type { Storage } from './storage.js';

/** Organizations whose suspension state is remembered at most (then forgotten all at once). */
const KNOWN_ORGANIZATIONS = 10_000;

export class Suspensions {
  readonly #storage: Storage;
  readonly #options: Pick<ResolvedOptions, 'suspensionCacheTtl' | 'now'>;
  /**
   * What this instance last read of each organization's suspension, for `suspensionCacheTtl`
   * (measured on the monotonic clock: the injectable `now` may stand still in tests).
   */
  readonly #known = new Map<string, { readonly suspended: Promise<boolean>; readonly until: number }>();

  readonly #onLookup: ((hit: boolean) => void) | undefined;

  /** `onLookup` is told whether each check found the state remembered (the metrics' hit ratio). */
  constructor(storage: Storage, options: Pick<ResolvedOptions, 'suspensionCacheTtl' | 'now'>, onLookup?: (hit: boolean) => void) {
    this.#storage = storage;
    this.#options = options;
    this.#onLookup = onLookup;
  }

  /** Milliseconds other instances may take to read a new suspension. */
  get propagationDelay(): number {
    return this.#options.suspensionCacheTtl * 1000;
  }

  #records() {
    return this.#storage.adapterFor('Suspension');
  }

  #remember(organization: string, suspended: Promise<boolean>): void {
    if (this.#known.size >= KNOWN_ORGANIZATIONS) this.#known.clear();
    this.#known.set(organization, { suspended, until: performance.now() + this.propagationDelay });
  }

  isSuspended(organization: string): Promise<boolean> {
    const read = () => this.#records().find(organization).then((record) => record !== undefined);
    if (this.propagationDelay === 0) return read();
    const cached = this.#known.get(organization);
    const hit = cached !== undefined && cached.until > performance.now();
    this.#onLookup?.(hit);
    if (hit) return cached.suspended;
    const suspended = read();
    this.#remember(organization, suspended);
    // A failed read is not remembered.
    suspended.catch(() => {
      if (this.#known.get(organization)?.suspended === suspended) this.#known.delete(organization);
    });
    return suspended;
  }

  /** Records the suspension, kept until lifted (no expiry, like client records). */
  async suspend(organization: string): Promise<void> {
    await this.#records().upsert(organization, { organization, suspendedAt: epochSeconds(this.#options.now) });
    if (this.propagationDelay > 0) this.#remember(organization, Promise.resolve(true));
  }

  async reinstate(organization: string): Promise<void> {
    await this.#records().destroy(organization);
    this.#known.delete(organization);
  }
}
