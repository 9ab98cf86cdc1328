/**
 * The bank environment's trust anchors from the EU trusted lists, wired to the server's storage,
 * metrics and readiness: see {@link TrustedListSource}.
 */
import type { EnvironmentTrust } from '../certificates/identity.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Health, ServerMetrics } from '../observability/index.js';
import type { Storage } from '../storage.js';
import { trustedListMetrics } from './metrics.js';
import { TrustedListSource, type TrustedListSettings } from './source.js';

export { TrustedListSource, type TrustedLists, type RefreshOutcome, type TrustedListSettings } from './source.js';

export interface TrustedListParts {
  readonly storage: Storage;
  readonly now: Clock;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly health: Health;
}

/** The source, observed and started (its first reading runs in the background); undefined without settings. */
export function startTrustedLists(settings: TrustedListSettings | undefined, parts: TrustedListParts): TrustedListSource | undefined {
  if (!settings) return undefined;
  const source = new TrustedListSource(settings, { storage: parts.storage, now: parts.now, logger: parts.logger });
  source.observe(trustedListMetrics(parts.metrics, source));
  parts.health.addCheck('trusted_list', async () => source.readiness());
  void source.start();
  return source;
}

/** The environments, the bank's reading its anchors from `source` too when there is one. */
export function withTrustedLists<T extends EnvironmentTrust>(environments: readonly T[], source: TrustedListSource | undefined): readonly T[] {
  return source ? environments.map((environment) => (environment.name === 'bank' ? { ...environment, anchorSource: source } : environment)) : environments;
}
