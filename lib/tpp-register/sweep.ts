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
}

export interface SweepOutcome {
  readonly checked: number;
  readonly suspended: readonly string[];
}

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

  async #sweep(): Promise<SweepOutcome> {
    const { licences, organizations, logger } = this.parts;
    if (licences.ageSeconds() === undefined) return { checked: 0, suspended: [] };
    const suspended: string[] = [];
    let checked = 0;
    for (const organization of await organizations.all()) {
      const scopes = await this.#scopesOf(organization);
      if (!scopes) {
        await organizations.forget(organization);
        continue;
      }
      if (!scopes.length) continue;
      checked += 1;
      const decision = licences.decide(organization, scopes);
      if (decision?.outcome !== 'refused' || await this.parts.isSuspended(organization)) continue;
      await this.parts.suspend(organization);
      suspended.push(organization);
      logger.warn({
        event: 'tpp_register.suspended', register: licences.registerName, organization, reason: decision.reason, description: decision.description,
      }, 'TPP organization suspended: the register no longer licenses it for its clients');
    }
    return { checked, suspended };
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running?.catch(() => undefined);
  }
}
