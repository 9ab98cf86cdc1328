/**
 * The background sweep: re-checks the watched paths whose status expired or expires before the
 * next sweep, so that a revocation takes effect (and is audited) even for a TPP that does not call
 * again, and the request path finds a fresh status. One sweep at a time; with several instances,
 * one of them sweeps in each interval.
 */
import type { X509Certificate } from 'node:crypto';

import type { Storage } from '../../storage.js';
import type { Logger } from '../../logger.js';
import type { PathStatus } from './checker.js';
import type { Watchlist } from './watchlist.js';

export interface SweepResult {
  /** Paths looked up again. */
  readonly checked: number;
  /** Of those, paths found revoked. */
  readonly revoked: number;
}

export interface SweeperParts {
  readonly storage: Storage;
  readonly logger: Logger;
  readonly watchlist: Watchlist;
  readonly now: () => number;
  readonly due: (path: readonly X509Certificate[], horizon: number) => Promise<boolean>;
  readonly check: (path: readonly X509Certificate[], horizon: number) => Promise<PathStatus>;
}

/** Paths checked at once: a sweep should not flood the QTSPs' responders. */
const CONCURRENCY = 4;

/** The counter that elects the instance sweeping in an interval. */
const TURN = 'revocation-sweep';

export class Sweeper {
  #interval = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(private readonly parts: SweeperParts) {}

  async sweep(withinSeconds = this.#interval): Promise<SweepResult> {
    const { watchlist, now, due, check, logger } = this.parts;
    const listed = [...(await watchlist.listed()).keys()];
    let checked = 0;
    let revoked = 0;
    const next = async (): Promise<void> => {
      for (let thumbprint = listed.shift(); thumbprint !== undefined; thumbprint = listed.shift()) {
        try {
          const path = await watchlist.path(thumbprint);
          if (!path) {
            await watchlist.forget(thumbprint);
            continue;
          }
          const horizon = now() + withinSeconds * 1000;
          if (!(await due(path, horizon))) continue;
          checked += 1;
          if ((await check(path, horizon)).status === 'revoked') revoked += 1;
        } catch (error) {
          logger.warn({ event: 'revocation.sweep_failed', thumbprint, err: error }, 'a watched certificate could not be checked again');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, next));
    return { checked, revoked };
  }

  start(intervalSeconds: number): void {
    if (!(Number.isFinite(intervalSeconds) && intervalSeconds > 0)) throw new TypeError(`the sweep interval must be a positive number of seconds, not ${intervalSeconds}`);
    clearTimeout(this.#timer);
    this.#interval = intervalSeconds;
    this.#stopped = false;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#turn().finally(() => {
        this.#running = undefined;
        this.#schedule();
      });
    }, this.#interval * 1000);
    this.#timer.unref();
  }

  /** One timed sweep, by this instance when no other took this interval's turn. */
  async #turn(): Promise<void> {
    const { storage, logger } = this.parts;
    try {
      const turn = await storage.incrementCounter(TURN, Math.max(1, Math.floor(this.#interval) - 1));
      if (turn !== 1) {
        // Another instance sweeps; this one still lists again what a concurrent update lost.
        await this.parts.watchlist.listed();
        return;
      }
      const result = await this.sweep();
      if (result.checked) logger.info({ event: 'revocation.sweep', ...result }, 'watched certificates checked again');
    } catch (error) {
      logger.warn({ event: 'revocation.sweep_failed', err: error }, 'the revocation sweep failed');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Whether a timed sweep is scheduled. */
  get scheduled(): boolean {
    return this.#timer !== undefined;
  }
}
