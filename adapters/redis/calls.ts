/**
 * How RedisStorage sends a call: failing fast while Redis is not connected, failing after the
 * storage's timeout otherwise, and, inside a batch, with its writes pipelined.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

import { errors } from 'oidc-provider';

import { StorageUnavailableError } from '../../lib/errors.js';
import type { StorageObserver } from '../../lib/storage.js';
import type { RedisCommands } from './client.js';

/** Writes of a batch not yet answered; `open` until the batch waits for them. */
interface Batch {
  readonly writes: Promise<unknown>[];
  open: boolean;
}

export class RedisCalls {
  readonly #batches = new AsyncLocalStorage<Batch>();
  /** Told of every call's time and outcome, once the server observes the storage. */
  #observer: StorageObserver | undefined;

  constructor(
    private readonly redis: RedisCommands,
    /** Milliseconds a call may take. */
    private readonly timeout: number,
  ) {}

  /** From now on, every call is timed into `observer` (see {@link RedisStorage.observe}). */
  observe(observer: StorageObserver | undefined): void {
    this.#observer = observer;
  }

  /**
   * Runs one storage call, `name` the operation it is counted under, failing fast when Redis is
   * not connected and after the timeout otherwise.
   */
  async call<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const observer = this.#observer;
    // Read only when someone listens: the clock is the cost of a timed call.
    const started = observer ? performance.now() : 0;
    let timer: NodeJS.Timeout | undefined;
    let ok = false;
    try {
      if (!this.redis.isReady) throw new StorageUnavailableError('the token store is not connected');
      const value = await Promise.race([
        operation(),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new StorageUnavailableError(`the token store did not answer within ${this.timeout} ms`)), this.timeout);
        }),
      ]);
      ok = true;
      return value;
    } catch (error) {
      if (error instanceof StorageUnavailableError || error instanceof errors.OIDCProviderError) throw error;
      throw new StorageUnavailableError('the token store failed', { cause: error });
    } finally {
      clearTimeout(timer);
      observer?.recordStorage(name, (performance.now() - started) / 1000, ok);
    }
  }

  /** A write: awaited, or inside a batch, when `pipelined`, sent now and answered for by the batch. */
  write(name: string, pipelined: boolean, operation: () => Promise<void>): Promise<void> {
    const write = this.call(name, operation);
    const batch = this.#batches.getStore();
    if (!pipelined || !batch?.open) return write;
    write.catch(() => undefined);
    batch.writes.push(write);
    return Promise.resolve();
  }

  /** See {@link RedisStorage.batch}. */
  async batch<T>(work: () => Promise<T>): Promise<T> {
    if (this.#batches.getStore()?.open) return work();
    const batch: Batch = { writes: [], open: true };
    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: await this.#batches.run(batch, work) };
    } catch (error) {
      outcome = { error };
    }
    let failure: unknown;
    for (let i = 0; i < batch.writes.length; i += 1) {
      try {
        await batch.writes[i];
      } catch (error) {
        failure ??= error;
      }
    }
    batch.open = false;
    if ('error' in outcome) throw outcome.error;
    if (failure !== undefined) throw failure;
    return outcome.value;
  }
}
