/**
 * The metrics' hot-path counters and histograms (counted in plain numbers, handed to prom-client
 * when scraped) write exactly what prom-client's own would, through the registry and a merged one.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';

import { Tally, TallyHistogram } from '../../lib/observability/metric-definitions.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];

describe('observability: tallied metrics', () => {
  it('scrape as prom-client\'s own counter and histogram fed the same values', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ endpoint: fc.constantFrom('token', 'jwks', 'other'), seconds: fc.double({ min: 0, max: 5, noNaN: true }) }), { maxLength: 50 }),
      async (observations) => {
        const theirs = new Registry();
        const ours = new Registry();
        const counter = new Counter({ name: 'requests_total', help: 'h', labelNames: ['endpoint'], registers: [theirs] });
        const histogram = new Histogram({ name: 'duration_seconds', help: 'h', labelNames: ['endpoint'], buckets: BUCKETS, registers: [theirs] });
        const tally = new Tally({ name: 'requests_total', help: 'h', labelNames: ['endpoint'], registers: [ours] });
        const tallied = new TallyHistogram({ name: 'duration_seconds', help: 'h', labelNames: ['endpoint'], buckets: BUCKETS, registers: [ours] });
        for (const { endpoint, seconds } of observations) {
          counter.inc({ endpoint });
          histogram.observe({ endpoint }, seconds);
          tally.entry(endpoint, () => ({ endpoint })).count += 1;
          tallied.record(tallied.series(endpoint, () => ({ endpoint })), seconds);
        }
        expect(await ours.metrics()).to.equal(await theirs.metrics());
        // As JSON, as a consumer of getMetricsAsJSON reads it (prom-client leaves some fields undefined).
        const json = async (registry: Registry) => JSON.parse(JSON.stringify(await registry.getMetricsAsJSON())) as unknown;
        expect(await json(Registry.merge([ours]))).to.deep.equal(await json(theirs));
      },
    ), { numRuns: 100 });
  });

  it('adds each count once, however often it is scraped', async () => {
    const registry = new Registry();
    const tally = new Tally({ name: 'hits_total', help: 'h', labelNames: ['cache'], registers: [registry] });
    const entry = tally.entry('records', () => ({ cache: 'records' }));
    entry.count += 2;
    await registry.metrics();
    entry.count += 1;
    expect(await registry.metrics()).to.contain('hits_total{cache="records"} 3');
    expect(await registry.metrics()).to.contain('hits_total{cache="records"} 3');
  });
});
