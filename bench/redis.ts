/**
 * Redis for the benchmark: a redis-server of its own (or REDIS_URL), the server's view of the calls
 * it makes (a counting wrapper around the node-redis client given to RedisStorage), and Redis's own
 * view of them (INFO commandstats, INFO cpu).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createClient } from 'redis';

import type { RedisCommands, RedisTransaction } from '../adapters/redis/client.js';
import { parseKey } from '../adapters/redis/keys.js';
import { freePort, watchedTransaction } from '../test/support/redis.js';
import type { RedisCalls } from './protocol.js';

/** What the driver does with its own Redis connection. */
export interface DriverClient {
  info(section: string): Promise<unknown>;
  flushDb(): Promise<unknown>;
}

export interface BenchRedis {
  readonly url: string;
  readonly pid: number | undefined;
  /** A connected client of the driver (INFO, FLUSHDB). */
  readonly client: DriverClient;
  /** The same connection, as RedisStorage uses it (populating). */
  readonly commands: RedisCommands;
  close(): Promise<void>;
}

/** `external` (REDIS_URL by default) when set, else a redis-server on a free port, without persistence. */
export async function startRedis(cpus?: string, external: string | undefined = process.env.REDIS_URL): Promise<BenchRedis> {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  let url = external;
  if (!url) {
    dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no'];
    const started = cpus ? spawn('taskset', ['-c', cpus, 'redis-server', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/Ready to accept connections/.test(output)) resolve();
      };
      started.stdout?.on('data', onData);
      started.stderr?.on('data', onData);
      started.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
    url = `redis://127.0.0.1:${port}`;
  }
  const client = createClient({ url });
  client.on('error', (error: Error) => console.error(`bench: Redis: ${error.message}`));
  await client.connect();
  return {
    url,
    pid: child?.pid,
    client,
    commands: client,
    close: async () => {
      client.destroy();
      if (child && child.exitCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        });
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A second Redis that holds nothing of the first: a redis-server of its own, or, with REDIS_URL, the
 * next logical database of the same server (`redis://host:6379` → `redis://host:6379/1`).
 */
export function startOtherRedis(cpus?: string): Promise<BenchRedis> {
  const external = process.env.REDIS_URL;
  if (!external) return startRedis(cpus);
  const url = new URL(external);
  url.pathname = `/${(Number(url.pathname.slice(1)) || 0) + 1}`;
  return startRedis(cpus, url.href);
}

/** Mutable counters behind {@link RedisCalls}. */
export interface CallCounters {
  exchanges: number;
  commands: number;
  waves: number;
  inflight: number;
  /** When set, exchanges by kind, e.g. `HGETALL Client`, `MULTI AccessToken` (see {@link kindOf}). */
  breakdown: Map<string, number> | undefined;
}

export function newCounters(): CallCounters {
  return { exchanges: 0, commands: 0, waves: 0, inflight: 0, breakdown: undefined };
}

export function snapshot(counters: CallCounters): RedisCalls {
  return {
    exchanges: counters.exchanges,
    commands: counters.commands,
    waves: counters.waves,
    ...(counters.breakdown ? { breakdown: Object.fromEntries(counters.breakdown) } : {}),
  };
}

/**
 * What a key of RedisStorage holds: `prefix{tag}:Model:id` records, and the `client`, `grant`,
 * `account`, `organization`, `uid`, `userCode` and `counter` indexes (reported as `index:client`…).
 */
export function kindOf(key: unknown): string {
  const name = typeof key === 'string' ? parseKey(key)?.name : undefined;
  if (name === undefined) return '?';
  return /^[A-Z]/.test(name) ? name : `index:${name}`;
}

/**
 * The node-redis client as RedisStorage sees it, counting what it sends: one exchange per
 * standalone command or per MULTI…EXEC transaction, every command (MULTI and EXEC included), and
 * "waves": an exchange starting while none is in flight begins a new wave. When requests come one
 * at a time, waves are the Redis round trips a request waits for one after the other; exchanges
 * sent together (Promise.all) are pipelined on the connection and share a wave.
 */
export function countingClient(client: RedisCommands, counters: CallCounters): RedisCommands {
  const track = <T>(operation: Promise<T>, commands: number, label?: () => string): Promise<T> => {
    if (counters.breakdown && label) {
      const kind = label();
      counters.breakdown.set(kind, (counters.breakdown.get(kind) ?? 0) + 1);
    }
    counters.exchanges += 1;
    counters.commands += commands;
    if (counters.inflight === 0) counters.waves += 1;
    counters.inflight += 1;
    return operation.finally(() => {
      counters.inflight -= 1;
    });
  };
  // A transaction holding only a PUBLISH is the storage cache's heartbeat, no request's round trip.
  const transaction = (inner: RedisTransaction): RedisTransaction => watchedTransaction(inner, (firstKey, queued, run) => (
    firstKey === undefined ? run() : track(run(), queued + 2, () => `MULTI ${kindOf(firstKey)}`)
  ));
  return {
    get isReady() {
      return client.isReady;
    },
    hGetAll: (key) => track(client.hGetAll(key), 1, () => `HGETALL ${kindOf(key)}`),
    get: (key) => track(client.get(key), 1, () => `GET ${kindOf(key)}`),
    del: (keys) => track(client.del(keys), 1, () => `DEL ${kindOf(Array.isArray(keys) ? keys[0] : keys)}`),
    zRange: (key, start, stop) => track(client.zRange(key, start, stop), 1, () => `ZRANGE ${kindOf(key)}`),
    zRangeByScore: (key, min, max) => track(client.zRangeByScore(key, min, max), 1, () => `ZRANGEBYSCORE ${kindOf(key)}`),
    zRem: (key, members) => track(client.zRem(key, members), 1, () => `ZREM ${kindOf(key)}`),
    eval: (script, options) => track(client.eval(script, options), 1, () => `EVAL ${kindOf(options.keys[0])}`),
    multi: () => transaction(client.multi()),
    ...(client.withCommandOptions ? { withCommandOptions: (options: { readonly timeout: number }) => countingClient(client.withCommandOptions!(options), counters) } : {}),
  };
}

/** Redis's own counters, from INFO. */
export interface RedisInfo {
  /** calls per command (lower case), from INFO commandstats. */
  readonly calls: Readonly<Record<string, number>>;
  /** used_cpu_user + used_cpu_sys, seconds. */
  readonly cpuSeconds: number;
  readonly usedMemory: number;
  readonly keys: number;
}

/** Commands the driver itself sends, left out of the per-request counts. */
const DRIVER_COMMANDS = new Set(['info', 'flushdb', 'flushall', 'client|setinfo', 'client|setname', 'hello', 'ping', 'dbsize', 'config|get', 'config|set', 'config|resetstat', 'select']);

export async function redisInfo(client: DriverClient): Promise<RedisInfo> {
  const text = String(await client.info('all'));
  const calls: Record<string, number> = {};
  let cpuSeconds = 0;
  let usedMemory = 0;
  let keys = 0;
  for (const line of text.split(/\r?\n/)) {
    const command = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (command?.[1] && command[2]) calls[command[1]] = Number(command[2]);
    const cpu = /^used_cpu_(user|sys):([\d.]+)/.exec(line);
    if (cpu?.[2]) cpuSeconds += Number(cpu[2]);
    const memory = /^used_memory:(\d+)/.exec(line);
    if (memory?.[1]) usedMemory = Number(memory[1]);
    const db = /^db\d+:keys=(\d+)/.exec(line);
    if (db?.[1]) keys += Number(db[1]);
  }
  return { calls, cpuSeconds, usedMemory, keys };
}

/** Commands the servers sent between two INFO readings, by command, and their total. */
export function commandDelta(before: RedisInfo, after: RedisInfo): { total: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {};
  let total = 0;
  for (const [command, calls] of Object.entries(after.calls)) {
    if (DRIVER_COMMANDS.has(command)) continue;
    const delta = calls - (before.calls[command] ?? 0);
    if (delta > 0) {
      byCommand[command] = delta;
      total += delta;
    }
  }
  return { total, byCommand };
}
