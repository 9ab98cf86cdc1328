/** What a benchmark run gives: the results' shapes, scenario names and titles, and the ratios read from them. */
import type { LoadResult } from './load.js';
import type { StorageName, Target } from './protocol.js';

export const SCENARIOS = ['client_credentials', 'client_credentials_new_tls', 'refresh_token', 'authorization_code', 'introspection'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const SCENARIO_TITLES: Record<ScenarioName, string> = {
  client_credentials: 'client_credentials, keep-alive',
  client_credentials_new_tls: 'client_credentials, new TLS connection per request',
  refresh_token: 'refresh_token (pool, no rotation)',
  authorization_code: 'authorization-code flow (7 requests)',
  introspection: 'introspection (HTTP Basic)',
};

/** Titles short enough for a chart panel. */
export const SHORT_TITLES: Record<ScenarioName, string> = {
  client_credentials: 'client_credentials, keep-alive',
  client_credentials_new_tls: 'client_credentials, new TLS',
  refresh_token: 'refresh_token',
  authorization_code: 'authorization-code flow',
  introspection: 'introspection',
};

export interface RedisPerOperation {
  /** Commands per operation, from Redis's INFO commandstats (MULTI and EXEC included). */
  readonly commands: number;
  /** Exchanges per operation (standalone commands + MULTI…EXEC blocks), counted by the server's client. */
  readonly exchanges: number;
  /** Sequential round trips per operation, from operations sent one at a time. */
  readonly waves: number;
  /** Redis CPU time per operation, microseconds. */
  readonly cpuMicros: number;
  /** Commands by name per operation. */
  readonly byCommand: Record<string, number>;
  /** Exchanges by kind per operation (`HGETALL Client`, `MULTI index:client`…), from operations sent one at a time. */
  readonly breakdown: Record<string, number>;
}

export const TARGET_LABELS: Record<Target, string> = {
  ours: 'ours',
  'ours-metrics-off': 'ours with metrics: false',
  base: 'base (BENCH_BASE)',
  bare: 'bare',
  'anchor-express': 'anchor (a): oidc-provider in Express',
  'anchor-https': 'anchor (b): oidc-provider on node:https',
};

/** Latency of one page (request) of the authorization-code flow under load, ms. */
export interface StepLatency {
  readonly step: string;
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
}

export interface RunResult {
  readonly scenario: ScenarioName;
  /** The storage of the pass: the product's and bare's; the anchors keep their own memory adapter. */
  readonly storage: StorageName;
  readonly target: Target;
  readonly unit: 'request' | 'flow';
  /** Node.js version of the server process. */
  readonly node: string;
  readonly load: LoadResult;
  /** Server CPU seconds over the measured run. */
  readonly serverCpuSeconds: number;
  /** Server CPU time per successful operation, µs (process.cpuUsage of the server, summed over the slices). */
  readonly cpuMicros: number;
  /** Server CPU µs per successful operation of each slice, in the order measured. */
  readonly sliceCpuMicros?: readonly number[];
  /** Successful operations per second of server CPU. */
  readonly perCore: number;
  /** Share of one core the server used, 0–1. */
  readonly utilization: number;
  /** RSS of the server process once started, before any load. */
  readonly startRssMb: number;
  readonly peakRssMb: number;
  readonly redis?: RedisPerOperation;
  /** Per page of the authorization-code flow. */
  readonly steps?: readonly StepLatency[];
}

/** A client_credentials run of the growth test. */
export interface GrowthRun extends LoadResult {
  /** Server CPU per request, µs. */
  readonly serverCpuMicros: number;
  /** Share of one core the server used. */
  readonly utilization: number;
  /** Redis CPU per request, µs. */
  readonly redisCpuMicros: number;
  /** Redis commands per request. */
  readonly commands: number;
}

export interface GrowthResult {
  readonly clients: number;
  readonly grants: number;
  readonly populateSeconds: number;
  readonly redisKeys: number;
  readonly redisMemoryMb: number;
  /** The populated server alone, before its Redis was written (information). */
  readonly before: GrowthRun;
  /** The populated server, in slices alternating with `reference`'s. */
  readonly after: GrowthRun;
  /** Its twin on a Redis of its own that stays empty, in the same alternating slices: what `after` is judged against. */
  readonly reference: GrowthRun;
  /** Requests rotating over many clients of the TPP (informational: oidc-provider caches 100 clients). */
  readonly afterManyClients?: GrowthRun & { readonly clientCount: number };
  readonly flat: boolean;
}

export interface LeakSample {
  readonly seconds: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly rate: number;
}

export interface LeakResult {
  readonly storage: StorageName;
  readonly samples: readonly LeakSample[];
  readonly rssGrowthPct: number;
  readonly heapGrowthMb: number;
  readonly pass: boolean;
}

export interface TargetCheck {
  readonly name: string;
  readonly value: string;
  readonly pass: boolean | undefined;
}

export interface Report {
  readonly startedAt: string;
  readonly environment: Record<string, string>;
  readonly runs: readonly RunResult[];
  readonly growth?: GrowthResult;
  readonly leak?: LeakResult;
  readonly checks: readonly TargetCheck[];
  readonly notes: readonly string[];
}

export const fixed = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');

export function runOf(runs: readonly RunResult[], scenario: ScenarioName, storage: StorageName, target: Target): RunResult | undefined {
  return runs.find((run) => run.scenario === scenario && run.storage === storage && run.target === target);
}

/**
 * The product's rate over another server's, in the same pass (and so the same alternating
 * slices); `perCore`: operations per second of server CPU, the inverse ratio of CPU per operation.
 */
export function ratio(runs: readonly RunResult[], scenario: ScenarioName, storage: StorageName, perCore = false, against: Target = 'bare'): number | undefined {
  const ours = runOf(runs, scenario, storage, 'ours');
  const other = runOf(runs, scenario, storage, against);
  if (!ours || !other) return undefined;
  const value = perCore ? ours.perCore / other.perCore : ours.load.rate / other.load.rate;
  return Number.isFinite(value) ? value : undefined;
}

