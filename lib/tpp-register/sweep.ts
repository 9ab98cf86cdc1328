/**
 * The register sweep: the organizations with registered clients in a checked environment are
 * decided again against the snapshot in use, and those the register no longer licenses for their
 * clients' scopes are suspended through the bank's management path, so that a withdrawal takes
 * effect even for a TPP that does not call again. With several instances, one sweeps per interval.
 */
import type { Logger } from '../logger.js';
import type { Storage } from '../storage.js';
import type { TppLicences } from './licences.js';
import type { CheckedOrganizations } from './organizations.js';

export interface RegisterSweepParts {
  readonly storage: Storage;
  readonly licences: TppLicences;
  readonly organizations: CheckedOrganizations;
  readonly logger: Logger;
  /** The management path: suspends the organization and removes its clients' grants and tokens. */
  suspend(organization: string): Promise<unknown>;
  isSuspended(organization: string): Promise<boolean>;
  /** Reads the bank's exemptions again before deciding. */
  refreshExemptions?(): Promise<void>;
  /** Most suspensions per sweep, as a number and as a share of the organizations checked (one always allowed). */
  readonly limits: { readonly maxSuspensions: number; readonly maxSuspensionShare: number };
}

export interface SweepOutcome {
  readonly checked: number;
  readonly suspended: readonly string[];
  /** The organizations the sweep would have suspended had it not been halted at its limit. */
  readonly halted?: readonly string[];
  /** Organizations it could not decide (a storage error), logged. */
  readonly failed?: number;
}

type Candidate = { readonly organization: string; readonly reason: string; readonly description: string };

/** The counter that elects the instance sweeping in an interval. */
const TURN = 'tpp-register-sweep';

const scopesOf = (value: unknown): string[] => (typeof value === 'string' ? value.split(' ').filter(Boolean) : []);

export class RegisterSweep {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SweepOutcome> | undefined;

  constructor(private readonly parts: RegisterSweepParts) {}

  /** Sweeps every `seconds`, the first time one interval from now. */
  start(seconds: number): void {
    this.#timer = setInterval(() => {
      void this.#elected(seconds).then((mine) => (mine ? this.run() : undefined)).catch((error: unknown) => {
        this.parts.logger.warn({ event: 'tpp_register.sweep_failed', err: error }, 'register sweep failed');
      });
    }, seconds * 1000);
    this.#timer.unref();
  }

  async #elected(seconds: number): Promise<boolean> {
    return (await this.parts.storage.incrementCounter(TURN, Math.max(1, seconds - 1))) === 1;
  }

  /**
   * Sweeps after a load put a new snapshot in use, on the one instance that first sees it (so a
   * server restarted every day still sweeps); errors are logged.
   */
  afterLoad(digest: string | undefined): void {
    const elected = digest ? this.parts.storage.incrementCounter(`${TURN}:${digest}`, 7 * 86_400).then((turn) => turn === 1) : Promise.resolve(true);
    void elected.then((mine) => (mine ? this.run() : undefined)).catch((error: unknown) => {
      this.parts.logger.warn({ event: 'tpp_register.sweep_failed', err: error }, 'register sweep failed');
    });
  }

  /** One sweep (joins one under way); skipped while no snapshot has loaded. */
  run(): Promise<SweepOutcome> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** The scopes of the organization's clients in checked environments; undefined when it has no client left. */
  async #scopesOf(organization: string): Promise<string[] | undefined> {
    const { storage, licences } = this.parts;
    const clientIds = await storage.clientIdsOf(organization);
    if (!clientIds.length) return undefined;
    const scopes = new Set<string>();
    for (const clientId of clientIds) {
      const client = await storage.adapterFor('Client').find(clientId);
      const environment = client?.psd2_environment;
      if ((environment === 'sandbox' || environment === 'bank') && licences.applies(environment)) for (const scope of scopesOf(client?.scope)) scopes.add(scope);
    }
    return [...scopes];
  }

  /** The refusal the snapshot in use gives `organization` for its clients' scopes, if it is not yet suspended. */
  async #candidate(organization: string): Promise<Candidate | 'checked' | 'none'> {
    const { licences, organizations } = this.parts;
    const scopes = await this.#scopesOf(organization);
    if (!scopes) {
      await organizations.forget(organization);
      return 'none';
    }
    if (!scopes.length) return 'none';
    const decision = licences.decide(organization, scopes);
    if (decision?.outcome !== 'refused' || await this.parts.isSuspended(organization)) return 'checked';
    return { organization, reason: decision.reason, description: decision.description };
  }

  /** Whether suspending `count` of `checked` organizations passes the limits. */
  #withinLimits(count: number, checked: number): boolean {
    const { maxSuspensions, maxSuspensionShare } = this.parts.limits;
    return count <= 1 || (count <= maxSuspensions && count <= maxSuspensionShare * checked);
  }

  async #sweep(): Promise<SweepOutcome> {
    const { licences, organizations, logger } = this.parts;
    if (licences.ageSeconds() === undefined) return { checked: 0, suspended: [] };
    await this.parts.refreshExemptions?.();
    const candidates: Candidate[] = [];
    let checked = 0;
    let failed = 0;
    for (const organization of await organizations.all()) {
      try {
        const found = await this.#candidate(organization);
        if (found === 'none') continue;
        checked += 1;
        if (found !== 'checked') candidates.push(found);
      } catch (error) {
        failed += 1;
        logger.warn({ event: 'tpp_register.sweep_failed', organization, err: error }, 'register sweep: organization not decided');
      }
    }
    const register = licences.registerName;
    if (!this.#withinLimits(candidates.length, checked)) {
      const halted = candidates.map((candidate) => candidate.organization);
      logger.error({
        event: 'tpp_register.sweep_halted', register, checked, organizations: halted, limits: this.parts.limits,
      }, 'register sweep halted: it would suspend more organizations than allowed; none suspended (check the register, or suspend by hand)');
      return { checked, suspended: [], halted, failed };
    }
    const suspended: string[] = [];
    for (const { organization, reason, description } of candidates) {
      try {
        await this.parts.suspend(organization);
        suspended.push(organization);
        logger.warn({ event: 'tpp_register.suspended', register, organization, reason, description }, 'TPP organization suspended: the register no longer licenses it for its clients');
      } catch (error) {
        failed += 1;
        logger.warn({ event: 'tpp_register.sweep_failed', organization, err: error }, 'register sweep: organization not suspended');
      }
    }
    return { checked, suspended, failed };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}
