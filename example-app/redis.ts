/**
 * The example app's Redis: one server (`redis://`, `rediss://`) or a Redis Cluster (several URLs,
 * comma-separated), as REDIS_URL says. The app creates and connects both connections the storage
 * uses, the client and the subscriber its cache listens on, and closes them; the package only uses
 * them.
 */
import { createClient, createCluster } from 'redis';

import { RedisStorage } from '../adapters/redis/storage.js';

export interface ExampleRedis {
  readonly storage: RedisStorage;
  close(): Promise<void>;
}

/** A connection of node-redis, as the example app opens and closes it. */
interface Connection {
  on(event: 'error', listener: (error: Error) => void): unknown;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
}

export async function connectRedis(url: string, keyPrefix: string | undefined, log: (message: string) => void): Promise<ExampleRedis> {
  const urls = url.split(',').map((part) => part.trim()).filter(Boolean);
  // Reconnect quickly after an outage; while disconnected, requests fail fast with 503 instead of queueing.
  const socket = { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) };
  let lastError = '';
  const onError = (error: Error) => {
    if (error.message !== lastError) log(`Redis: ${error.message}`);
    lastError = error.message;
  };
  const connect = async <C extends Connection>(connection: C): Promise<C> => {
    connection.on('error', onError);
    await connection.connect();
    return connection;
  };
  if (urls.length > 1) {
    const cluster = await connect(createCluster({ rootNodes: urls.map((node) => ({ url: node })), defaults: { socket } }));
    const subscriber = await connect(cluster.duplicate());
    const storage = new RedisStorage(cluster, { keyPrefix, subscriber, onWarning: log });
    return { storage, close: async () => { await storage.close(); await Promise.all([subscriber.close(), cluster.close()]); } };
  }
  const client = createClient({ url: urls[0], socket, disableOfflineQueue: true });
  client.on('ready', () => {
    if (lastError) log('Redis: connected again');
    lastError = '';
  });
  await connect(client);
  const subscriber = await connect(client.duplicate());
  const storage = new RedisStorage(client, { keyPrefix, subscriber, onWarning: log });
  return { storage, close: async () => { await storage.close(); await Promise.all([subscriber.close(), client.close()]); } };
}
