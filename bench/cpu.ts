/**
 * CPU accounting: what one measured slice cost the server (process.cpuUsage of the server process
 * read before and after the slice, user + system), Redis's own counters over it, and one run's
 * result from its slices: CPU time per successful operation, operations per CPU second, latency
 * percentiles weighted by completions, latency of each page of the flow.
 */
import { FLOW_STEPS, type StepLatencies } from './http.js';
import type { LoadResult } from './load.js';
import type { StorageName } from './protocol.js';
import { commandDelta, redisInfo } from './redis.js';
import type { RunResult, ScenarioName, StepLatency } from './results.js';
import type { Context, Prepared, Session } from './scenarios.js';

/** What one measured slice of a run gave. */
export interface Slice {
  readonly load: LoadResult;
  readonly wall: number;
  readonly cpuSeconds: number;
  readonly exchanges: number;
  readonly commands: ReturnType<typeof commandDelta> | undefined;
  readonly redisCpuSeconds: number;
  readonly hwmKb: number;
  readonly steps: StepLatencies | undefined;
}

/** Sequential Redis round trips and exchanges per operation (by kind), from operations sent one at a time. */
export interface Probed {
  readonly waves: number;
  readonly exchanges: number;
  readonly breakdown: Record<string, number>;
}

export async function measureSlice(session: Session, context: Context, prepared: Prepared, seconds: number): Promise<Slice> {
  const withRedis = session.storage === 'redis' && context.redis !== undefined;
  prepared.takeSteps?.();
  const statsBefore = await session.server.stats();
  const infoBefore = withRedis ? await redisInfo(context.redis!.client) : undefined;
  const wallStart = performance.now();
  const load = await prepared.load(seconds);
  const wall = (performance.now() - wallStart) / 1000;
  const statsAfter = await session.server.stats();
  const infoAfter = withRedis ? await redisInfo(context.redis!.client) : undefined;
  return {
    load,
    wall,
    cpuSeconds: (statsAfter.cpuUser + statsAfter.cpuSystem - statsBefore.cpuUser - statsBefore.cpuSystem) / 1e6,
    exchanges: statsAfter.redis.exchanges - statsBefore.redis.exchanges,
    commands: infoBefore && infoAfter ? commandDelta(infoBefore, infoAfter) : undefined,
    redisCpuSeconds: infoBefore && infoAfter ? infoAfter.cpuSeconds - infoBefore.cpuSeconds : 0,
    hwmKb: statsAfter.hwmKb,
    steps: prepared.takeSteps?.(),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const round = (value: number) => Math.round(value * 100) / 100;

/** The sum over `slices` of what `pick` reads of each. */
export function sumOf(slices: readonly Slice[], pick: (slice: Slice) => number): number {
  return slices.reduce((total, slice) => total + pick(slice), 0);
}

/** p50/p99 of each page of the flow over all slices. */
function stepLatencies(slices: readonly Slice[]): StepLatency[] | undefined {
  if (!slices.some((slice) => slice.steps?.size)) return undefined;
  return FLOW_STEPS.map((step) => {
    const all = slices.flatMap((slice) => slice.steps?.get(step) ?? []).sort((a, b) => a - b);
    return { step, count: all.length, p50: round(percentile(all, 50)), p99: round(percentile(all, 99)) };
  });
}

function redisPerOperation(slices: readonly Slice[], operations: number, probed: Probed | undefined): RunResult['redis'] {
  if (!slices.every((slice) => slice.commands)) return undefined;
  const sum = (pick: (slice: Slice) => number) => sumOf(slices, pick);
  const byCommand: Record<string, number> = {};
  for (const slice of slices) {
    for (const [command, calls] of Object.entries(slice.commands!.byCommand)) byCommand[command] = (byCommand[command] ?? 0) + calls / operations;
  }
  return {
    commands: sum((slice) => slice.commands!.total) / operations,
    exchanges: sum((slice) => slice.exchanges) / operations,
    waves: probed?.waves ?? Number.NaN,
    breakdown: probed?.breakdown ?? {},
    cpuMicros: (sum((slice) => slice.redisCpuSeconds) * 1e6) / operations,
    byCommand,
  };
}

/** The load of several slices as one: counts summed, latencies weighted by completions. */
export function combinedLoad(slices: readonly Slice[]): LoadResult {
  const sum = (pick: (slice: Slice) => number) => sumOf(slices, pick);
  const completed = sum((slice) => slice.load.completed);
  const seconds = sum((slice) => slice.load.seconds);
  const weighted = (pick: (load: LoadResult) => number) => (completed ? sum((slice) => pick(slice.load) * slice.load.completed) / completed : Number.NaN);
  const firstError = slices.find((slice) => slice.load.firstError)?.load.firstError;
  return {
    completed,
    errors: sum((slice) => slice.load.errors),
    seconds,
    rate: completed / seconds,
    p50: round(weighted((l) => l.p50)),
    p99: round(weighted((l) => l.p99)),
    mean: round(weighted((l) => l.mean)),
    ...(firstError ? { firstError } : {}),
  };
}

/** One run from its slices: counts and CPU time summed, latency percentiles weighted by completions. */
export function combine(scenario: ScenarioName, pass: StorageName, session: Session, unit: Prepared['unit'], slices: readonly Slice[], startRssMb: number, probed: Probed | undefined): RunResult {
  const sum = (pick: (slice: Slice) => number) => sumOf(slices, pick);
  const load = combinedLoad(slices);
  const { completed, errors } = load;
  const cpuSeconds = sum((slice) => slice.cpuSeconds);
  const redis = redisPerOperation(slices, Math.max(1, completed + errors), probed);
  const steps = stepLatencies(slices);
  return {
    scenario,
    storage: pass,
    target: session.target,
    unit,
    node: session.server.node,
    load,
    serverCpuSeconds: cpuSeconds,
    cpuMicros: completed ? (cpuSeconds * 1e6) / completed : Number.NaN,
    sliceCpuMicros: slices.map((slice) => (slice.load.completed ? (slice.cpuSeconds * 1e6) / slice.load.completed : Number.NaN)),
    perCore: cpuSeconds > 0 ? completed / cpuSeconds : Number.NaN,
    utilization: cpuSeconds / sum((slice) => slice.wall),
    startRssMb,
    peakRssMb: Math.max(...slices.map((slice) => slice.hwmKb)) / 1024,
    ...(redis ? { redis } : {}),
    ...(steps ? { steps } : {}),
  };
}

/** One line of a run: rate, CPU per operation, latency, memory, Redis, errors, and the server's Node. */
export function describe(run: RunResult): string {
  const unit = run.unit === 'flow' ? 'flows/s' : 'req/s';
  const cpu = run.unit === 'flow' ? `${run.cpuMicros.toFixed(0)} µs CPU/flow (${(run.cpuMicros / FLOW_STEPS.length).toFixed(0)}/request)` : `${run.cpuMicros.toFixed(0)} µs CPU/request`;
  const redis = run.redis ? `, Redis ${run.redis.commands.toFixed(1)} cmds / ${run.redis.exchanges.toFixed(1)} exch / ${run.redis.waves.toFixed(1)} seq per ${run.unit}` : '';
  const errors = run.load.errors ? `, ${run.load.errors} errors (${run.load.firstError ?? '?'})` : '';
  return `${run.load.rate.toFixed(run.unit === 'flow' ? 1 : 0)} ${unit}, ${cpu} (busy ${(run.utilization * 100).toFixed(0)}%), p50 ${run.load.p50} ms, p99 ${run.load.p99} ms, peak RSS ${run.peakRssMb.toFixed(0)} MB${redis}${errors} [Node ${run.node}]`;
}
