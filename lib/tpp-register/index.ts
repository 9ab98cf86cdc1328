/**
 * The register of TPP licences, wired: the snapshot in use (licences.ts), the organizations
 * checked (organizations.ts) and the sweep that suspends those no longer licensed (sweep.ts).
 */
import type { Logger } from '../logger.js';
import type { Management } from '../management-types.js';
import type { ServerMetrics } from '../observability/index.js';
import type { ResolvedOptions } from '../options/index.js';
import type { Storage } from '../storage.js';
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
}

export interface TppRegisterAssembly {
  readonly licences: TppLicences;
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
  const licences = new TppLicences({
    settings,
    logger,
    now: options.now,
    recordLoad: (outcome) => metrics.recordTppRegisterLoad(outcome),
    onChecked: (organization) => organizations.remember(organization),
  });
  metrics.watchTppRegister(() => licences.ageSeconds());
  licences.start();
  let sweep: RegisterSweep | undefined;
  return {
    licences,
    start(management) {
      sweep = new RegisterSweep({
        storage,
        licences,
        organizations,
        logger,
        suspend: (organization) => management.suspendOrganization(organization),
        isSuspended: (organization) => management.isSuspended(organization),
      });
      if (settings.sweepInterval > 0) sweep.start(settings.sweepInterval);
      const running = sweep;
      return { reload: () => licences.reload(), ageSeconds: () => licences.ageSeconds(), sweep: () => running.run() };
    },
    async close() {
      await sweep?.close();
      await licences.close();
    },
  };
}
