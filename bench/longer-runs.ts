/**
 * The product's longer runs: growth (client_credentials on Redis before and after many clients
 * and grants are written, bench/populate.ts in a child process) and memory over a longer run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { combinedLoad, measureSlice, sumOf, type Slice } from './cpu.js';
import { FORM, form } from './http.js';
import { autocannonLoad } from './load.js';
import { benchDir, config, cpuCount, driverCpus, log, nodeCommand, rootDir } from './options.js';
import type { PopulateMessage, PopulateRequest } from './populate.js';
import type { StorageName } from './protocol.js';
import { redisInfo, startOtherRedis } from './redis.js';
import type { GrowthResult, GrowthRun, LeakResult, LeakSample } from './results.js';
import { openSession, prepare, type Context, type Prepared, type Session } from './scenarios.js';
import { inAlternatingSlices, settle } from './slices.js';

/** Writes clients and grants through RedisStorage in a child process (bench/populate.ts), on all CPUs. */
async function populate(context: Context, session: Session, clients: number, grants: number): Promise<{ seconds: number; benchClients: string[] }> {
  // The server is idle meanwhile: every CPU may write (a child inherits the driver's pinning otherwise).
  const [command, args] = nodeCommand(['--import', 'tsx', join(benchDir, 'populate.ts')], `0-${cpuCount - 1}`);
  const child = spawn(command, args, { cwd: rootDir, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let result: { seconds: number; benchClients: string[] } | undefined;
    child.on('message', (message: PopulateMessage) => {
      if (message.type === 'progress') log(`  ${message.line}`);
      else if (message.type === 'done') result = { seconds: message.seconds, benchClients: message.benchClients };
      else reject(new Error(`populating failed: ${message.message}`));
    });
    child.once('exit', (code) => (result ? resolve(result) : reject(new Error(`the populating child exited with ${code}`))));
    child.send({ redisUrl: context.redis!.url, keyPrefix: session.keyPrefix, clientId: session.clientId, clients, grants } satisfies PopulateRequest);
  });
}

/** A client_credentials run of the growth test from its slices, with the server's and Redis's CPU per request. */
function growthRunOf(slices: readonly Slice[]): GrowthRun {
  const load = combinedLoad(slices);
  const operations = Math.max(1, load.completed + load.errors);
  const cpuSeconds = sumOf(slices, (slice) => slice.cpuSeconds);
  return {
    ...load,
    serverCpuMicros: (cpuSeconds * 1e6) / operations,
    utilization: cpuSeconds / sumOf(slices, (slice) => slice.wall),
    redisCpuMicros: (sumOf(slices, (slice) => slice.redisCpuSeconds) * 1e6) / operations,
    commands: sumOf(slices, (slice) => slice.commands?.total ?? 0) / operations,
  };
}

function logGrowthRun(label: string, run: GrowthRun): void {
  log(`  ${label}: ${run.rate.toFixed(0)} req/s, p50 ${run.p50} ms (mean ${run.mean.toFixed(2)}), p99 ${run.p99} ms; server ${run.serverCpuMicros.toFixed(0)} µs CPU/request (${(run.utilization * 100).toFixed(0)}% busy), Redis ${run.redisCpuMicros.toFixed(0)} µs CPU and ${run.commands.toFixed(1)} commands/request${run.errors ? `, ${run.errors} errors (${run.firstError})` : ''}`);
}

/** One run of BENCH_DURATION seconds of one server alone (no other server in between). */
async function growthRun(server: GrowthServer, label: string): Promise<GrowthRun> {
  const run = growthRunOf([await measureSlice(server.session, server.context, server.prepared, config.duration)]);
  logGrowthRun(label, run);
  await settle();
  return run;
}

/** A server of the growth test, with the context of its own Redis. */
interface GrowthServer {
  readonly session: Session;
  readonly context: Context;
  readonly prepared: Prepared;
}

async function startGrowthServer(context: Context): Promise<GrowthServer> {
  const session = await openSession(context, 'ours', 'redis');
  const prepared = await prepare('client_credentials', session, context);
  await prepared.once();
  return { session, context, prepared };
}

/**
 * Growth: the product on a Redis populated with many clients and grants, against its twin on a
 * Redis of its own that stays empty, measured in the same alternating slices (as the scenarios
 * are), so that the drift of a shared machine weighs on both alike: two runs one after the other
 * on one machine differed by a fifth in server CPU per request with nothing changed. The
 * populated server is also measured alone before its Redis is written, for information.
 */
export async function runGrowth(context: Context): Promise<GrowthResult> {
  await context.redis!.client.flushDb();
  const otherRedis = await startOtherRedis(config.pin ? driverCpus : undefined);
  const servers: GrowthServer[] = [];
  try {
    await otherRedis.client.flushDb();
    const grown = await startGrowthServer(context);
    servers.push(grown);
    const twin = await startGrowthServer({ ...context, redis: otherRedis });
    servers.push(twin);
    // Twice the usual warm-up: "before" must not be measured on a colder JIT than "after".
    for (const server of servers) await server.prepared.load(Math.max(2, config.warmup * 2));
    const before = await growthRun(grown, 'before (alone, its Redis still empty)');
    // The twin gets as much load as "before" gave the other: neither server's JIT is warmer.
    await twin.prepared.load(config.duration);
    const populated = await populate(context, grown.session, config.clients, config.grants);
    const info = await redisInfo(context.redis!.client);
    log(`  populated in ${populated.seconds.toFixed(0)} s: ${info.keys.toLocaleString('en')} keys, ${(info.usedMemory / 1024 / 1024).toFixed(0)} MB in Redis`);
    for (const server of servers) await server.prepared.load(config.warmup);
    await settle();
    const slices = new Map<GrowthServer, Slice[]>(servers.map((server) => [server, []]));
    await inAlternatingSlices(servers, async (server, _round, seconds) => {
      slices.get(server)!.push(await measureSlice(server.session, server.context, server.prepared, seconds));
    });
    const after = growthRunOf(slices.get(grown)!);
    const reference = growthRunOf(slices.get(twin)!);
    logGrowthRun('after', after);
    logGrowthRun('its twin on an empty Redis, in the same slices', reference);
    let afterManyClients: GrowthResult['afterManyClients'];
    if (populated.benchClients.length > 1) {
      const ids = populated.benchClients;
      let next = 0;
      const body = () => form({ grant_type: 'client_credentials', scope: 'pisp', client_id: ids[(next += 1) % ids.length]! });
      const rotating: Prepared = {
        ...grown.prepared,
        load: (seconds) => autocannonLoad({
          port: grown.session.endpoint.port, path: '/oauth2/token', connections: config.connections, seconds,
          tls: { ca: grown.session.endpoint.ca, cert: context.tpp.cert, key: context.tpp.key }, headers: { 'content-type': FORM }, body,
        }),
      };
      afterManyClients = { ...await growthRun({ ...grown, prepared: rotating }, `after, rotating over ${ids.length} clients`), clientCount: ids.length };
    }
    // autocannon's percentiles are whole milliseconds (p50 1 → 2 may be 1.9 → 2.0): the central
    // latency is judged by the mean, which is not rounded.
    const flat = after.mean <= reference.mean * 1.25 + 0.5 && after.p99 <= reference.p99 * 1.5 + 1 && after.rate >= reference.rate * 0.85 && after.errors === 0;
    return {
      clients: config.clients,
      grants: config.grants,
      populateSeconds: populated.seconds,
      redisKeys: info.keys,
      redisMemoryMb: info.usedMemory / 1024 / 1024,
      before,
      after,
      reference,
      ...(afterManyClients ? { afterManyClients } : {}),
      flat,
    };
  } finally {
    for (const server of servers) await server.session.server.stop();
    await otherRedis.close();
  }
}


export async function runLeak(context: Context, storage: StorageName): Promise<LeakResult> {
  if (storage === 'redis') await context.redis!.client.flushDb();
  const session = await openSession(context, 'ours', storage);
  try {
    const prepared = await prepare('client_credentials', session, context);
    await prepared.once();
    const segment = Math.max(2, Math.min(10, config.leakDuration / 6));
    const segments = Math.max(2, Math.round(config.leakDuration / segment));
    const samples: LeakSample[] = [];
    const started = performance.now();
    for (let i = 0; i <= segments; i += 1) {
      const load = await prepared.load(segment);
      const stats = await session.server.stats(true);
      // The first segment is the warm-up: samples start after it.
      samples.push({ seconds: (performance.now() - started) / 1000, rssMb: stats.rssKb / 1024, heapMb: stats.heapUsed / 1024 / 1024, rate: load.rate });
    }
    // After the warm-up segment: the mean of the first two samples against the mean of the last two.
    const measured = samples.slice(1);
    const mean = (values: readonly LeakSample[], field: 'rssMb' | 'heapMb') => values.reduce((sum, sample) => sum + sample[field], 0) / values.length;
    const head = measured.slice(0, 2);
    const tail = measured.slice(-2);
    const rssGrowthPct = ((mean(tail, 'rssMb') - mean(head, 'rssMb')) / mean(head, 'rssMb')) * 100;
    const heapGrowthMb = mean(tail, 'heapMb') - mean(head, 'heapMb');
    log(`  RSS ${mean(head, 'rssMb').toFixed(1)} → ${mean(tail, 'rssMb').toFixed(1)} MB, heap after GC ${mean(head, 'heapMb').toFixed(1)} → ${mean(tail, 'heapMb').toFixed(1)} MB over ${measured[measured.length - 1]!.seconds.toFixed(0)} s`);
    return { storage, samples: measured, rssGrowthPct, heapGrowthMb, pass: rssGrowthPct <= 10 && heapGrowthMb <= 5 };
  } finally {
    await session.server.stop();
  }
}

