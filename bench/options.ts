/**
 * The benchmark's settings, from the environment (described in bench/README.md), the CPUs the
 * server children and the driver are pinned to, and the driver's log line.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { TARGETS, type StorageName, type Target } from './protocol.js';
import { SCENARIOS, type ScenarioName } from './results.js';

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const rootDir = dirname(benchDir);
export const resultsDir = join(benchDir, 'results');

export const EXTRA_RUNS = ['growth', 'leak'] as const;
export type ExtraRun = (typeof EXTRA_RUNS)[number];

function numberOf(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, not ${raw}`);
  return value;
}

function listOf<T extends string>(name: string, allowed: readonly T[]): T[] {
  const raw = process.env[name];
  if (!raw) return [...allowed];
  const values = raw.split(',').map((value) => value.trim()).filter(Boolean);
  const unknown = values.filter((value) => !(allowed as readonly string[]).includes(value));
  if (unknown.length) throw new Error(`${name}: unknown ${unknown.join(', ')}; choose among ${allowed.join(', ')}`);
  return values as T[];
}

/** Whether `taskset` (util-linux) can pin processes here. */
function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const cpuCount = cpus().length;
/** BENCH_QUICK=1: the shortest run that still goes through every step (a smoke test, not a measurement). */
const quick = process.env.BENCH_QUICK === '1';
const pinWanted = process.env.BENCH_PIN ? process.env.BENCH_PIN === '1' : cpuCount >= 2;
/** BENCH_BASE: another checkout of the product, served as the `base` target (which exists only with it). */
const base = process.env.BENCH_BASE ? resolve(process.env.BENCH_BASE) : undefined;

const duration = numberOf('BENCH_DURATION', quick ? 2 : 10);
const slices = Math.max(1, Math.round(numberOf('BENCH_SLICES', 2)));

export const config = {
  quick,
  duration,
  warmup: numberOf('BENCH_WARMUP', quick ? 1 : 5),
  connections: Math.max(1, Math.round(numberOf('BENCH_CONNECTIONS', 10))),
  scenarios: listOf<ScenarioName | ExtraRun>('BENCH_SCENARIOS', [...SCENARIOS, ...EXTRA_RUNS]),
  storages: listOf<StorageName>('BENCH_STORAGE', ['memory', 'redis']),
  targets: listOf<Target>('BENCH_TARGETS', TARGETS.filter((target) => target !== 'base' || base)),
  base,
  grants: Math.round(numberOf('BENCH_GRANTS', quick ? 2000 : 1_000_000)),
  clients: Math.max(10, Math.round(numberOf('BENCH_CLIENTS', quick ? 100 : 10_000))),
  pool: Math.max(1, Math.round(numberOf('BENCH_POOL', quick ? 10 : 100))),
  leakDuration: numberOf('BENCH_LEAK_DURATION', quick ? 6 : 60),
  slices,
  /**
   * The authorization-code flow on memory storage, the ratio nearest its target and the one whose
   * slices vary the most, is measured four times as long in four times as many slices (unless set):
   * a verdict that one garbage collection or burst of the other core can no longer turn.
   */
  flowDuration: numberOf('BENCH_FLOW_DURATION', quick ? duration : 4 * duration),
  flowSlices: Math.max(1, Math.round(numberOf('BENCH_FLOW_SLICES', quick ? slices : 4 * slices))),
  pin: pinWanted && cpuCount >= 2 && hasTaskset(),
  pinWanted,
  profile: process.env.BENCH_PROFILE === '1',
  revocation: listOf<'hard' | 'off'>('BENCH_REVOCATION', ['hard', 'off'])[0] ?? 'hard',
};

/** The server children's CPU (the last one); the driver, its load generator and Redis get the others. */
export const serverCpu = String(cpuCount - 1);
export const driverCpus = cpuCount > 2 ? `0-${cpuCount - 2}` : '0';

export function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

export function pinSelf(cpuList: string): void {
  if (!config.pin) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)], { stdio: 'ignore' });
  } catch (error) {
    console.warn(`bench: could not pin the driver to CPUs ${cpuList}: ${String(error)}`);
  }
}

/** `[command, args]` running `node nodeArgs` on `cpuList` when pinning, with the driver's own Node (process.execPath). */
export function nodeCommand(nodeArgs: readonly string[], cpuList: string): [string, string[]] {
  return config.pin ? ['taskset', ['-c', cpuList, process.execPath, ...nodeArgs]] : [process.execPath, [...nodeArgs]];
}
