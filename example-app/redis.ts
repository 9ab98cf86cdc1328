/**
 * The example app's Redis: one server (`redis://`, `rediss://`) or a Redis Cluster (several URLs,
 * comma-separated), as REDIS_URL says. The app creates and connects the client; the package only
 * uses it.
 */
import { createClient, createCluster } from 'redis';

import { RedisStorage, type RedisCommands } from '../adapters/redis.js';

export interface ExampleRedis {
  readonly storage: RedisStorage;
  close(): Promise<void>;
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
  if (urls.length > 1) {
    const cluster = createCluster({ rootNodes: urls.map((node) => ({ url: node })), defaults: { socket } });
    cluster.on('error', onError);
    await cluster.connect();
    const storage = new RedisStorage(cluster as unknown as RedisCommands, { keyPrefix, onWarning: log });
    return { storage, close: async () => { await storage.close(); await cluster.close(); } };
  }
  const client = createClient({ url: urls[0], socket, disableOfflineQueue: true });
  client.on('error', onError);
  client.on('ready', () => {
    if (lastError) log('Redis: connected again');
    lastError = '';
  });
  await client.connect();
  const storage = new RedisStorage(client as unknown as RedisCommands, { keyPrefix, onWarning: log });
  return { storage, close: async () => { await storage.close(); await client.close(); } };
}
