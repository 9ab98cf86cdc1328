/**
 * The trusted lists in the server's Prometheus registry: the age of the set in use, its anchors,
 * and the refreshes by result.
 */
import { Counter, Gauge } from 'prom-client';

import type { ServerMetrics } from '../observability/index.js';
import type { RefreshOutcome, TrustedListSource } from './source.js';

/** Registers the gauges (none when the server's metrics are off); returns what counts a refresh. */
export function trustedListMetrics(metrics: ServerMetrics, source: TrustedListSource): (outcome: RefreshOutcome) => void {
  if (!metrics.enabled) return () => {};
  const { prefix } = metrics;
  const registers = [metrics.registry];
  new Gauge({
    name: `${prefix}trusted_list_age_seconds`,
    help: 'Seconds since the oldest EU trusted list in use (the list of lists or a national list) was verified; -1 while none was',
    registers,
    collect() {
      this.set(source.age() ?? -1);
    },
  });
  new Gauge({
    // One series per territory of the set in use: two-letter codes, some thirty at most.
    name: `${prefix}trusted_list_territory_age_seconds`,
    help: 'Seconds since each national EU trusted list in use (kept when a newer one could not be verified) was verified',
    labelNames: ['territory'],
    registers,
    collect() {
      this.reset();
      const set = source.current();
      const now = source.now().getTime();
      for (const [territory, list] of Object.entries(set?.stored.territories ?? {})) {
        this.set({ territory }, Math.max(0, Math.round((now - list.verifiedAt) / 1000)));
      }
    },
  });
  new Gauge({
    name: `${prefix}trusted_list_anchors`,
    help: 'QTSP certificates the verified EU trusted lists anchor',
    registers,
    collect() {
      this.set(source.current()?.anchors.length ?? 0);
    },
  });
  const refreshes = new Counter({ name: `${prefix}trusted_list_refreshes_total`, help: 'Readings of the EU trusted lists, by result (verified or refused)', labelNames: ['result'], registers });
  refreshes.inc({ result: 'verified' }, 0);
  refreshes.inc({ result: 'refused' }, 0);
  return (outcome) => refreshes.inc({ result: outcome.ok ? 'verified' : 'refused' });
}
