/**
 * Real Redis for the tests: a single `redis-server`, or a three-master Redis Cluster, started on
 * ephemeral ports in a temporary folder and stopped afterwards; or the server at REDIS_URL.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

import { createClient, createCluster } from 'redis';

import type { RedisCommands, RedisSubscriber, RedisTransaction } from '../../adapters/redis/client.js';

const run = promisify(execFile);

/**
 * A MULTI that queues as `inner` does and runs `exec` in place of its own, given the first key
 * queued (PUBLISH's channel aside), the number of commands queued and the real exec.
 */
export function watchedTransaction(inner: RedisTransaction, exec: (firstKey: string | undefined, queued: number, run: () => Promise<unknown[]>) => Promise<unknown[]>): RedisTransaction {
  let queued = 0;
  let firstKey: string | undefined;
  const wrapper: RedisTransaction = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'exec') return () => exec(firstKey, queued, () => target.exec());
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (firstKey === undefined && property !== 'publish' && typeof args[0] === 'string') firstKey = args[0];
        queued += 1;
        (value as (...a: unknown[]) => unknown).apply(target, args);
        return wrapper;
      };
    },
  });
  return wrapper;
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The cluster bus port of a node on `port`: Redis Cluster listens 10000 above it too. */
const busPortOf = (port: number): number => port + 10_000;

/** Where {@link startOnFreePort} starts a server: for a cluster node, away from the nodes started already. */
export interface PortChoice {
  /** The ports of the cluster's nodes started already: a cluster node's port and bus port avoid them. */
  readonly cluster?: { readonly taken: readonly number[] };
  /** Where ports come from; default {@link freePort}. */
  readonly nextPort?: () => Promise<number>;
}

/**
 * A redis-server started on a free port, `make` building it for that port. A port found free may
 * be taken before the server binds it (by another process, or as a cluster node's bus port), so a
 * server refused its port is started again on another one, ten times at most.
 */
export async function startOnFreePort(make: (port: number) => RedisProcess, choice: PortChoice = {}): Promise<RedisProcess> {
  const { cluster, nextPort = freePort } = choice;
  const avoided = new Set(cluster ? cluster.taken.flatMap((port) => [port, busPortOf(port)]) : []);
  for (let attempt = 1; ; attempt += 1) {
    const port = await nextPort();
    const usable = !cluster || (busPortOf(port) <= 65_535 && !avoided.has(port) && !avoided.has(busPortOf(port)));
    if (usable) {
      const server = make(port);
      try {
        await server.start();
        return server;
      } catch (error) {
        if (!(error instanceof Error && /Address already in use/.test(error.message)) || attempt >= 10) throw error;
      }
    } else if (attempt >= 10) {
      throw new Error('found no free port for a Redis Cluster node');
    }
  }
}

/**
 * `count` redis-servers in cluster mode, started one at a time on free ports, each off the ports
 * and bus ports of those before it, `dirOf` giving each its folder. Should one fail to start, those
 * started are stopped.
 */
export async function startClusterNodes(count: number, nodeTimeoutMs: number, dirOf: (port: number) => string): Promise<RedisProcess[]> {
  const nodes: RedisProcess[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      nodes.push(await startOnFreePort(
        (port) => new RedisProcess(port, dirOf(port), ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(nodeTimeoutMs)]),
        { cluster: { taken: nodes.map((node) => node.port) } },
      ));
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw error;
  }
  return nodes;
}

/** One redis-server process that can be stopped and started again on the same port. */
export class RedisProcess {
  #child: ChildProcess | undefined;

  constructor(readonly port: number, readonly dir: string, readonly extraArgs: readonly string[] = []) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--protected-mode', 'no', ...this.extraArgs,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/Ready to accept connections/.test(output)) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
    this.#child = undefined;
  }
}

/** The Redis commands tests send themselves, beside the storage. */
export interface RawRedis {
  exists(key: string): Promise<number>;
  pTTL(key: string): Promise<number>;
  ttl(key: string): Promise<number>;
  zScore(key: string, member: string): Promise<number | null>;
  zAdd(key: string, member: { score: number; value: string }): Promise<number>;
}

export interface TestRedis {
  readonly kind: 'single' | 'cluster' | 'external';
  /** A connected client of the kind the server runs (a cluster client for a cluster). */
  readonly client: RedisCommands & RawRedis & { close(): Promise<void>; sendCommand?: unknown };
  /** A key prefix no other test uses. */
  readonly keyPrefix: string;
  /** The processes, to stop and start (none for REDIS_URL). */
  readonly processes: readonly RedisProcess[];
  /**
   * A new connection for a RedisStorage's cache to listen on, as a host app gives it: a duplicate
   * of `client`, connected; closed by `close()`.
   */
  subscriber(): Promise<RedisSubscriber>;
  close(): Promise<void>;
}

function uniquePrefix(): string {
  return `test-${randomBytes(4).toString('hex')}:`;
}

/** What a node-redis client or cluster is to the test: it duplicates, connects and is destroyed. */
interface Duplicable {
  duplicate(): RedisSubscriber & { on(event: 'error', listener: (error: Error) => void): unknown; connect(): Promise<unknown>; destroy(): void };
}

/** Subscribers duplicated from `client`, connected on demand, and a function destroying them all. */
function subscribers(client: Duplicable): { open(): Promise<RedisSubscriber>; destroy(): void } {
  const opened: ReturnType<Duplicable['duplicate']>[] = [];
  return {
    open: async () => {
      const subscriber = client.duplicate();
      subscriber.on('error', () => { /* reconnection is the client's job; the storage's cache hears of it */ });
      opened.push(subscriber);
      await subscriber.connect();
      return subscriber;
    },
    destroy: () => {
      for (const subscriber of opened.splice(0)) subscriber.destroy();
    },
  };
}

/** A single Redis: REDIS_URL when given, else a redis-server of its own. */
export async function startRedis(): Promise<TestRedis> {
  if (process.env.REDIS_URL) {
    const client = createClient({ url: process.env.REDIS_URL });
    await client.connect();
    const listening = subscribers(client);
    return {
      kind: 'external',
      client,
      keyPrefix: uniquePrefix(),
      processes: [],
      subscriber: listening.open,
      close: async () => {
        listening.destroy();
        client.destroy();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const server = await startOnFreePort((port) => new RedisProcess(port, dir));
  const client = createClient({ url: server.url, socket: { reconnectStrategy: (retries) => Math.min(retries * 50, 500) } });
  client.on('error', () => { /* reconnection is the client's job; the storage reports unavailability */ });
  await client.connect();
  const listening = subscribers(client);
  return {
    kind: 'single',
    client,
    keyPrefix: uniquePrefix(),
    processes: [server],
    subscriber: listening.open,
    close: async () => {
      listening.destroy();
      client.destroy();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of three masters, each a redis-server of its own. */
export async function startRedisCluster(): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const nodes = await startClusterNodes(3, 2000, () => dir).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes']);
  // Every node must agree the cluster is up before a client learns its slots.
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const states = await Promise.all(nodes.map(async (node) => (await run('redis-cli', ['-p', String(node.port), 'cluster', 'info'])).stdout));
    if (states.every((state) => /cluster_state:ok/.test(state))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const cluster = createCluster({ rootNodes: nodes.map((node) => ({ url: node.url })) });
  cluster.on('error', () => { /* as above */ });
  await cluster.connect();
  const listening = subscribers(cluster);
  return {
    kind: 'cluster',
    client: cluster,
    keyPrefix: uniquePrefix(),
    processes: nodes,
    subscriber: listening.open,
    close: async () => {
      listening.destroy();
      cluster.destroy();
      await Promise.all(nodes.map((node) => node.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a storage asked Redis for, and which of its transactions are made to fail. */
export interface Probe {
  /** Keys read with HGETALL, in order. */
  readonly reads: string[];
  /** A transaction whose first key this picks fails without reaching Redis. */
  failing: (key: string) => boolean;
  /** Transactions holding only a PUBLISH (the cache's heartbeats) are dropped silently. */
  mute?: boolean;
}

export function newProbe(): Probe {
  return { reads: [], failing: () => false };
}

/** `client` as a storage sees it, recording its reads and failing the transactions `probe` picks. */
export function probed(client: RedisCommands, probe: Probe): RedisCommands {
  const multi = (): RedisTransaction => watchedTransaction(client.multi(), (first, _queued, run) => {
    if (first === undefined && probe.mute) return Promise.resolve([]);
    return first !== undefined && probe.failing(first) ? Promise.reject(new Error(`refused for the test: ${first}`)) : run();
  });
  return {
    get isReady() {
      return client.isReady;
    },
    hGetAll: (key) => {
      probe.reads.push(key);
      return client.hGetAll(key);
    },
    get: (key) => client.get(key),
    del: (keys) => client.del(keys),
    zRange: (key, start, stop) => client.zRange(key, start, stop),
    zRangeByScore: (key, min, max) => client.zRangeByScore(key, min, max),
    zRem: (key, members) => client.zRem(key, members),
    eval: (script, options) => client.eval(script, options),
    multi,
    ...(client.withCommandOptions ? { withCommandOptions: (options: { readonly timeout: number }) => probed(client.withCommandOptions!(options), probe) } : {}),
  };
}

/** Polls `check` every 10 ms until it holds, or fails after `ms`; resolves with the time it took. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 2000): Promise<number> {
  const started = Date.now();
  while (!await check()) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}
