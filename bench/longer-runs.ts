/**
 * The product's longer runs: growth (client_credentials on Redis before and after many clients
 * and grants are written, bench/populate.ts in a child process) and memory over a longer run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { measureSlice } from './cpu.js';
import { FORM, form } from './http.js';
import { autocannonLoad } from './load.js';
import { benchDir, config, cpuCount, log, nodeCommand, rootDir } from './options.js';
import type { PopulateMessage, PopulateRequest } from './populate.js';
import type { StorageName } from './protocol.js';
import { redisInfo } from './redis.js';
import type { GrowthResult, GrowthRun, LeakResult, LeakSample } from './results.js';
import { openSession, prepare, type Context, type Prepared, type Session } from './scenarios.js';
import { settle } from './slices.js';

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

/** A client_credentials run of the growth test, with the server's and Redis's CPU per request. */
async function growthRun(session: Session, context: Context, prepared: Prepared, label: string): Promise<GrowthRun> {
  const slice = await measureSlice(session, context, prepared, config.duration);
  const operations = Math.max(1, slice.load.completed + slice.load.errors);
  const run: GrowthRun = {
    ...slice.load,
    serverCpuMicros: (slice.cpuSeconds * 1e6) / operations,
    utilization: slice.cpuSeconds / slice.wall,
    redisCpuMicros: (slice.redisCpuSeconds * 1e6) / operations,
    commands: (slice.commands?.total ?? 0) / operations,
  };
  log(`  ${label}: ${run.rate.toFixed(0)} req/s, p50 ${run.p50} ms (mean ${run.mean.toFixed(2)}), p99 ${run.p99} ms; server ${run.serverCpuMicros.toFixed(0)} µs CPU/request (${(run.utilization * 100).toFixed(0)}% busy), Redis ${run.redisCpuMicros.toFixed(0)} µs CPU and ${run.commands.toFixed(1)} commands/request${run.errors ? `, ${run.errors} errors (${run.firstError})` : ''}`);
  await settle();
  return run;
}

export async function runGrowth(context: Context): Promise<GrowthResult> {
  await context.redis!.client.flushDb();
  const session = await openSession(context, 'ours', 'redis');
  try {
    const prepared = await prepare('client_credentials', session, context);
    await prepared.once();
    // Twice the usual warm-up: "before" must not be measured on a colder JIT than "after".
    await prepared.load(Math.max(2, config.warmup * 2));
    const before = await growthRun(session, context, prepared, 'before');
    const populated = await populate(context, session, config.clients, config.grants);
    const info = await redisInfo(context.redis!.client);
    log(`  populated in ${populated.seconds.toFixed(0)} s: ${info.keys.toLocaleString('en')} keys, ${(info.usedMemory / 1024 / 1024).toFixed(0)} MB in Redis`);
    await prepared.load(config.warmup);
    const after = await growthRun(session, context, prepared, 'after');
    let afterManyClients: GrowthResult['afterManyClients'];
    if (populated.benchClients.length > 1) {
      const ids = populated.benchClients;
      let next = 0;
      const body = () => form({ grant_type: 'client_credentials', scope: 'pisp', client_id: ids[(next += 1) % ids.length]! });
      const rotating: Prepared = {
        ...prepared,
        load: (seconds) => autocannonLoad({
          port: session.endpoint.port, path: '/oauth2/token', connections: config.connections, seconds,
          tls: { ca: session.endpoint.ca, cert: context.tpp.cert, key: context.tpp.key }, headers: { 'content-type': FORM }, body,
        }),
      };
      afterManyClients = { ...await growthRun(session, context, rotating, `after, rotating over ${ids.length} clients`), clientCount: ids.length };
    }
    // autocannon's percentiles are whole milliseconds (p50 1 → 2 may be 1.9 → 2.0): the central
    // latency is judged by the mean, which is not rounded.
    const flat = after.mean <= before.mean * 1.25 + 0.5 && after.p99 <= before.p99 * 1.5 + 1 && after.rate >= before.rate * 0.85 && after.errors === 0;
    return {
      clients: config.clients,
      grants: config.grants,
      populateSeconds: populated.seconds,
      redisKeys: info.keys,
      redisMemoryMb: info.usedMemory / 1024 / 1024,
      before,
      after,
      ...(afterManyClients ? { afterManyClients } : {}),
      flat,
    };
  } finally {
    await session.server.stop();
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

