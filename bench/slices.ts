/**
 * One scenario of one pass: every server of the pass alive side by side, each prepared and warmed
 * up, then measured in alternating slices (forward, then backward: ours-metrics-off, ours, (a),
 * bare, (b), (b), bare, (a), ours, ours-metrics-off…) so that the drift of a shared machine weighs
 * on all alike.
 */
import { join } from 'node:path';

import { combine, describe, measureSlice, type Probed, type Slice } from './cpu.js';
import { config, log, resultsDir } from './options.js';
import type { StorageName, Target } from './protocol.js';
import type { RunResult, ScenarioName } from './results.js';
import { openSession, prepare, type Context, type Prepared, type Session } from './scenarios.js';

/** Operations sent one at a time to count sequential Redis round trips. */
const PROBES: Record<ScenarioName, number> = {
  client_credentials: 20, client_credentials_new_tls: 20, refresh_token: 20, authorization_code: 5, introspection: 20,
};

export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 500));
}

/** How long a scenario of a pass is measured: BENCH_DURATION seconds in BENCH_SLICES, the flow on memory longer. */
export function measuringTime(scenario: ScenarioName, storage: StorageName): { duration: number; slices: number } {
  return scenario === 'authorization_code' && storage === 'memory'
    ? { duration: config.flowDuration, slices: config.flowSlices }
    : { duration: config.duration, slices: config.slices };
}

/**
 * Measures each of `items` for `time.duration` seconds in all (BENCH_DURATION unless given), in
 * `time.slices` alternating slices (forward, then backward), letting the machine settle after each:
 * `measure` gets the item, the round and the seconds of one slice.
 */
export async function inAlternatingSlices<T>(
  items: readonly T[],
  measure: (item: T, round: number, seconds: number) => Promise<void>,
  time: { duration: number; slices: number } = config,
): Promise<void> {
  const seconds = time.duration / time.slices;
  for (let round = 0; round < time.slices; round += 1) {
    for (const item of round % 2 === 0 ? items : [...items].reverse()) {
      await measure(item, round, seconds);
      await settle();
    }
  }
}

/**
 * The order servers are measured in: each slice of ours has the slices it is compared with next to
 * it in time, the anchor (a) of the targets on one side and, on the other, the build of the A/B
 * comparison (`base`) or else ours without metrics (the metrics' cost); the rest after them. A
 * slice pair minutes apart on a shared machine carries the drift between them into the ratio.
 */
const MEASURING_ORDER: readonly Target[] = ['ours-metrics-off', 'base', 'ours', 'anchor-express', 'bare', 'anchor-https'];

/** `items` in the measuring order of the server `targetOf` each. */
export function inMeasuringOrder<T>(items: readonly T[], targetOf: (item: T) => Target): T[] {
  return [...items].sort((a, b) => MEASURING_ORDER.indexOf(targetOf(a)) - MEASURING_ORDER.indexOf(targetOf(b)));
}

/**
 * The servers of a pass: all selected ones on memory; on Redis the product, bare, and anchor (a)
 * on its own memory adapter (the Redis target is set against it); anchor (b) is information and
 * runs on the memory pass only.
 */
export function targetsOf(storage: StorageName): Target[] {
  return config.targets.filter((target) => storage === 'memory' || target !== 'anchor-https');
}

async function probe(session: Session, prepared: Prepared, count: number): Promise<Probed> {
  session.server.breakdown(true);
  const before = await session.server.stats();
  for (let i = 0; i < count; i += 1) await prepared.once();
  const after = await session.server.stats();
  session.server.breakdown(false);
  return {
    waves: (after.redis.waves - before.redis.waves) / count,
    exchanges: (after.redis.exchanges - before.redis.exchanges) / count,
    breakdown: Object.fromEntries(Object.entries(after.redis.breakdown ?? {}).map(([kind, calls]) => [kind, calls / count])),
  };
}

interface Running {
  readonly session: Session;
  readonly prepared: Prepared;
  readonly startRssMb: number;
  readonly slices: Slice[];
  probed?: Probed;
}

export async function runScenario(context: Context, scenario: ScenarioName, storage: StorageName): Promise<RunResult[]> {
  if (storage === 'redis') await context.redis!.client.flushDb();
  const sessions: Session[] = [];
  try {
    for (const target of targetsOf(storage)) sessions.push(await openSession(context, target, storage));
    const runs: Running[] = [];
    for (const session of sessions) {
      const startRssMb = (await session.server.stats()).rssKb / 1024;
      const prepared = await prepare(scenario, session, context);
      await prepared.once();
      runs.push({ session, prepared, startRssMb, slices: [] });
    }
    for (const run of runs) if (config.warmup > 0) await run.prepared.load(config.warmup);
    // Requests of connections the load generator dropped at the end of the warm-up may still be
    // in the server: let them finish before counting.
    await settle();
    for (const run of runs) if (run.session.storage === 'redis') run.probed = await probe(run.session, run.prepared, PROBES[scenario]);
    await inAlternatingSlices(inMeasuringOrder(runs, (run) => run.session.target), async (run, round, seconds) => {
      const { session } = run;
      const stopProfile = config.profile ? session.server.profile(join(resultsDir, 'profiles', `${scenario}-${storage}-${session.target}-${round + 1}.cpuprofile`)) : undefined;
      run.slices.push(await measureSlice(session, context, run.prepared, seconds));
      await stopProfile?.();
    }, measuringTime(scenario, storage));
    return runs.map((run) => {
      const result = combine(scenario, storage, run.session, run.prepared.unit, run.slices, run.startRssMb, run.probed);
      log(`  ${run.session.target.padEnd(14)} ${describe(result)}`);
      return result;
    });
  } finally {
    for (const session of sessions) await session.server.stop();
  }
}
