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
import { licenceKeyOf } from './nca-ids.js';
import type { TppRegister, TppRegisterSnapshot } from './types.js';

/** The `tppRegister` option, with its defaults. */
export interface ResolvedTppRegister {
  readonly register: TppRegister;
  readonly country: string;
  readonly environments: readonly EnvironmentName[];
  readonly refreshInterval: number;
  readonly sweepInterval: number;
}

export interface TppLicencesParts {
  readonly settings: ResolvedTppRegister;
  readonly logger: Logger;
  readonly now: Clock;
  /** Counts each load by its outcome (the server's metrics). */
  recordLoad?(outcome: 'loaded' | 'failed'): void;
  /** Called with each organization checked, for the sweep to find it again. */
  onChecked?(organization: string): void;
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
    const { settings, logger, now } = this.#parts;
    const started = performance.now();
    try {
      const value = await settings.register.load(this.#aborts.signal);
      this.#snapshot = { value, loadedAt: now().getTime() };
      this.#auditedUnknown.clear();
      this.#parts.recordLoad?.('loaded');
      logger.info({
        event: 'tpp_register.loaded', register: settings.register.name, entities: value.size,
        ...(value.digest ? { sha256: value.digest } : {}), milliseconds: Math.round(performance.now() - started),
      }, 'TPP register loaded');
    } catch (error) {
      if (this.#aborts.signal.aborted) return;
      this.#parts.recordLoad?.('failed');
      logger.warn({
        event: 'tpp_register.load_failed', register: settings.register.name, error: error instanceof Error ? error.message : String(error),
        snapshotAgeSeconds: this.ageSeconds() ?? null,
      }, 'TPP register not loaded: the last good snapshot stays in use');
    }
  }

  /** Seconds since the snapshot in use was loaded; undefined before the first load. */
  ageSeconds(): number | undefined {
    return this.#snapshot && Math.max(0, (this.#parts.now().getTime() - this.#snapshot.loadedAt) / 1000);
  }

  /** Whether TPPs of `environment` are checked. */
  applies(environment: EnvironmentName): boolean {
    return this.#parts.settings.environments.includes(environment);
  }

  /** What the snapshot in use says of `organization` for `scopes`, without auditing; undefined before the first load. */
  decide(organization: string, scopes: readonly string[]): LicenceDecision | undefined {
    const snapshot = this.#snapshot?.value;
    if (!snapshot) return undefined;
    const key = licenceKeyOf(organization);
    return licenceDecision(key && snapshot.find(key), {
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
  check(subject: LicenceSubject, scopes: readonly string[], at: 'registration' | 'token'): LicenceDecision | undefined {
    if (!this.applies(subject.environment)) return undefined;
    const organization = subject.organizationIdentifier;
    this.#parts.onChecked?.(organization);
    const decision = this.decide(organization, scopes) ?? { outcome: 'unknown' as const };
    const line = { register: this.registerName, organization, scope: scopes.join(' '), at };
    if (decision.outcome === 'refused') {
      this.#parts.logger.warn({ event: 'tpp_register.refused', ...line, reason: decision.reason, description: decision.description }, 'TPP refused by the register');
    } else if (decision.outcome === 'unknown' && !this.#auditedUnknown.has(organization)) {
      if (this.#auditedUnknown.size >= AUDITED_UNKNOWN) this.#auditedUnknown.clear();
      this.#auditedUnknown.add(organization);
      this.#parts.logger.info({ event: 'tpp_register.unknown', ...line, snapshot: this.#snapshot ? 'loaded' : 'none' }, 'TPP not in the register: accepted');
    }
    return decision;
  }

  /** Stops the schedule and any load under way. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#aborts.abort();
    await this.#loading;
  }
}
