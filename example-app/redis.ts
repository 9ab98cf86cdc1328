/**
 * The example app's Redis: one server (`redis://`, `rediss://`) or a Redis Cluster (several URLs,
 * comma-separated), as REDIS_URL says. The app creates and connects both connections the storage
 * uses, the client and the subscriber its cache listens on, and closes them; the package only uses
 * them. Losing Redis, and getting it back, is logged once each way.
 */
import { createClient, createCluster } from 'redis';

import { RedisStorage, type RedisCommands, type RedisSubscriber } from '../adapters/redis/storage.js';
import type { Logger } from '../lib/logger.js';

export interface ExampleRedis {
  readonly storage: RedisStorage;
  close(): Promise<void>;
}

/**
 * A single server's connections: reconnect quickly after an outage (100 ms, doubling, at most
 * 2 s apart); while disconnected, requests fail fast with 503 instead of queueing.
 */
const SINGLE = {
  socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  disableOfflineQueue: true,
};

/**
 * A cluster's connections, set so that a master failover costs what the cluster takes to promote
 * the replica, not what the client takes to notice (see the README, "Redis Cluster failover"):
 * - node-redis refreshes its slot map only when a node it uses has been reconnecting for
 *   `topologyRefreshOnReconnectionAttemptStrategy` ms (default 5000), checked at each attempt:
 *   500 ms, so the promoted replica is found within half a second and one attempt of its promotion;
 * - attempts at most 250 ms apart (50 ms, doubling), and a connect that does not get through in
 *   1 s is given up (default 5 s: a host that went away rather than refusing would space the
 *   attempts, and so the refresh, by 5 s);
 * - commands for a node being reconnected fail at once (503) instead of waiting in its queue for a
 *   master that is not coming back.
 * A MOVED answer (a slot served elsewhere, e.g. by the old master back as a replica) refreshes the
 * map at once whatever these say; `maxCommandRedirections` (16) only bounds such hops.
 */
const CLUSTER_DEFAULTS = {
  socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 250), connectTimeout: 1000 },
  disableOfflineQueue: true,
};
export const TOPOLOGY_REFRESH_MS = 500;

/** Logs the storage's connections lost, once, and back, once all of them are. */
export class Connectivity {
  readonly #lost = new Set<string>();
  #since = 0;
  #lastError = '';

  constructor(private readonly logger: Logger) {}

  /** Whether a connection is lost now. */
  get lost(): boolean {
    return this.#lost.size > 0;
  }

  /** `connection` (e.g. `client`, `node 10.0.0.5:6379`) failed with `error`. */
  failed(connection: string, error: Error): void {
    if (this.#lost.has(connection)) return;
    this.#lost.add(connection);
    if (this.#lost.size > 1) return;
    this.#since = Date.now();
    this.logger.error({ event: 'storage.connection_lost', connection, err: error }, 'Redis connection lost: requests that need the storage answer 503 until it is back');
  }

  /** `connection` is ready again, or left the cluster's topology (its slots moved to a replica). */
  restored(connection: string): void {
    if (!this.#lost.delete(connection) || this.#lost.size) return;
    this.#lastError = '';
    this.logger.warn({ event: 'storage.connection_back', downMs: Date.now() - this.#since }, 'Redis connection back');
  }

  /** An error of the cluster itself (a slot map refresh that failed): once per message until back. */
  clusterError(error: Error): void {
    if (error.message === this.#lastError) return;
    this.#lastError = error.message;
    this.logger.warn({ event: 'storage.cluster_error', err: error }, 'Redis Cluster error');
  }
}

/** The events of a node-redis client that tell its connectivity. */
interface WatchedClient {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/** A cluster node, as node-redis names it in its events. */
interface NodeInfo {
  readonly host?: string;
  readonly port?: number;
}

/** The events of a node-redis cluster that tell its nodes' connectivity. */
interface WatchedCluster {
  on(event: 'node-error', listener: (error: Error, node: NodeInfo) => void): unknown;
  on(event: 'node-ready' | 'node-disconnect', listener: (node: NodeInfo) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** Watches a single server's connection, named `name`. */
function watchClient(connection: WatchedClient, name: string, connectivity: Connectivity): void {
  connection.on('error', (error) => connectivity.failed(name, error));
  connection.on('ready', () => connectivity.restored(name));
}

/** Watches a cluster's nodes: a node's error, its reconnection, or its removal from the slot map. */
function watchCluster(cluster: WatchedCluster, name: string, connectivity: Connectivity): void {
  const node = (info: NodeInfo) => `${name} node ${info.host ?? '?'}:${info.port ?? '?'}`;
  cluster.on('node-error', (error, info) => connectivity.failed(node(info), error));
  cluster.on('node-ready', (info) => connectivity.restored(node(info)));
  cluster.on('node-disconnect', (info) => connectivity.restored(node(info)));
  cluster.on('error', (error) => connectivity.clusterError(error));
}

/** A connection, watched by `watch` under `name`, then connected. */
async function connected<C extends { connect(): Promise<unknown> }>(connection: C, name: string, watch: (connection: C, name: string, connectivity: Connectivity) => void, connectivity: Connectivity): Promise<C> {
  watch(connection, name, connectivity);
  await connection.connect();
  return connection;
}

/** A connection the app closes. */
interface Closable {
  close(): Promise<unknown>;
}

/** The storage over `client`, its cache listening on `subscriber`; closing it closes both. */
function storageOver(client: RedisCommands & Closable, subscriber: RedisSubscriber & Closable, keyPrefix: string | undefined, logger: Logger): ExampleRedis {
  const storage = new RedisStorage(client, { keyPrefix, subscriber, onWarning: (message) => logger.warn({ event: 'storage.warning' }, message) });
  return { storage, close: async () => { await storage.close(); await Promise.all([subscriber.close(), client.close()]); } };
}

export async function connectRedis(url: string, keyPrefix: string | undefined, logger: Logger): Promise<ExampleRedis> {
  const urls = url.split(',').map((part) => part.trim()).filter(Boolean);
  const connectivity = new Connectivity(logger);
  if (urls.length > 1) {
    const cluster = await connected(createCluster({
      rootNodes: urls.map((node) => ({ url: node })),
      defaults: CLUSTER_DEFAULTS,
      topologyRefreshOnReconnectionAttemptStrategy: TOPOLOGY_REFRESH_MS,
    }), 'client', watchCluster, connectivity);
    return storageOver(cluster, await connected(cluster.duplicate(), 'subscriber', watchCluster, connectivity), keyPrefix, logger);
  }
  const client = await connected(createClient({ url: urls[0], ...SINGLE }), 'client', watchClient, connectivity);
  return storageOver(client, await connected(client.duplicate(), 'subscriber', watchClient, connectivity), keyPrefix, logger);
}
