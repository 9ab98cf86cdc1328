/**
 * CPU profiles of the servers under test.
 *
 * Summarise profiles already written (`BENCH_PROFILE=1 npm run bench` writes one per measured slice
 * to bench/results/profiles/, or any .cpuprofile, e.g. from --cpu-prof; a folder stands for its
 * largest profile): self time by area and the hottest functions, and with `--focus` the inclusive
 * time of the functions whose name or file matches.
 *
 *   npx tsx bench/profile.ts bench/results/profiles/client_credentials-memory-ours-1.cpuprofile [--top 30] [--focus isSuspended,requireCertificate]
 *
 * Or run a short load against one or more servers, one after the other, and profile each
 * (warm-up BENCH_WARMUP, connections BENCH_CONNECTIONS, pinned as `npm run bench` pins): the
 * summaries in µs per operation, then each server against the first, largest differences first.
 *
 *   npx tsx bench/profile.ts --run [--targets ours,anchor-express] [--scenario client_credentials] [--storage memory] [--seconds 5]
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { subjectDnOf } from './anchor.js';
import { measureSlice } from './cpu.js';
import { startCrlServer } from './crl.js';
import { config, driverCpus, pinSelf, resultsDir, rootDir } from './options.js';
import { createBenchPki } from './pki.js';
import { buildProduct } from './product.js';
import { TARGETS, type StorageName, type Target } from './protocol.js';
import { startRedis } from './redis.js';
import { printComparison, printSummary, readProfile, type ProfileTimes } from './profile-summary.js';
import { SCENARIOS, type ScenarioName } from './results.js';
import { openSession, prepare, type Context } from './scenarios.js';
import { settle } from './slices.js';

const args = process.argv.slice(2);
const valueOf = (flag: string): string | undefined => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const top = Number(valueOf('--top') ?? 25) || 25;
const focus = (valueOf('--focus') ?? '').split(',').filter(Boolean);

function checked<T extends string>(flag: string, allowed: readonly T[], value: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`${flag}: ${value} is not one of ${allowed.join(', ')}`);
  return value as T;
}

interface Profiled {
  readonly target: Target;
  readonly times: ProfileTimes;
  readonly operations: number;
  readonly cpuMicros: number;
}

async function runAndProfile(): Promise<Profiled[]> {
  const targets = (valueOf('--targets') ?? 'ours,anchor-express').split(',').map((target) => checked<Target>('--targets', TARGETS, target));
  const scenario = checked<ScenarioName>('--scenario', SCENARIOS, valueOf('--scenario') ?? 'client_credentials');
  const storage = checked<StorageName>('--storage', ['memory', 'redis'], valueOf('--storage') ?? 'memory');
  const seconds = Number(valueOf('--seconds') ?? 5);
  mkdirSync(join(resultsDir, 'profiles'), { recursive: true });
  buildProduct(rootDir);
  if (config.base) buildProduct(config.base);
  pinSelf(driverCpus);
  const crls = await startCrlServer();
  const pki = await createBenchPki(crls);
  const context: Context = {
    pki,
    tpp: { cert: pki.tpp.chainPem, key: pki.tpp.keyPem },
    redis: storage === 'redis' ? await startRedis(config.pin ? driverCpus : undefined) : undefined,
    subjectDn: subjectDnOf(new X509Certificate(pki.tpp.chainPem)),
  };
  const profiled: Profiled[] = [];
  try {
    for (const target of targets) {
      const session = await openSession(context, target, storage);
      try {
        const prepared = await prepare(scenario, session, context);
        await prepared.once();
        if (config.warmup > 0) await prepared.load(config.warmup);
        await settle();
        const file = join(resultsDir, 'profiles', `profile-${scenario}-${storage}-${target}.cpuprofile`);
        const stop = session.server.profile(file);
        const slice = await measureSlice(session, context, prepared, seconds);
        await stop();
        const operations = Math.max(1, slice.load.completed);
        console.log(`${target}: ${slice.load.completed} ${prepared.unit}s in ${slice.wall.toFixed(1)} s, ${((slice.cpuSeconds * 1e6) / operations).toFixed(0)} µs server CPU per ${prepared.unit} while profiled (Node ${session.server.node})${slice.load.errors ? `, ${slice.load.errors} errors (${slice.load.firstError})` : ''}`);
        profiled.push({ target, times: readProfile(file), operations, cpuMicros: (slice.cpuSeconds * 1e6) / operations });
      } finally {
        await session.server.stop();
      }
    }
  } finally {
    await context.redis?.close();
    await crls.close();
  }
  return profiled;
}

async function main(): Promise<void> {
  if (!args.includes('--run')) {
    const files = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
    for (const file of files) printSummary(readProfile(file), { top, focus });
    return;
  }
  const profiled = await runAndProfile();
  for (const { times, operations } of profiled) printSummary(times, { top, focus, operations });
  const [first, ...others] = profiled;
  for (const other of others) {
    printComparison({ label: first!.target, times: first!.times, operations: first!.operations }, { label: other.target, times: other.times, operations: other.operations }, top);
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
