/**
 * The register of TPP licences, wired: the snapshot in use (licences.ts), the organizations
 * checked (organizations.ts) and the sweep that suspends those no longer licensed (sweep.ts).
 */
import type { Logger } from '../logger.js';
import type { Management } from '../management-types.js';
import type { ServerMetrics } from '../observability/index.js';
import type { ResolvedOptions } from '../options/index.js';
import type { Storage } from '../storage.js';
import { ALWAYS, entryFingerprint, RegisterExemptions } from './exemptions.js';
import { TppLicences } from './licences.js';
import { CheckedOrganizations } from './organizations.js';
import { RegisterSweep, type SweepOutcome } from './sweep.js';

export { TppLicences } from './licences.js';
export type { SweepOutcome } from './sweep.js';

/** For the bank: the register of TPP licences in use (`AuthorizationServer.tppRegister`). */
export interface TppRegisterControl {
  /** Loads the register now; resolves once loaded or failed (a failure keeps the last good snapshot, and is audited). */
  reload(): Promise<void>;
  /** Seconds since the snapshot in use was loaded; undefined before the first load. */
  ageSeconds(): number | undefined;
  /** Sweeps now: suspends the organizations the register no longer licenses for their clients' scopes. */
  sweep(): Promise<SweepOutcome>;
  /** Exempts an organization from the register for good, on every instance (within a minute on the others). */
  exempt(organization: string): Promise<void>;
}

export interface TppRegisterAssembly {
  readonly licences: TppLicences;
  /**
   * Called by management when the bank reinstates an organization: the register no longer refuses
   * nor suspends it while its entry in the register stays as it is now.
   */
  reinstated(organization: string): Promise<void>;
  /** Starts the sweep over the management path, and returns the bank's control. */
  start(management: Pick<Management, 'suspendOrganization' | 'isSuspended'>): TppRegisterControl;
  close(): Promise<void>;
}

/** The register's parts when the bank configured one; loading starts at once. */
export function createTppRegister(
  options: Pick<ResolvedOptions, 'tppRegister' | 'now'>,
  storage: Storage,
  logger: Logger,
  metrics: ServerMetrics,
): TppRegisterAssembly | undefined {
  const settings = options.tppRegister;
  if (!settings) return undefined;
  const organizations = new CheckedOrganizations(storage, logger);
  const exemptions = new RegisterExemptions(storage, settings.exemptions, logger);
  let sweep: RegisterSweep | undefined;
  const licences = new TppLicences({
    settings,
    logger,
    now: options.now,
    exemptions,
    recordLoad: (outcome) => metrics.recordTppRegisterLoad(outcome),
    onChecked: (organization) => organizations.remember(organization),
    onLoaded: (snapshot) => {
      if (settings.sweepInterval > 0) sweep?.afterLoad(snapshot.digest);
    },
  });
  metrics.watchTppRegister(() => licences.ageSeconds());
  exemptions.start();
  licences.start();
  return {
    licences,
    async reinstated(organization) {
      await exemptions.exempt(organization, entryFingerprint(licences.entryOf(organization)));
      logger.info({ event: 'tpp_register.exempted', register: licences.registerName, organization, until: 'its register entry changes' }, 'TPP organization exempted from the register by its reinstatement');
    },
    start(management) {
      sweep = new RegisterSweep({
        storage,
        licences,
        organizations,
        logger,
        suspend: (organization) => management.suspendOrganization(organization),
        isSuspended: (organization) => management.isSuspended(organization),
        refreshExemptions: () => exemptions.refresh(),
        limits: settings,
      });
      if (settings.sweepInterval > 0) sweep.start(settings.sweepInterval);
      const running = sweep;
      return {
        reload: () => licences.reload(),
        ageSeconds: () => licences.ageSeconds(),
        sweep: () => running.run(),
        async exempt(organization) {
          await exemptions.exempt(organization, ALWAYS);
          logger.info({ event: 'tpp_register.exempted', register: licences.registerName, organization, until: 'for good' }, 'TPP organization exempted from the register');
        },
      };
    },
    async close() {
      exemptions.close();
      await sweep?.close();
      await licences.close();
    },
  };
}
