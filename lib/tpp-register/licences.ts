/**
 * The register in use: the last snapshot that loaded, refreshed on a schedule, looked up in memory
 * at each registration and token request of the environments it applies to. A load that fails
 * leaves the last good snapshot in use; without any, TPPs are accepted as unknown: a register
 * outage blocks no one.
 */
import type { EnvironmentName } from '../certificates/identity.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { licenceDecision, type LicenceDecision } from './decision.js';
import { entryFingerprint, type RegisterExemptions } from './exemptions.js';
import { licenceKeyOf } from './nca-ids.js';
import type { TppLicence, TppRegister, TppRegisterSnapshot } from './types.js';

/** The `tppRegister` option, with its defaults. */
export interface ResolvedTppRegister {
  readonly register: TppRegister;
  readonly country: string;
  readonly environments: readonly EnvironmentName[];
  readonly refreshInterval: number;
  readonly sweepInterval: number;
  readonly maxShrink: number;
  readonly retryDelay: number;
  readonly maxSuspensions: number;
  readonly maxSuspensionShare: number;
  readonly exemptions: readonly string[];
}

/** Longest wait between two attempts after failed loads, in seconds. */
const MAX_RETRY_DELAY = 3600;

export interface TppLicencesParts {
  readonly settings: ResolvedTppRegister;
  readonly logger: Logger;
  readonly now: Clock;
  /** Counts each load by its outcome (the server's metrics). */
  recordLoad?(outcome: 'loaded' | 'failed' | 'refused'): void;
  /** Called with each organization checked, for the sweep to find it again. */
  onChecked?(organization: string): void;
  /** Called once a load replaced the snapshot in use (the sweep runs then). */
  onLoaded?(snapshot: TppRegisterSnapshot): void;
  /** The organizations the bank vouches for. */
  readonly exemptions?: RegisterExemptions;
}

/** The TPP a check is about. */
export interface LicenceSubject {
  readonly organizationIdentifier: string;
  readonly environment: EnvironmentName;
}

/** Unknown organizations audited per snapshot at most (then audited again, from the start). */
const AUDITED_UNKNOWN = 10_000;

export class TppLicences {
  readonly #parts: TppLicencesParts;
  #snapshot: { readonly value: TppRegisterSnapshot; readonly loadedAt: number } | undefined;
  #loading: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retry: { timer: NodeJS.Timeout | undefined; delay: number } = { timer: undefined, delay: 0 };
  readonly #aborts = new AbortController();
  readonly #auditedUnknown = new Set<string>();

  constructor(parts: TppLicencesParts) {
    this.#parts = parts;
  }

  get registerName(): string {
    return this.#parts.settings.register.name;
  }

  /** Loads the register now, then every `refreshInterval` seconds. */
  start(): void {
    void this.reload();
    this.#timer = setInterval(() => void this.reload(), this.#parts.settings.refreshInterval * 1000);
    this.#timer.unref();
  }

  /** Loads the register now (or joins the load under way); never rejects: a failure is audited. */
  reload(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const { settings, logger } = this.#parts;
    const started = performance.now();
    let value: TppRegisterSnapshot;
    try {
      value = await settings.register.load(this.#aborts.signal);
    } catch (error) {
      if (this.#aborts.signal.aborted) return;
      this.#parts.recordLoad?.('failed');
      logger.warn({
        event: 'tpp_register.load_failed', register: settings.register.name, error: error instanceof Error ? error.message : String(error),
        snapshotAgeSeconds: this.ageSeconds() ?? null,
      }, 'TPP register not loaded: the last good snapshot stays in use');
      if (!this.#snapshot) await this.#loadSaved();
      this.#retryLater();
      return;
    }
    const implausible = this.#implausible(value);
    if (implausible) {
      await value.discard?.();
      this.#parts.recordLoad?.('refused');
      logger.error({
        event: 'tpp_register.implausible', register: settings.register.name, entities: value.size, previousEntities: this.#snapshot?.value.size ?? null, reason: implausible,
      }, 'TPP register refused: the last good snapshot stays in use');
      return;
    }
    await value.keep?.().catch((error: unknown) => logger.warn({ event: 'tpp_register.keep_failed', err: error }, 'the register file could not be kept for a restart'));
    this.#use(value, this.#parts.now().getTime(), Math.round(performance.now() - started));
  }

  /** Why `value` cannot replace the snapshot in use, if it cannot: empty, or much smaller. */
  #implausible(value: TppRegisterSnapshot): string | undefined {
    if (value.size === 0) return 'the register lists no TPP';
    const previous = this.#snapshot?.value.size;
    const { maxShrink } = this.#parts.settings;
    if (previous && value.size < previous * (1 - maxShrink)) {
      return `the register lists ${value.size} TPPs, ${previous} before: it shrank by more than ${Math.round(maxShrink * 100)} %`;
    }
    return undefined;
  }

  /** Puts `value` in use, audited, and schedules no retry. */
  #use(value: TppRegisterSnapshot, loadedAt: number, milliseconds: number): void {
    const { settings, logger } = this.#parts;
    clearTimeout(this.#retry.timer);
    this.#retry = { timer: undefined, delay: 0 };
    this.#snapshot = { value, loadedAt };
    this.#auditedUnknown.clear();
    this.#parts.recordLoad?.('loaded');
    const digest = value.digest ? { [value.verified ? 'sha256' : 'unverifiedSha256']: value.digest } : {};
    logger.info({ event: 'tpp_register.loaded', register: settings.register.name, entities: value.size, ...digest, verified: value.verified ?? false, milliseconds }, 'TPP register loaded');
    for (const notice of value.notices ?? []) logger.warn({ event: notice.event, register: settings.register.name, ...notice.fields }, notice.message);
    this.#parts.onLoaded?.(value);
  }

  /** After a restart during the register's outage: the file the last good load kept, if any. */
  async #loadSaved(): Promise<void> {
    const { settings, logger } = this.#parts;
    try {
      const saved = await settings.register.loadSaved?.(this.#aborts.signal);
      if (saved && !this.#implausible(saved.snapshot)) this.#use(saved.snapshot, saved.savedAt.getTime(), 0);
    } catch (error) {
      logger.warn({ event: 'tpp_register.saved_copy_failed', register: settings.register.name, error: error instanceof Error ? error.message : String(error) }, 'the kept register file could not be read');
    }
  }

  /** Tries again after a failed load: `retryDelay` seconds, doubling each time up to an hour. */
  #retryLater(): void {
    if (this.#aborts.signal.aborted || this.#retry.timer) return;
    const { retryDelay, refreshInterval } = this.#parts.settings;
    const delay = Math.min(this.#retry.delay ? this.#retry.delay * 2 : retryDelay, MAX_RETRY_DELAY, refreshInterval);
    this.#retry = {
      delay,
      timer: setTimeout(() => {
        this.#retry.timer = undefined;
        void this.reload();
      }, delay * 1000),
    };
    this.#retry.timer?.unref();
  }

  /** Seconds since the snapshot in use was loaded; undefined before the first load. */
  ageSeconds(): number | undefined {
    return this.#snapshot && Math.max(0, (this.#parts.now().getTime() - this.#snapshot.loadedAt) / 1000);
  }

  /** Whether TPPs of `environment` are checked. */
  applies(environment: EnvironmentName): boolean {
    return this.#parts.settings.environments.includes(environment);
  }

  /** The register's entry of `organization` in the snapshot in use; undefined when not listed or before the first load. */
  entryOf(organization: string): TppLicence | undefined {
    const key = licenceKeyOf(organization);
    return key && this.#snapshot?.value.find(key);
  }

  /**
   * What the snapshot in use says of `organization` for `scopes`, without auditing; `exempt` when
   * the bank vouches for it; undefined before the first load.
   */
  decide(organization: string, scopes: readonly string[]): LicenceDecision | undefined {
    const snapshot = this.#snapshot?.value;
    const exemptions = this.#parts.exemptions;
    if (!snapshot) return exemptions?.exempts(organization, entryFingerprint(undefined)) ? { outcome: 'exempt' } : undefined;
    const licence = this.entryOf(organization);
    if (exemptions?.exempts(organization, entryFingerprint(licence))) return { outcome: 'exempt' };
    return licenceDecision(licence, {
      organization,
      scopes,
      country: this.#parts.settings.country,
      today: this.#parts.now().toISOString().slice(0, 10),
      register: this.registerName,
    });
  }

  /**
   * Checks a TPP's request for `scopes` (in memory): refusals are audited each time, a TPP the
   * register does not list once per snapshot. Undefined when the TPP's environment is not checked.
   */
  check(subject: LicenceSubject, scopes: readonly string[], at: 'registration' | 'authorization' | 'token'): LicenceDecision | undefined {
    if (!this.applies(subject.environment)) return undefined;
    const organization = subject.organizationIdentifier;
    this.#parts.onChecked?.(organization);
    const decision = this.decide(organization, scopes) ?? { outcome: 'unknown' as const };
    const line = { register: this.registerName, organization, scope: scopes.join(' '), at };
    if (decision.outcome === 'refused') {
      this.#parts.logger.warn({ event: 'tpp_register.refused', ...line, reason: decision.reason, description: decision.description }, 'TPP refused by the register');
    } else if ((decision.outcome === 'unknown' || decision.outcome === 'exempt') && !this.#auditedUnknown.has(organization)) {
      // Accepted without the register's word: audited once per snapshot.
      if (this.#auditedUnknown.size >= AUDITED_UNKNOWN) this.#auditedUnknown.clear();
      this.#auditedUnknown.add(organization);
      const unreadable = decision.outcome === 'unknown' ? decision.unreadable : undefined;
      this.#parts.logger.info({
        event: `tpp_register.${decision.outcome}`, ...line, snapshot: this.#snapshot ? 'loaded' : 'none', ...(unreadable ? { unreadable } : {}),
      }, decision.outcome === 'exempt' ? 'TPP exempted by the bank from the register: accepted' : unreadable ? 'TPP entry in the register unreadable: accepted' : 'TPP not in the register: accepted');
    }
    return decision;
  }

  /** Stops the schedule and any load under way. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#retry.timer);
    this.#aborts.abort();
    await this.#loading;
  }
}
