/**
 * What RedisStorage needs of the host app's Redis connections, as node-redis (v5+) names it: a
 * client from `createClient()` or a cluster from `createCluster()` fits each of these as it is.
 */

/** The commands the storage sends on its connection. */
export interface RedisCommands {
  readonly isReady: boolean;
  hGetAll(key: string): Promise<Record<string, string>>;
  get(key: string): Promise<string | null>;
  del(keys: string | string[]): Promise<number>;
  zRange(key: string, start: number, stop: number): Promise<string[]>;
  zRangeByScore(key: string, min: number | string, max: number | string): Promise<string[]>;
  zRem(key: string, members: string | string[]): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  multi(): RedisTransaction;
  /**
   * node-redis: the same client with other command options. The storage turns node-redis's own
   * per-command timeout off for its commands (it enforces `timeout` itself): that timer is an
   * AbortSignal that keeps each request's state alive for its whole length after the answer.
   */
  withCommandOptions?(options: { readonly timeout: number }): RedisCommands;
}

/** The part of a node-redis MULTI the storage uses. */
export interface RedisTransaction {
  del(key: string): RedisTransaction;
  hSet(key: string, field: string, value: string): RedisTransaction;
  pExpire(key: string, ms: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): RedisTransaction;
  pExpireAt(key: string, at: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): RedisTransaction;
  persist(key: string): RedisTransaction;
  zAdd(key: string, member: { score: number; value: string }): RedisTransaction;
  zRemRangeByScore(key: string, min: number | string, max: number | string): RedisTransaction;
  set(key: string, value: string, options?: { PX?: number }): RedisTransaction;
  incrBy(key: string, amount: number): RedisTransaction;
  publish(channel: string, message: string): RedisTransaction;
  expire(key: string, seconds: number, mode?: 'NX' | 'XX' | 'GT' | 'LT'): RedisTransaction;
  exec(): Promise<unknown[]>;
}

/** A message heard on a channel: node-redis gives a string, a cluster's types allow a Buffer. */
export type ChannelListener = (message: string | Buffer) => void;

/**
 * The connection the storage's cache listens on: a second connection of the host app's (e.g.
 * `client.duplicate()`, or `cluster.duplicate()`), connected by the host and closed by it after
 * the storage's `close()`. The storage subscribes on it and watches its events; node-redis
 * subscribes again by itself after reconnecting.
 */
export interface RedisSubscriber {
  subscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  unsubscribe(channel: string, listener: ChannelListener): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}
