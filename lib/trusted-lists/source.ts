/**
 * The bank environment's trust anchors from the EU trusted lists: the last verified set, kept in
 * memory for the certificate checks and in the storage for the next start, refreshed on a schedule
 * that honours each list's NextUpdate. A list that fails verification never replaces a good set;
 * while no set was ever verified, nothing chains through this source.
 */
import type { X509Certificate } from 'node:crypto';

import type { AnchorSource } from '../certificates/anchor-source.js';
import type { HttpClient } from '../certificates/revocation/fetch.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { errorForLog } from '../observability/errors-for-log.js';
import { recordsOf, type Records, type Storage } from '../storage.js';
import { TrustedAnchorSet, isStoredTrustedSet, type StoredTrustedSet } from './anchors.js';
import { loadTrustedLists } from './load.js';

const MODEL = 'TrustedList';
const RECORD_ID = 'eu-lotl';
/** Largest list read, in bytes: national lists run to a few megabytes. */
const MAX_LIST_BYTES = 32 * 1024 * 1024;

/** The trusted-list settings, resolved (see TrustedListOptions). */
export interface TrustedListSettings {
  readonly url: string;
  readonly signers: readonly X509Certificate[];
  /** Seconds between refreshes, at most (an earlier NextUpdate comes first). */
  readonly refreshInterval: number;
  /** Seconds before a failed refresh is tried again. */
  readonly retryInterval: number;
  /** Seconds the set may go without a successful refresh before the instance reports itself not ready. */
  readonly maxAge: number;
  /** Milliseconds to read one list. */
  readonly timeout: number;
}

/** How a refresh went. */
export interface RefreshOutcome {
  readonly ok: boolean;
  /** Why the list of lists was not used, when it was not. */
  readonly reason?: string;
  /** Territories whose list was not used, and why. */
  readonly failedTerritories: readonly { readonly territory: string; readonly reason: string }[];
  readonly anchors: number;
}

export interface TrustedListDependencies {
  readonly storage: Storage;
  readonly now: Clock;
  readonly logger: Logger;
  readonly http?: HttpClient;
}

/** The trusted lists as the host sees them (AuthorizationServer.trustedLists). */
export interface TrustedLists {
  /** Settles when the first reading at start-up is done (after the stored set, if any, is in use). */
  readonly started: Promise<RefreshOutcome>;
  /** Reads the lists now, e.g. when the operator learns of a new LOTL; one reading at a time. */
  refresh(): Promise<RefreshOutcome>;
  /** Seconds since the set in use was verified; undefined while none was. */
  age(): number | undefined;
}

export class TrustedListSource implements AnchorSource, TrustedLists {
  readonly unavailableReason = 'the EU trusted lists of QTSPs have not been verified yet: TPP certificates of the bank environment cannot be checked now';
  readonly #settings: TrustedListSettings;
  readonly #dependencies: TrustedListDependencies;
  #onRefresh: ((outcome: RefreshOutcome) => void) | undefined;
  readonly #records: Records<StoredTrustedSet>;
  #set: TrustedAnchorSet | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #refreshing: Promise<RefreshOutcome> | undefined;
  #started: Promise<RefreshOutcome> | undefined;

  constructor(settings: TrustedListSettings, dependencies: TrustedListDependencies) {
    this.#settings = settings;
    this.#dependencies = dependencies;
    this.#records = recordsOf(dependencies.storage, MODEL, isStoredTrustedSet);
  }

  /** Adds a listener of refreshes (the metrics, once the registry exists). */
  observe(onRefresh: (outcome: RefreshOutcome) => void): void {
    this.#onRefresh = onRefresh;
  }

  current(): TrustedAnchorSet | undefined {
    return this.#set;
  }

  /** Seconds since the set in use was verified; undefined without one. */
  age(): number | undefined {
    return this.#set?.ageAt(this.#dependencies.now());
  }

  /** Ready while a set is in use and younger than `maxAge`. */
  readiness(): { ready: boolean; detail?: string } {
    const age = this.age();
    if (age === undefined) return { ready: false, detail: 'no verified EU trusted list yet' };
    if (age > this.#settings.maxAge) return { ready: false, detail: `the EU trusted lists were last verified ${age} s ago` };
    return { ready: true };
  }

  get started(): Promise<RefreshOutcome> {
    this.#started ??= this.#start();
    return this.#started;
  }

  /** Loads the stored set, then refreshes from the publisher and keeps refreshing on schedule. */
  start(): Promise<RefreshOutcome> {
    return this.started;
  }

  async #start(): Promise<RefreshOutcome> {
    try {
      const stored = await this.#records.find(RECORD_ID);
      if (stored && !this.#set) this.#set = new TrustedAnchorSet(stored);
    } catch (error) {
      this.#dependencies.logger.error({ event: 'trusted_list.storage_failed', err: errorForLog(error) }, 'the stored EU trusted lists could not be read');
    }
    return this.refresh();
  }

  /** Reads the lists now (one reading at a time) and schedules the next. */
  refresh(): Promise<RefreshOutcome> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<RefreshOutcome> {
    const { logger, now } = this.#dependencies;
    const previous = this.#set;
    let outcome: RefreshOutcome;
    try {
      const result = await loadTrustedLists({
        url: this.#settings.url,
        signers: this.#settings.signers,
        limits: { timeout: this.#settings.timeout, maxBytes: MAX_LIST_BYTES },
        ...(this.#dependencies.http ? { http: this.#dependencies.http } : {}),
      }, previous?.stored, now());
      const set = new TrustedAnchorSet(result.set);
      this.#set = set;
      const failedTerritories = result.failures.map(({ territory, reason }) => ({ territory, reason }));
      outcome = { ok: true, failedTerritories, anchors: set.anchors.length };
      logger.info({
        event: 'trusted_list.verified', sequenceNumber: result.set.lotl.sequenceNumber, territories: Object.keys(result.set.territories).length,
        anchors: set.anchors.length, failedTerritories,
      }, `EU trusted lists verified: ${set.anchors.length} QTSP anchors`);
      await this.#store(result.set);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      outcome = { ok: false, reason, failedTerritories: [], anchors: previous?.anchors.length ?? 0 };
      logger.error({ event: 'trusted_list.refused', reason, keptAge: previous?.ageAt(now()) }, `the EU list of trusted lists was not used: ${reason}`);
    }
    this.#schedule(outcome.ok);
    this.#onRefresh?.(outcome);
    return outcome;
  }

  async #store(set: StoredTrustedSet): Promise<void> {
    try {
      await this.#records.upsert(RECORD_ID, set);
    } catch (error) {
      this.#dependencies.logger.error({ event: 'trusted_list.storage_failed', err: errorForLog(error) }, 'the verified EU trusted lists could not be stored');
    }
  }

  /** The next refresh: after `refreshInterval`, or at the earliest NextUpdate if sooner; after `retryInterval` when this one failed. */
  #schedule(succeeded: boolean): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    let seconds = succeeded ? this.#settings.refreshInterval : this.#settings.retryInterval;
    const stored = this.#set?.stored;
    if (succeeded && stored) {
      const dates = [stored.lotl.nextUpdate, ...Object.values(stored.territories).map((list) => list.nextUpdate)].filter((date) => date !== null);
      const untilNext = (Math.min(...dates) - this.#dependencies.now().getTime()) / 1000;
      if (untilNext > 0) seconds = Math.min(seconds, Math.max(untilNext, this.#settings.retryInterval));
    }
    this.#timer = setTimeout(() => void this.refresh(), seconds * 1000);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}
