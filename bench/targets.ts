/**
 * The targets, each PASS, FAIL or not measured: the product's server CPU per operation against
 * anchor (a) (oidc-provider in Express with its own memory adapter; anchor (b) shown next to it),
 * the PSD2-layer comparison against bare, Redis round trips, growth and memory.
 */
import { FLOW_REQUESTS } from './http.js';
import type { StorageName } from './protocol.js';
import { fixed, ratio, runOf, type GrowthResult, type LeakResult, type RunResult, type ScenarioName, type TargetCheck } from './results.js';

/** Product vs anchor (a), operations per server CPU second, as the issue of these targets sets them. */
const ANCHOR_TARGETS: readonly { scenario: ScenarioName; storage: StorageName; minimum: number; what: string }[] = [
  { scenario: 'client_credentials', storage: 'memory', minimum: 0.9, what: 'client_credentials (keep-alive), memory' },
  { scenario: 'client_credentials', storage: 'redis', minimum: 0.8, what: 'client_credentials (keep-alive), ours on Redis vs (a) on its memory adapter' },
  { scenario: 'authorization_code', storage: 'memory', minimum: 0.85, what: 'authorization-code flow (7 requests, pages included; (a) with minimal pages), memory' },
  { scenario: 'refresh_token', storage: 'memory', minimum: 0.9, what: 'refresh_token, memory' },
];

function perRequest(run: RunResult): string {
  const micros = run.unit === 'flow' ? run.cpuMicros / FLOW_REQUESTS : run.cpuMicros;
  return `${fixed(micros)} µs`;
}

/** The mean of paired slice figures and two standard errors of it (NaN with fewer than two). */
function meanAndTwoErrors(values: readonly number[]): { mean: number; twoErrors: number } {
  const mean = values.reduce((total, value) => total + value, 0) / values.length;
  const twoErrors = values.length > 1
    ? 2 * Math.sqrt(values.reduce((total, value) => total + (value - mean) ** 2, 0) / (values.length - 1) / values.length)
    : Number.NaN;
  return { mean, twoErrors };
}

/** The ratio slice by slice: the mean of the slice pairs, two standard errors of it, lowest and highest. */
export interface PairedRatios {
  readonly mean: number;
  readonly twoErrors: number;
  readonly lowest: number;
  readonly highest: number;
  readonly pairs: number;
}

/**
 * Each slice of ours against the anchor's slice next to it in time (`anchor / ours` CPU per
 * operation), or undefined with fewer than two pairs. On a shared 2-CPU machine one slice can land
 * on a major garbage collection or on the other core's burst; the spread says how far one run's
 * ratio can be trusted.
 */
export function pairedRatios(ours: RunResult, anchor: RunResult): PairedRatios | undefined {
  const ratios = (ours.sliceCpuMicros ?? [])
    .map((micros, index) => (anchor.sliceCpuMicros?.[index] ?? Number.NaN) / micros)
    .filter(Number.isFinite);
  if (ratios.length < 2) return undefined;
  return { ...meanAndTwoErrors(ratios), lowest: Math.min(...ratios), highest: Math.max(...ratios), pairs: ratios.length };
}

/** `slice pairs mean ±2 standard errors (lowest–highest, n pairs)`, and whether that band leaves the verdict open. */
export function pairedSpread(paired: PairedRatios, minimum: number): string {
  const spread = `slice pairs ${fixed(paired.mean, 2)} ±${fixed(paired.twoErrors, 2)} (${fixed(paired.lowest, 2)}–${fixed(paired.highest, 2)}, ${paired.pairs} pairs)`;
  const settled = paired.mean - paired.twoErrors >= minimum || paired.mean + paired.twoErrors < minimum;
  return settled ? spread : `${spread}; not settled by this run: the pairs' mean ±2 standard errors reaches across ${minimum}`;
}

function anchorChecks(runs: readonly RunResult[]): TargetCheck[] {
  return ANCHOR_TARGETS.map(({ scenario, storage, minimum, what }) => {
    const ours = runOf(runs, scenario, storage, 'ours');
    // The anchor of the same pass (same slices); the memory pass's when the pass had none.
    const inPass = runOf(runs, scenario, storage, 'anchor-express') !== undefined;
    const anchor = runOf(runs, scenario, inPass ? storage : 'memory', 'anchor-express');
    // Anchor (b) runs in the memory pass only.
    const direct = runOf(runs, scenario, 'memory', 'anchor-https');
    const value = ours && anchor ? ours.perCore / anchor.perCore : undefined;
    const measured = ours && anchor && value !== undefined && Number.isFinite(value);
    const informational = direct && ours ? `; (b) node:https ${perRequest(direct)}${storage === 'memory' ? '' : ' in the memory pass'}, ours/(b) ${fixed(ours.perCore / direct.perCore, 2)}` : '';
    const paired = measured && inPass ? pairedRatios(ours, anchor) : undefined;
    return {
      name: `ours/(a) ≥ ${minimum} in server CPU per request: ${what}`,
      value: measured
        ? `${fixed(value, 2)}${inPass ? ` [${paired ? pairedSpread(paired, minimum) : 'one slice'}]` : ''}: ours ${perRequest(ours)}, (a) Express ${perRequest(anchor)} CPU per request${informational}${inPass ? '' : ' ((a) from the memory pass)'} [Node ${ours.node}]`
        : '–',
      pass: measured ? value >= minimum : undefined,
    };
  });
}

function bareChecks(runs: readonly RunResult[]): TargetCheck[] {
  return ([['memory', 0.9], ['redis', 0.85]] as const).map(([storage, minimum]) => {
    const value = ratio(runs, 'client_credentials', storage);
    const perCore = ratio(runs, 'client_credentials', storage, true);
    const fresh = ratio(runs, 'client_credentials_new_tls', storage);
    return {
      name: `ours/bare ≥ ${minimum} for client_credentials (keep-alive), ${storage} (the PSD2 layer's cost)`,
      value: value === undefined ? '–' : `${value.toFixed(2)} (per core ${perCore?.toFixed(2) ?? '–'}; new TLS per request ${fresh?.toFixed(2) ?? '–'})`,
      pass: value === undefined ? undefined : value >= minimum,
    };
  });
}

function tripsCheck(runs: readonly RunResult[], scenario: ScenarioName, maximum: number): TargetCheck {
  const run = runOf(runs, scenario, 'redis', 'ours');
  const bare = runOf(runs, scenario, 'redis', 'bare');
  const unit = scenario === 'authorization_code' ? 'flow' : 'request';
  return {
    name: `≤ ${maximum} Redis round trips per ${scenario} ${unit}`,
    value: run?.redis
      ? `${run.redis.waves.toFixed(1)} sequential round trips, ${run.redis.exchanges.toFixed(1)} exchanges, ${run.redis.commands.toFixed(1)} commands (bare: ${bare?.redis?.waves.toFixed(1) ?? '–'}, ${bare?.redis?.exchanges.toFixed(1) ?? '–'}, ${bare?.redis?.commands.toFixed(1) ?? '–'})`
      : '–',
    pass: run?.redis ? run.redis.waves <= maximum + 0.05 : undefined,
  };
}

/**
 * What the metrics cost on the token path: ours against ours with `metrics: false`, run in the same
 * alternating slices. Each slice of one is paired with the other's next to it in time; the noise
 * is twice the standard error of those paired differences (the drift of a shared machine between
 * the slices), and the cost passes while it is within it.
 */
export function metricsCostCheck(runs: readonly RunResult[], storage: StorageName): TargetCheck {
  const name = `metrics cost nothing measurable on client_credentials (keep-alive), ${storage}`;
  const on = runOf(runs, 'client_credentials', storage, 'ours');
  const off = runOf(runs, 'client_credentials', storage, 'ours-metrics-off');
  if (!on || !off) return { name, value: '–', pass: undefined };
  const cost = on.cpuMicros - off.cpuMicros;
  const paired = (on.sliceCpuMicros ?? []).map((micros, index) => micros - (off.sliceCpuMicros?.[index] ?? Number.NaN)).filter(Number.isFinite);
  const noise = meanAndTwoErrors(paired).twoErrors;
  const measured = Number.isFinite(cost) && Number.isFinite(noise);
  return {
    name,
    value: `metrics cost on client_credentials = ${fixed(cost, 1)} µs/request (±${fixed(noise, 1)} noise, ${paired.length} paired slices): on ${perRequest(on)}, off ${perRequest(off)} CPU per request`,
    pass: measured ? cost <= noise : undefined,
  };
}

export function checks(runs: readonly RunResult[], growth: GrowthResult | undefined, leak: LeakResult | undefined): TargetCheck[] {
  return [
    ...anchorChecks(runs),
    ...bareChecks(runs),
    metricsCostCheck(runs, 'memory'),
    metricsCostCheck(runs, 'redis'),
    tripsCheck(runs, 'client_credentials', 3),
    tripsCheck(runs, 'authorization_code', 8),
    {
      name: 'flat client_credentials latency with many clients and grants in Redis',
      value: growth
        ? `${growth.clients.toLocaleString('en')} clients, ${growth.grants.toLocaleString('en')} grants, against its twin on an empty Redis in the same slices: mean ${growth.reference.mean.toFixed(2)} → ${growth.after.mean.toFixed(2)} ms, p50 ${growth.reference.p50} → ${growth.after.p50} ms, p99 ${growth.reference.p99} → ${growth.after.p99} ms, ${growth.reference.rate.toFixed(0)} → ${growth.after.rate.toFixed(0)} req/s, server CPU ${growth.reference.serverCpuMicros.toFixed(0)} → ${growth.after.serverCpuMicros.toFixed(0)} µs/request`
        : '–',
      pass: growth?.flat,
    },
    {
      name: 'no memory growth over a longer run',
      value: leak ? `${leak.storage}: RSS ${leak.rssGrowthPct.toFixed(1)} %, heap after GC ${leak.heapGrowthMb.toFixed(1)} MB over ${leak.samples[leak.samples.length - 1]?.seconds.toFixed(0) ?? '?'} s` : '–',
      pass: leak?.pass,
    },
  ];
}
