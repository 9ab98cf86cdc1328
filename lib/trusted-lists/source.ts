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
import type { Storage } from '../storage.js';
import { TrustedAnchorSet, type StoredTrustedSet } from './anchors.js';
import { loadTrustedLists, type LoadSettings } from './load.js';
import { TrustedListStore, type StoredLists } from './stored.js';
import { TrustedListError } from './xml.js';

/** Deepest nesting of elements read: the ETSI schema nests some fifteen levels. */
const MAX_DEPTH = 100;

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
  /** Seconds a national list that could not be read again stays in use past its NextUpdate. */
  readonly grace: number;
  /** Largest list read, in bytes. */
  readonly maxListBytes: number;
  /** Most elements a list may hold. */
  readonly maxElements: number;
  /** Milliseconds one list may take to parse and verify. */
  readonly readTimeout: number;
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
  /** Seconds since the oldest list in use (the LOTL or a national list) was verified; undefined while none was. */
  age(): number | undefined;
  /**
   * Calls `listener` with the QTSP certificates of each new set in use (after a reading, or when a
   * national list expires), and at once with those of the set in use, if any: e.g. to announce
   * them as acceptable issuers in the TLS listener's certificate request.
   */
  onChange(listener: (anchors: readonly X509Certificate[]) => void): void;
}

export class TrustedListSource implements AnchorSource, TrustedLists {
  readonly unavailableReason = 'the EU trusted lists of QTSPs have not been verified yet: TPP certificates of the bank environment cannot be checked now';
  readonly #settings: TrustedListSettings;
  readonly #dependencies: TrustedListDependencies;
  #onRefresh: ((outcome: RefreshOutcome) => void) | undefined;
  readonly #onChange: ((anchors: readonly X509Certificate[]) => void)[] = [];
  readonly #store: TrustedListStore;
  #set: TrustedAnchorSet | undefined;
  /** Whether the set in use was verified by this process (not merely read from the storage). */
  #verifiedHere = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #refreshing: Promise<RefreshOutcome> | undefined;
  #started: Promise<RefreshOutcome> | undefined;

  constructor(settings: TrustedListSettings, dependencies: TrustedListDependencies) {
    this.#settings = settings;
    this.#dependencies = dependencies;
    this.#store = new TrustedListStore(dependencies.storage, dependencies.logger);
  }

  /** Adds a listener of refreshes (the metrics, once the registry exists). */
  observe(onRefresh: (outcome: RefreshOutcome) => void): void {
    this.#onRefresh = onRefresh;
  }

  onChange(listener: (anchors: readonly X509Certificate[]) => void): void {
    this.#onChange.push(listener);
    if (this.#set) listener(this.#set.anchors);
  }

  /** The set in use; rebuilt without a national list once it is past its NextUpdate and grace. */
  current(): TrustedAnchorSet | undefined {
    const set = this.#set;
    if (set && this.#dependencies.now().getTime() >= set.expiresAt) this.#use(set.stored);
    return this.#set;
  }

  /** Puts `stored` in use, saying which national lists expired since the set before. */
  #use(stored: StoredTrustedSet): TrustedAnchorSet {
    const before = this.#set?.expired ?? [];
    const set = new TrustedAnchorSet(stored, { grace: this.#settings.grace * 1000, now: this.#dependencies.now });
    this.#set = set;
    for (const listener of this.#onChange) listener(set.anchors);
    const expired = set.expired.filter((territory) => !before.includes(territory));
    if (expired.length) {
      this.#dependencies.logger.warn({ event: 'trusted_list.territory_expired', territories: expired, anchors: set.anchors.length },
        `EU trusted lists past their NextUpdate and grace no longer anchor: ${expired.join(', ')}`);
    }
    return set;
  }

  /** The source's clock. */
  now(): Date {
    return this.#dependencies.now();
  }

  /** Seconds since the oldest list in use was verified; undefined without a set. */
  age(): number | undefined {
    return this.current()?.ageAt(this.#dependencies.now());
  }

  /** Ready while a set with anchors is in use, younger than `maxAge`, with a current list of every territory pointed to. */
  readiness(): { ready: boolean; detail?: string } {
    const set = this.current();
    const age = this.age();
    if (!set || age === undefined) return { ready: false, detail: 'no verified EU trusted list yet' };
    if (!set.anchors.length) return { ready: false, detail: 'the verified EU trusted lists anchor no QTSP' };
    const unusable = set.unusable();
    if (unusable.length) return { ready: false, detail: `no current verified EU trusted list of ${unusable.join(', ')}` };
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
    const stored = await this.#store.read(this.#settings.url, this.#settings.signers);
    if (stored && !this.#set) await this.#verifyStored(stored);
    return this.refresh();
  }

  /** Puts in use what of the stored lists verifies again against the pins now; nothing when the LOTL does not. */
  async #verifyStored(stored: StoredLists): Promise<void> {
    const { logger, now } = this.#dependencies;
    try {
      const result = await loadTrustedLists({ ...this.#loadSettings(), stored }, undefined, now(), false);
      this.#use(result.set);
      const failedTerritories = result.failures.map(({ territory, reason }) => ({ territory, reason }));
      logger.info({ event: 'trusted_list.stored_verified', anchors: this.#set?.anchors.length, failedTerritories }, 'the stored EU trusted lists verified again');
    } catch (error) {
      const reason = error instanceof TrustedListError ? error.message : 'they could not be verified again';
      logger.warn({ event: 'trusted_list.stored_discarded', reason, ...(error instanceof TrustedListError ? {} : { err: errorForLog(error) }) },
        `the stored EU trusted lists were not used: ${reason}`);
    }
  }

  #loadSettings(): LoadSettings {
    return {
      url: this.#settings.url,
      signers: this.#settings.signers,
      limits: { timeout: this.#settings.timeout, maxBytes: this.#settings.maxListBytes },
      caps: { maxElements: this.#settings.maxElements, maxDepth: MAX_DEPTH },
      readTimeout: this.#settings.readTimeout,
      ...(this.#dependencies.http ? { http: this.#dependencies.http } : {}),
    };
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
      const result = await loadTrustedLists(this.#loadSettings(), previous?.stored, now(), this.#verifiedHere);
      const set = this.#use(result.set);
      this.#verifiedHere = true;
      const failedTerritories = result.failures.map(({ territory, reason }) => ({ territory, reason }));
      outcome = { ok: true, failedTerritories, anchors: set.anchors.length };
      logger.info({
        event: 'trusted_list.verified', sequenceNumber: result.set.lotl.sequenceNumber, territories: Object.keys(result.set.territories).length,
        anchors: set.anchors.length, failedTerritories,
      }, `EU trusted lists verified: ${set.anchors.length} QTSP anchors`);
      this.#warnUnusable(set);
      await this.#store.write(result.set, result.texts);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      outcome = { ok: false, reason, failedTerritories: [], anchors: previous?.anchors.length ?? 0 };
      logger.error({ event: 'trusted_list.refused', reason, keptAge: previous?.ageAt(now()) }, `the EU list of trusted lists was not used: ${reason}`);
    }
    this.#schedule(outcome.ok);
    this.#onRefresh?.(outcome);
    return outcome;
  }

  #warnUnusable(set: TrustedAnchorSet): void {
    const unusable = set.unusable();
    if (!set.anchors.length || unusable.length) {
      this.#dependencies.logger.warn({ event: 'trusted_list.incomplete', anchors: set.anchors.length, territories: unusable },
        `the EU trusted lists in use anchor ${set.anchors.length} QTSPs; no current list of ${unusable.join(', ') || 'any territory'}`);
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
