/**
 * One server under test, in a child process of the driver (bench/run.ts), over HTTPS asking for
 * client certificates: the product (createAuthorizationServer) or bare oidc-provider, mounted under
 * /oauth2 of an Express app on MemoryStorage or RedisStorage; or an anchor, oidc-provider with its
 * own defaults in Express or on node:https directly (bench/anchor.ts). Started by a `start`
 * message; answers `stats` with its memory, CPU time and Redis calls.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { Session } from 'node:inspector';
import type { AddressInfo } from 'node:net';

import express from 'express';
import { createClient } from 'redis';

import type { Storage } from '../lib/index.js';
import { anchorExpressApp, anchorHandler, anchorTlsOptions, baselineClients } from './anchor.js';
import { createBareProvider } from './bare.js';
import { COOKIE_KEY, RESOURCE_SERVER, SANDBOX_PSU, type FromServer, type ServerConfig, type ServerStats, type ToServer } from './protocol.js';
import { loadProduct } from './product.js';
import { countingClient, newCounters, snapshot } from './redis.js';

const { createAuthorizationServer, MemoryStorage, RedisStorage } = await loadProduct();

const counters = newCounters();

function send(message: FromServer): void {
  process.send?.(message);
}

function memoryKb(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return match?.[1] ? Number(match[1]) : Math.round(process.memoryUsage().rss / 1024);
}

function stats(): ServerStats {
  const cpu = process.cpuUsage();
  return {
    rssKb: memoryKb('VmRSS'),
    hwmKb: memoryKb('VmHWM'),
    heapUsed: process.memoryUsage().heapUsed,
    cpuUser: cpu.user,
    cpuSystem: cpu.system,
    redis: snapshot(counters),
  };
}

async function storageOf(config: ServerConfig): Promise<Storage> {
  if (config.storage === 'memory') return new MemoryStorage();
  // As the example app and the tests create it (node-redis defaults).
  const client = createClient({ url: config.redisUrl });
  client.on('error', (error: Error) => console.error(`server: Redis: ${error.message}`));
  await client.connect();
  // The second connection the storage's cache listens on, given by the host as the example app does.
  const subscriber = client.duplicate();
  subscriber.on('error', (error: Error) => console.error(`server: Redis subscriber: ${error.message}`));
  await subscriber.connect();
  return new RedisStorage(countingClient(client, counters), { keyPrefix: config.keyPrefix, subscriber });
}

/** The product mounted at /oauth2 of an Express app. */
function oursApp(config: ServerConfig, issuer: string, storage: Storage, metrics = true): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const auth = createAuthorizationServer({
    issuer,
    signingKeys: { keys: [config.signingKey] },
    cookieKeys: [COOKIE_KEY],
    environments: { sandbox: { trustAnchors: config.sandboxRootPem, testPsus: [SANDBOX_PSU] } },
    // As a bank runs it: the QWAC and its intermediate checked against their CRLs, hard fail.
    revocation: { sandbox: config.revocation },
    // Warnings and errors only, as oidc-provider logs nothing per request: the audit lines (one
    // per token) would measure the terminal, not the server.
    logger: { info: () => undefined, warn: (fields, message) => console.error(message, fields), error: (fields, message) => console.error(message, fields) },
    resourceServers: [RESOURCE_SERVER],
    storage,
    // Off only for the target measuring what the metrics cost.
    ...(metrics ? {} : { metrics: false as const }),
  });
  app.use('/oauth2', auth.router);
  return app;
}

/** Bare oidc-provider on the product's storage, its clients written through the storage. */
async function bareApp(config: ServerConfig, issuer: string, storage: Storage): Promise<express.Express> {
  const app = express();
  app.disable('x-powered-by');
  const bare = createBareProvider(issuer, storage, config.signingKey);
  const clients = storage.adapterFor('Client');
  for (const metadata of baselineClients(config.tppSubjectDn)) {
    // Kept without expiry, as registered clients are.
    await clients.upsert(String(metadata.client_id), metadata, undefined as unknown as number);
  }
  app.use('/oauth2/interaction', bare.interactions);
  app.use('/oauth2', bare.provider.callback());
  return app;
}

async function start(config: ServerConfig): Promise<void> {
  const anchor = config.target === 'anchor-express' || config.target === 'anchor-https';
  const server = createServer({
    key: config.tls.key,
    cert: config.tls.cert,
    requestCert: true,
    rejectUnauthorized: false,
    ...(anchor ? anchorTlsOptions(config.sandboxRootPem) : {}),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `https://localhost:${port}/oauth2`;
  switch (config.target) {
    case 'ours':
      server.on('request', oursApp(config, issuer, await storageOf(config)));
      break;
    case 'ours-metrics-off':
      server.on('request', oursApp(config, issuer, await storageOf(config), false));
      break;
    case 'bare':
      server.on('request', await bareApp(config, issuer, await storageOf(config)));
      break;
    case 'anchor-express':
      server.on('request', anchorExpressApp(issuer, config.signingKey, config.tppSubjectDn));
      break;
    case 'anchor-https':
      server.on('request', anchorHandler(issuer, config.signingKey, config.tppSubjectDn));
      break;
  }
  send({ type: 'ready', port, pid: process.pid, node: process.version });
}

let profiler: Session | undefined;

function post(session: Session, method: string, params: object = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

async function profile(action: 'start' | 'stop', file?: string): Promise<void> {
  if (action === 'start') {
    profiler = new Session();
    profiler.connect();
    await post(profiler, 'Profiler.enable');
    await post(profiler, 'Profiler.setSamplingInterval', { interval: 200 });
    await post(profiler, 'Profiler.start');
    return;
  }
  if (!profiler || !file) return;
  const { profile: result } = await post(profiler, 'Profiler.stop') as { profile: unknown };
  profiler.disconnect();
  profiler = undefined;
  writeFileSync(file, JSON.stringify(result));
  send({ type: 'profiled', file });
}

process.on('message', (message: ToServer) => {
  if (message.type === 'start') {
    start(message.config).catch((error: unknown) => {
      send({ type: 'failed', message: error instanceof Error ? error.stack ?? error.message : String(error) });
      process.exit(1);
    });
  } else if (message.type === 'stats') {
    if (message.gc) (globalThis as { gc?: () => void }).gc?.();
    send({ type: 'stats', id: message.id, stats: stats() });
  } else if (message.type === 'breakdown') {
    counters.breakdown = message.on ? new Map() : undefined;
  } else if (message.type === 'profile') {
    profile(message.action, message.action === 'stop' ? message.file : undefined).catch((error: unknown) => console.error('server: profile:', error));
  } else if (message.type === 'exit') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
