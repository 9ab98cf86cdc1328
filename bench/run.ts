/**
 * `npm run bench`: token requests per second per core, latency, memory and Redis round trips of
 * the PSD2 authorization server, each scenario run against bare oidc-provider configured alike.
 *
 * Environment:
 *   BENCH_DURATION     seconds per measured run (default 10)
 *   BENCH_WARMUP       seconds of warm-up before each measured run (default 5)
 *   BENCH_CONNECTIONS  concurrent connections / workers (default 10)
 *   BENCH_SLICES       the measured time of ours and of bare, split in this many alternating slices
 *                      (default 2: ours, bare, bare, ours)
 *   BENCH_SCENARIOS    comma list among client_credentials, client_credentials_new_tls, refresh_token,
 *                      authorization_code, introspection, growth, leak (default: all)
 *   BENCH_STORAGE      comma list among memory, redis (default: both)
 *   BENCH_GRANTS       grants written into Redis for the growth run (default 1000000)
 *   BENCH_CLIENTS      clients written into Redis for the growth run (default 10000)
 *   BENCH_POOL         refresh / access tokens prepared for the refresh and introspection runs (default 100)
 *   BENCH_LEAK_DURATION seconds of the memory run (default 60)
 *   BENCH_PIN          1 (default when 2+ CPUs): server child on the last CPU, the rest on the others
 *   BENCH_PROFILE      1: CPU profile of each measured run into bench/results/profiles/ (see bench/profile.ts)
 *   BENCH_REVOCATION   hard (default): ours checks the QWAC's revocation status (cached after the first
 *                      CRL download); off: it does not, to measure what the check costs
 *   REDIS_URL          use this Redis instead of starting a redis-server
 *
 * `npm run bench -- --render [file.json]` writes the markdown and SVG of a JSON report again.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { authorizationFlow, FORM, form, keepAliveAgent, send, type Endpoint, type FlowTokens, type TlsIdentity } from './http.js';
import { autocannonLoad, closedLoop, type LoadResult } from './load.js';
import { startCrlServer } from './crl.js';
import { createBenchPki, type BenchPki } from './pki.js';
import type { PopulateMessage, PopulateRequest } from './populate.js';
import { BARE_CLIENT_ID, REDIRECT_URI, RESOURCE_SERVER, type FromServer, type ServerConfig, type ServerStats, type StorageName, type Target, type ToServer } from './protocol.js';
import { commandDelta, redisInfo, startRedis, type BenchRedis, type RedisInfo } from './redis.js';
import {
  markdown, ratio, runOf, SCENARIO_TITLES, SCENARIOS, svg,
  type GrowthResult, type GrowthRun, type LeakResult, type LeakSample, type Report, type RunResult, type ScenarioName, type TargetCheck,
} from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const resultsDir = join(here, 'results');

// ---------------------------------------------------------------------------------------------
// Options

const EXTRA_RUNS = ['growth', 'leak'] as const;
type ExtraRun = (typeof EXTRA_RUNS)[number];

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

const cpuCount = cpus().length;
const config = {
  duration: numberOf('BENCH_DURATION', 10),
  warmup: numberOf('BENCH_WARMUP', 5),
  connections: Math.max(1, Math.round(numberOf('BENCH_CONNECTIONS', 10))),
  scenarios: listOf<ScenarioName | ExtraRun>('BENCH_SCENARIOS', [...SCENARIOS, ...EXTRA_RUNS]),
  storages: listOf<StorageName>('BENCH_STORAGE', ['memory', 'redis']),
  grants: Math.round(numberOf('BENCH_GRANTS', 1_000_000)),
  clients: Math.max(10, Math.round(numberOf('BENCH_CLIENTS', 10_000))),
  pool: Math.max(1, Math.round(numberOf('BENCH_POOL', 100))),
  leakDuration: numberOf('BENCH_LEAK_DURATION', 60),
  slices: Math.max(1, Math.round(numberOf('BENCH_SLICES', 2))),
  pin: process.env.BENCH_PIN ? process.env.BENCH_PIN === '1' : cpuCount >= 2,
  profile: process.env.BENCH_PROFILE === '1',
  revocation: listOf<'hard' | 'off'>('BENCH_REVOCATION', ['hard', 'off'])[0] ?? 'hard',
};
/** Operations sent one at a time to count sequential Redis round trips. */
const PROBES: Record<ScenarioName, number> = {
  client_credentials: 20, client_credentials_new_tls: 20, refresh_token: 20, authorization_code: 5, introspection: 20,
};
const serverCpu = String(cpuCount - 1);
const driverCpus = cpuCount > 2 ? `0-${cpuCount - 2}` : '0';

function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function pinSelf(cpuList: string): void {
  if (!config.pin) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(process.pid)], { stdio: 'ignore' });
  } catch (error) {
    console.warn(`bench: could not pin the driver to CPUs ${cpuList}: ${String(error)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Server children

class ServerChild {
  #nextId = 0;
  readonly #pending = new Map<number, (stats: ServerStats) => void>();

  private constructor(readonly child: ChildProcess, readonly port: number, readonly pid: number) {
    child.on('message', (message: FromServer) => {
      if (message.type === 'stats') {
        this.#pending.get(message.id)?.(message.stats);
        this.#pending.delete(message.id);
      }
    });
  }

  static async start(serverConfig: ServerConfig): Promise<ServerChild> {
    const nodeArgs = [
      '--expose-gc',
      '--import', 'tsx',
      join(here, 'server.ts'),
    ];
    const [command, args] = config.pin
      ? ['taskset', ['-c', serverCpu, process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } });
    const ready = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the server child exited with ${code} before it was ready`));
      child.once('exit', onExit);
      child.on('message', (message: FromServer) => {
        if (message.type === 'ready') {
          child.off('exit', onExit);
          resolve({ port: message.port, pid: message.pid });
        } else if (message.type === 'failed') {
          reject(new Error(`the server child failed: ${message.message}`));
        }
      });
      child.send({ type: 'start', config: serverConfig } satisfies ToServer);
    });
    return new ServerChild(child, ready.port, ready.pid);
  }

  stats(gc = false): Promise<ServerStats> {
    const id = (this.#nextId += 1);
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.child.send({ type: 'stats', id, gc } satisfies ToServer);
    });
  }

  breakdown(on: boolean): void {
    this.child.send({ type: 'breakdown', on } satisfies ToServer);
  }

  /** Starts the CPU profiler of the child; the returned function stops it and waits for the file. */
  profile(file: string): () => Promise<void> {
    this.child.send({ type: 'profile', action: 'start' } satisfies ToServer);
    return () => new Promise((resolve) => {
      const onMessage = (message: FromServer) => {
        if (message.type === 'profiled' && message.file === file) {
          this.child.off('message', onMessage);
          resolve();
        }
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'profile', action: 'stop', file } satisfies ToServer);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'exit' } satisfies ToServer);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Context {
  readonly pki: BenchPki;
  readonly tpp: TlsIdentity;
  readonly redis: BenchRedis | undefined;
  readonly subjectDn: string;
}

interface Session {
  readonly target: Target;
  readonly storage: StorageName;
  readonly server: ServerChild;
  readonly endpoint: Endpoint;
  readonly clientId: string;
  readonly keyPrefix: string;
}

interface Prepared {
  readonly unit: 'request' | 'flow';
  /** One operation, checked. */
  once(): Promise<void>;
  load(seconds: number): Promise<LoadResult>;
}

async function openSession(context: Context, target: Target, storage: StorageName): Promise<Session> {
  const keyPrefix = `bench:${target}:${randomBytes(3).toString('hex')}:`;
  const server = await ServerChild.start({
    target,
    storage,
    ...(storage === 'redis' ? { redisUrl: context.redis!.url } : {}),
    keyPrefix,
    tls: { key: context.pki.serverKeyPem, cert: context.pki.serverCertPem },
    sandboxRootPem: context.pki.sandboxRootPem,
    signingKey: context.pki.signingKey,
    tppSubjectDn: context.subjectDn,
    revocation: config.revocation,
  });
  const endpoint: Endpoint = { port: server.port, ca: context.pki.serverCaPem };
  let clientId = BARE_CLIENT_ID;
  if (target === 'ours') {
    // Registered as a TPP does (RFC 7591 over mutual TLS): the roles of its certificate give it
    // aisp (authorization code, refresh) and pisp (client credentials).
    const reply = await send(endpoint, {
      agent: false,
      identity: context.tpp,
      method: 'POST',
      path: '/oauth2/register',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], client_name: 'Bench TPP' }),
    });
    if (reply.status !== 201) throw new Error(`registration failed: ${reply.status} ${reply.text}`);
    clientId = String((JSON.parse(reply.text) as { client_id: string }).client_id);
  }
  return { target, storage, server, endpoint, clientId, keyPrefix };
}

function expectOk(status: number, text: string, what: string): void {
  if (status !== 200) throw new Error(`${what}: ${status} ${text.slice(0, 300)}`);
}

/** `count` authorization-code flows, BENCH_CONNECTIONS at a time: refresh and access tokens to use. */
async function tokenPool(session: Session, context: Context, count: number): Promise<FlowTokens[]> {
  const browserAgent = keepAliveAgent(session.endpoint);
  const tppAgent = keepAliveAgent(session.endpoint, context.tpp);
  const tokens: FlowTokens[] = [];
  let started = 0;
  await Promise.all(Array.from({ length: Math.min(count, config.connections) }, async () => {
    while (started < count) {
      started += 1;
      tokens.push(await authorizationFlow({ target: session.target, endpoint: session.endpoint, clientId: session.clientId, browserAgent, tppAgent }));
    }
  }));
  browserAgent.destroy();
  tppAgent.destroy();
  return tokens;
}

const basicAuthorization = `Basic ${Buffer.from(`${encodeURIComponent(RESOURCE_SERVER.id)}:${encodeURIComponent(RESOURCE_SERVER.secret)}`).toString('base64')}`;

async function prepare(scenario: ScenarioName, session: Session, context: Context): Promise<Prepared> {
  const { endpoint, clientId } = session;
  const tppAgent = keepAliveAgent(endpoint, context.tpp);
  const tls = { ca: endpoint.ca, cert: context.tpp.cert, key: context.tpp.key };
  const token = async (body: string, agent: typeof tppAgent | false = tppAgent): Promise<string> => {
    const reply = await send(endpoint, { agent, identity: context.tpp, method: 'POST', path: '/oauth2/token', headers: { 'content-type': FORM }, body });
    expectOk(reply.status, reply.text, scenario);
    return reply.text;
  };
  const ccBody = form({ grant_type: 'client_credentials', scope: 'pisp', client_id: clientId });

  switch (scenario) {
    case 'client_credentials':
      return {
        unit: 'request',
        once: async () => { await token(ccBody); },
        load: (seconds) => autocannonLoad({ port: endpoint.port, path: '/oauth2/token', connections: config.connections, seconds, tls, headers: { 'content-type': FORM }, body: ccBody }),
      };
    case 'client_credentials_new_tls': {
      const once = async () => { await token(ccBody, false); };
      return { unit: 'request', once, load: (seconds) => closedLoop(config.connections, seconds, once) };
    }
    case 'refresh_token': {
      const pool = (await tokenPool(session, context, config.pool)).map((tokens) => tokens.refresh_token);
      if (pool.some((value) => !value)) throw new Error('a flow gave no refresh token');
      let next = 0;
      const body = () => form({ grant_type: 'refresh_token', refresh_token: pool[(next += 1) % pool.length]!, client_id: clientId });
      return {
        unit: 'request',
        once: async () => { await token(body()); },
        load: (seconds) => autocannonLoad({ port: endpoint.port, path: '/oauth2/token', connections: config.connections, seconds, tls, headers: { 'content-type': FORM }, body }),
      };
    }
    case 'authorization_code': {
      const browserAgent = keepAliveAgent(endpoint);
      const once = async () => { await authorizationFlow({ target: session.target, endpoint, clientId, browserAgent, tppAgent }); };
      return { unit: 'flow', once, load: (seconds) => closedLoop(config.connections, seconds, once) };
    }
    case 'introspection': {
      const pool = (await tokenPool(session, context, config.pool)).map((tokens) => tokens.access_token);
      let next = 0;
      const body = () => form({ token: pool[(next += 1) % pool.length]! });
      const headers = { 'content-type': FORM, authorization: basicAuthorization };
      const rsAgent = keepAliveAgent(endpoint);
      return {
        unit: 'request',
        once: async () => {
          const reply = await send(endpoint, { agent: rsAgent, method: 'POST', path: '/oauth2/introspect', headers, body: body() });
          expectOk(reply.status, reply.text, scenario);
          if (!(JSON.parse(reply.text) as { active?: boolean }).active) throw new Error(`introspection: inactive token: ${reply.text}`);
        },
        load: (seconds) => autocannonLoad({ port: endpoint.port, path: '/oauth2/introspect', connections: config.connections, seconds, tls: { ca: endpoint.ca }, headers, body }),
      };
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}`);
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 500));
}

async function infoOf(context: Context): Promise<RedisInfo | undefined> {
  return context.redis ? redisInfo(context.redis.client) : undefined;
}

/** Sequential round trips and exchanges per operation (by kind), with operations sent one at a time. */
async function probe(session: Session, prepared: Prepared, count: number): Promise<{ waves: number; exchanges: number; breakdown: Record<string, number> }> {
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

/** What one measured slice of a run gave. */
interface Slice {
  readonly load: LoadResult;
  readonly wall: number;
  readonly cpuSeconds: number;
  readonly exchanges: number;
  readonly commands: ReturnType<typeof commandDelta> | undefined;
  readonly redisCpuSeconds: number;
  readonly hwmKb: number;
}

async function measureSlice(session: Session, context: Context, prepared: Prepared, seconds: number): Promise<Slice> {
  const statsBefore = await session.server.stats();
  const infoBefore = session.storage === 'redis' ? await infoOf(context) : undefined;
  const wallStart = performance.now();
  const load = await prepared.load(seconds);
  const wall = (performance.now() - wallStart) / 1000;
  const statsAfter = await session.server.stats();
  const infoAfter = session.storage === 'redis' ? await infoOf(context) : undefined;
  return {
    load,
    wall,
    cpuSeconds: (statsAfter.cpuUser + statsAfter.cpuSystem - statsBefore.cpuUser - statsBefore.cpuSystem) / 1e6,
    exchanges: statsAfter.redis.exchanges - statsBefore.redis.exchanges,
    commands: infoBefore && infoAfter ? commandDelta(infoBefore, infoAfter) : undefined,
    redisCpuSeconds: infoBefore && infoAfter ? infoAfter.cpuSeconds - infoBefore.cpuSeconds : 0,
    hwmKb: statsAfter.hwmKb,
  };
}

/** One run from its slices: counts summed, latency percentiles weighted by completions. */
function combine(scenario: ScenarioName, session: Session, unit: Prepared['unit'], slices: readonly Slice[], startRssMb: number, probed: Awaited<ReturnType<typeof probe>> | undefined): RunResult {
  const sum = (pick: (slice: Slice) => number) => slices.reduce((total, slice) => total + pick(slice), 0);
  const completed = sum((slice) => slice.load.completed);
  const errors = sum((slice) => slice.load.errors);
  const seconds = sum((slice) => slice.load.seconds);
  const weighted = (pick: (load: LoadResult) => number) => (completed ? sum((slice) => pick(slice.load) * slice.load.completed) / completed : Number.NaN);
  const round = (value: number) => Math.round(value * 100) / 100;
  const firstError = slices.find((slice) => slice.load.firstError)?.load.firstError;
  const load: LoadResult = {
    completed,
    errors,
    seconds,
    rate: completed / seconds,
    p50: round(weighted((l) => l.p50)),
    p99: round(weighted((l) => l.p99)),
    mean: round(weighted((l) => l.mean)),
    ...(firstError ? { firstError } : {}),
  };
  const cpuSeconds = sum((slice) => slice.cpuSeconds);
  const operations = Math.max(1, completed + errors);
  let redis: RunResult['redis'];
  if (slices.every((slice) => slice.commands)) {
    const byCommand: Record<string, number> = {};
    for (const slice of slices) {
      for (const [command, calls] of Object.entries(slice.commands!.byCommand)) byCommand[command] = (byCommand[command] ?? 0) + calls / operations;
    }
    redis = {
      commands: sum((slice) => slice.commands!.total) / operations,
      exchanges: sum((slice) => slice.exchanges) / operations,
      waves: probed?.waves ?? Number.NaN,
      breakdown: probed?.breakdown ?? {},
      cpuMicros: (sum((slice) => slice.redisCpuSeconds) * 1e6) / operations,
      byCommand,
    };
  }
  return {
    scenario,
    storage: session.storage,
    target: session.target,
    unit,
    load,
    serverCpuSeconds: cpuSeconds,
    perCore: cpuSeconds > 0 ? completed / cpuSeconds : Number.NaN,
    utilization: cpuSeconds / sum((slice) => slice.wall),
    startRssMb,
    peakRssMb: Math.max(...slices.map((slice) => slice.hwmKb)) / 1024,
    ...(redis ? { redis } : {}),
  };
}

function describe(run: RunResult): string {
  const unit = run.unit === 'flow' ? 'flows/s' : 'req/s';
  const redis = run.redis ? `, Redis ${run.redis.commands.toFixed(1)} cmds / ${run.redis.exchanges.toFixed(1)} exch / ${run.redis.waves.toFixed(1)} seq per ${run.unit}` : '';
  const errors = run.load.errors ? `, ${run.load.errors} errors (${run.load.firstError ?? '?'})` : '';
  return `${run.load.rate.toFixed(run.unit === 'flow' ? 1 : 0)} ${unit} (${run.perCore.toFixed(0)} per server core, CPU ${(run.utilization * 100).toFixed(0)}%), p50 ${run.load.p50} ms, p99 ${run.load.p99} ms, peak RSS ${run.peakRssMb.toFixed(0)} MB${redis}${errors}`;
}

/**
 * Both servers of a scenario, alive side by side: each prepared and warmed up, then measured in
 * alternating slices (ours, bare, bare, ours, …) so that the drift of a shared machine weighs on
 * both alike.
 */
async function runScenario(context: Context, scenario: ScenarioName, storage: StorageName): Promise<RunResult[]> {
  if (storage === 'redis') await context.redis!.client.flushDb();
  const targets = ['ours', 'bare'] as const;
  const sessions: Session[] = [];
  try {
    for (const target of targets) sessions.push(await openSession(context, target, storage));
    const runs = [];
    for (const session of sessions) {
      const startRssMb = (await session.server.stats()).rssKb / 1024;
      const prepared = await prepare(scenario, session, context);
      await prepared.once();
      runs.push({ session, prepared, startRssMb, slices: [] as Slice[], probed: undefined as Awaited<ReturnType<typeof probe>> | undefined });
    }
    for (const run of runs) if (config.warmup > 0) await run.prepared.load(config.warmup);
    // Requests of connections the load generator dropped at the end of the warm-up may still be
    // in the server: let them finish before counting.
    await settle();
    if (storage === 'redis') for (const run of runs) run.probed = await probe(run.session, run.prepared, PROBES[scenario]);
    const slices = Math.max(1, config.slices);
    const sliceSeconds = config.duration / slices;
    for (let i = 0; i < slices; i += 1) {
      for (const run of i % 2 === 0 ? runs : [...runs].reverse()) {
        const { session } = run;
        const stopProfile = config.profile ? session.server.profile(join(resultsDir, 'profiles', `${scenario}-${storage}-${session.target}-${i + 1}.cpuprofile`)) : undefined;
        run.slices.push(await measureSlice(session, context, run.prepared, sliceSeconds));
        await stopProfile?.();
        await settle();
      }
    }
    return runs.map((run) => {
      const result = combine(scenario, run.session, run.prepared.unit, run.slices, run.startRssMb, run.probed);
      log(`  ${run.session.target.padEnd(4)} ${describe(result)}`);
      return result;
    });
  } finally {
    for (const session of sessions) await session.server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Growth: many clients and grants in Redis

/** Writes clients and grants through RedisStorage in a child process (bench/populate.ts), on all CPUs. */
async function populate(context: Context, session: Session, clients: number, grants: number): Promise<{ seconds: number; benchClients: string[] }> {
  // The server is idle meanwhile: every CPU may write (a child inherits the driver's pinning otherwise).
  const nodeArgs = ['--import', 'tsx', join(here, 'populate.ts')];
  const [command, args] = config.pin ? ['taskset', ['-c', `0-${cpuCount - 1}`, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
  log(`  ${label}: ${run.rate.toFixed(0)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms; server ${run.serverCpuMicros.toFixed(0)} µs CPU/request (${(run.utilization * 100).toFixed(0)}% busy), Redis ${run.redisCpuMicros.toFixed(0)} µs CPU and ${run.commands.toFixed(1)} commands/request${run.errors ? `, ${run.errors} errors (${run.firstError})` : ''}`);
  await settle();
  return run;
}

async function runGrowth(context: Context): Promise<GrowthResult> {
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
    const flat = after.p50 <= before.p50 * 1.25 + 0.5 && after.p99 <= before.p99 * 1.5 + 1 && after.rate >= before.rate * 0.85 && after.errors === 0;
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

// ---------------------------------------------------------------------------------------------
// Memory over a longer run

async function runLeak(context: Context, storage: StorageName): Promise<LeakResult> {
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

// ---------------------------------------------------------------------------------------------
// Targets

function checks(runs: readonly RunResult[], growth: GrowthResult | undefined, leak: LeakResult | undefined): TargetCheck[] {
  const result: TargetCheck[] = [];
  const ratioCheck = (storage: StorageName, minimum: number) => {
    const value = ratio(runs, 'client_credentials', storage);
    const perCore = ratio(runs, 'client_credentials', storage, true);
    const fresh = ratio(runs, 'client_credentials_new_tls', storage);
    result.push({
      name: `ours/bare ≥ ${minimum} for client_credentials (keep-alive), ${storage}`,
      value: value === undefined ? '–' : `${value.toFixed(2)} (per core ${perCore?.toFixed(2) ?? '–'}; new TLS per request ${fresh?.toFixed(2) ?? '–'})`,
      pass: value === undefined ? undefined : value >= minimum,
    });
  };
  ratioCheck('memory', 0.9);
  ratioCheck('redis', 0.85);
  const tripsCheck = (scenario: ScenarioName, maximum: number) => {
    const run = runOf(runs, scenario, 'redis', 'ours');
    const bare = runOf(runs, scenario, 'redis', 'bare');
    const unit = scenario === 'authorization_code' ? 'flow' : 'request';
    result.push({
      name: `≤ ${maximum} Redis round trips per ${scenario} ${unit}`,
      value: run?.redis
        ? `${run.redis.waves.toFixed(1)} sequential round trips, ${run.redis.exchanges.toFixed(1)} exchanges, ${run.redis.commands.toFixed(1)} commands (bare: ${bare?.redis?.waves.toFixed(1) ?? '–'}, ${bare?.redis?.exchanges.toFixed(1) ?? '–'}, ${bare?.redis?.commands.toFixed(1) ?? '–'})`
        : '–',
      pass: run?.redis ? run.redis.waves <= maximum + 0.05 : undefined,
    });
  };
  tripsCheck('client_credentials', 3);
  tripsCheck('authorization_code', 8);
  result.push({
    name: 'flat client_credentials latency with many clients and grants in Redis',
    value: growth
      ? `${growth.clients.toLocaleString('en')} clients, ${growth.grants.toLocaleString('en')} grants: p50 ${growth.before.p50} → ${growth.after.p50} ms, p99 ${growth.before.p99} → ${growth.after.p99} ms, ${growth.before.rate.toFixed(0)} → ${growth.after.rate.toFixed(0)} req/s`
      : '–',
    pass: growth?.flat,
  });
  result.push({
    name: 'no memory growth over a longer run',
    value: leak ? `${leak.storage}: RSS ${leak.rssGrowthPct.toFixed(1)} %, heap after GC ${leak.heapGrowthMb.toFixed(1)} MB over ${leak.samples[leak.samples.length - 1]?.seconds.toFixed(0) ?? '?'} s` : '–',
    pass: leak?.pass,
  });
  return result;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  mkdirSync(resultsDir, { recursive: true });
  if (config.profile) mkdirSync(join(resultsDir, 'profiles'), { recursive: true });
  pinSelf(driverCpus);
  log(`bench: ${config.duration} s runs (+${config.warmup} s warm-up), ${config.connections} connections, scenarios ${config.scenarios.join(', ')}, storage ${config.storages.join(', ')}${config.pin ? `; server on CPU ${serverCpu}, driver and Redis on CPU ${driverCpus}` : ''}`);
  const crls = await startCrlServer();
  const pki = await createBenchPki(crls);
  const leaf = new X509Certificate(pki.tpp.chainPem);
  const context: Context = {
    pki,
    tpp: { cert: pki.tpp.chainPem, key: pki.tpp.keyPem },
    redis: config.storages.includes('redis') ? await startRedis(config.pin ? driverCpus : undefined) : undefined,
    subjectDn: leaf.subject.split('\n').reverse().join(', '),
  };
  const runs: RunResult[] = [];
  let growth: GrowthResult | undefined;
  let leak: LeakResult | undefined;
  try {
    for (const storage of config.storages) {
      for (const scenario of SCENARIOS) {
        if (!config.scenarios.includes(scenario)) continue;
        log(`${SCENARIO_TITLES[scenario]}, ${storage}`);
        runs.push(...await runScenario(context, scenario, storage));
        const r = ratio(runs, scenario, storage);
        const rc = ratio(runs, scenario, storage, true);
        log(`  ours/bare ${r?.toFixed(2) ?? '–'} (per server core ${rc?.toFixed(2) ?? '–'})`);
      }
    }
    if (config.scenarios.includes('growth')) {
      if (context.redis) {
        log(`growth: client_credentials before and after ${config.clients.toLocaleString('en')} clients and ${config.grants.toLocaleString('en')} grants in Redis`);
        growth = await runGrowth(context);
      } else {
        log('growth: skipped (needs BENCH_STORAGE to include redis)');
      }
    }
    if (config.scenarios.includes('leak')) {
      const storage: StorageName = context.redis ? 'redis' : 'memory';
      log(`memory: client_credentials for ${config.leakDuration} s on ${storage}`);
      leak = await runLeak(context, storage);
    }
  } finally {
    await context.redis?.close();
    await crls.close();
  }
  log(`revocation: ${crls.downloads} CRL download(s) over the whole run`);

  const notes = [
    `Every request goes over HTTPS with mutual TLS (ECDSA P-256 certificates from example-app/pki.ts: sandbox root → QTSP intermediate → the TPP's QWAC with PSP_AI and PSP_PI, sent with its intermediate). The product checks the chain, the QWAC statements and the PSD2 roles (cached by leaf), and ${config.revocation === 'off' ? 'not (BENCH_REVOCATION=off) ' : ''}the revocation status of the QWAC and its intermediate (hard fail) through the CRLs they name, served by the driver on a loopback port: fetched once, then served from the status cache; the bare provider only reads the peer certificate.`,
    'ours: createAuthorizationServer mounted at /oauth2 of an Express app, the TPP client registered over RFC 7591. bare: oidc-provider with the same grants, scopes, TTLs, cookies, PKCE, tls_client_auth and certificate-bound tokens, the same storage adapter, its clients written through the same adapter, mounted the same way; minimal sign-in and consent pages with the same steps as ours.',
    `Each scenario starts a fresh server child process for ours and one for bare, side by side (${config.pin ? `each pinned to CPU ${serverCpu}; the load generator and Redis share CPU ${driverCpus}` : 'not pinned'}); each gets ${config.warmup} s of warm-up, then ${config.duration} s measured in ${config.slices} alternating slice(s) (ours, bare, bare, ours…) so that drift of the shared machine weighs on both alike; rates add the slices up, p50/p99 are the slices' values weighted by their completions. Keep-alive runs use autocannon; new-TLS-per-request and flows use a closed loop of ${config.connections} workers over node:https (a full TLS handshake per request, no session resumption).`,
    'Per core = successful operations / server CPU seconds (user + system) during the run; Server CPU = share of one core used. RSS start = VmRSS of the server process once listening (the tsx loader accounts for ~35 MB of it, oidc-provider ~35 MB); peak = its VmHWM at the end of its run (it lived for that scenario only: token pools, warm-up and run).',
    'Redis round trips: "exch" counts each standalone command and each MULTI…EXEC block the server sends, over the whole run; "seq" counts groups of overlapping exchanges for operations sent one at a time (exchanges sent together with Promise.all are pipelined and cost one network round trip). The round-trip targets are checked on sequential round trips (what a request waits for); exchanges are shown next to them.',
    'refresh_token: a pool of refresh tokens from real authorization-code flows, used round-robin; without rotation each refresh reuses its token. introspection: access tokens from such flows, the resource server authenticating with HTTP Basic (bare: a client_secret_basic client).',
  ];
  const report: Report = {
    startedAt: startedAt.toISOString(),
    environment: {
      cpu: `${cpus()[0]?.model ?? '?'} × ${cpuCount}`,
      node: process.version,
      duration: `${config.duration} s`,
      connections: String(config.connections),
      redis: context.redis ? (process.env.REDIS_URL ? 'REDIS_URL' : 'redis-server (no persistence)') : 'not used',
    },
    runs,
    ...(growth ? { growth } : {}),
    ...(leak ? { leak } : {}),
    checks: checks(runs, growth, leak),
    notes,
  };
  writeFileSync(join(resultsDir, 'latest.md'), markdown(report));
  writeFileSync(join(resultsDir, 'latest.svg'), svg(report));
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);

  console.log('\nSummary');
  for (const run of runs) console.log(`  ${SCENARIO_TITLES[run.scenario]} / ${run.storage} / ${run.target}: ${describe(run)}`);
  console.log('\nTargets');
  for (const check of report.checks) console.log(`  ${check.pass === undefined ? 'SKIP' : check.pass ? 'PASS' : 'FAIL'}  ${check.name}: ${check.value}`);
  console.log(`\nWritten: ${join('bench', 'results', 'latest.md')}, latest.svg, latest.json (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)`);
}

/** `npm run bench -- --render [bench/results/latest.json]`: the markdown and SVG again from a JSON report, without running anything. */
function render(file: string): void {
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  const base = basename(file, '.json');
  writeFileSync(join(dirname(file), `${base}.md`), markdown(report).replace('](latest.svg)', `](${base}.svg)`));
  writeFileSync(join(dirname(file), `${base}.svg`), svg(report));
  console.log(`Written: ${join(dirname(file), `${base}.md`)}, ${base}.svg`);
}

const renderAt = process.argv.indexOf('--render');
(renderAt >= 0 ? Promise.resolve(render(process.argv[renderAt + 1] ?? join(resultsDir, 'latest.json'))) : main()).then(() => {
  // Keep-alive agents and autocannon's timers would keep the process alive.
  process.exit(0);
}, (error: unknown) => {
  console.error(error);
  process.exit(1);
});
