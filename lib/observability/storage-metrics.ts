/**
 * A storage whose every call is timed and counted in the metrics (`storage_operation_duration_seconds`,
 * `storage_errors_total`), by operation: the Storage interface's methods and the adapters'.
 */
import type { RecordAdapter as Adapter } from '../storage.js';

import type { Storage } from '../storage.js';
import type { ServerMetrics } from './metrics.js';

/** What the wrapper records to: {@link ServerMetrics.recordStorage}. */
export interface StorageRecorder {
  recordStorage(operation: string, seconds: number, ok: boolean): void;
}

const ADAPTER_METHODS = ['upsert', 'find', 'findByUserCode', 'findByUid', 'consume', 'destroy', 'revokeByGrantId'] as const;

function timed<T>(recorder: StorageRecorder, operation: string, call: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const done = (ok: boolean) => recorder.recordStorage(operation, (performance.now() - started) / 1000, ok);
  let pending: Promise<T>;
  try {
    pending = call();
  } catch (error) {
    done(false);
    return Promise.reject(error);
  }
  return pending.then((value) => {
    done(true);
    return value;
  }, (error: unknown) => {
    done(false);
    throw error;
  });
}

function observedAdapter(adapter: Adapter, recorder: StorageRecorder): Adapter {
  const observed: Partial<Record<(typeof ADAPTER_METHODS)[number], unknown>> = {};
  for (const method of ADAPTER_METHODS) {
    if (typeof adapter[method] !== 'function') continue;
    // The adapter's method as it is at the call, not as it was when wrapped: a host may wrap it later.
    observed[method] = (...args: unknown[]) => timed(recorder, method, () => (adapter[method] as (...args: unknown[]) => Promise<unknown>).apply(adapter, args));
  }
  return observed as Adapter;
}

/**
 * `storage` with its calls timed into `recorder`. It forwards the Storage interface only: the
 * host keeps the storage it made to close it.
 */
export function observedStorage(storage: Storage, recorder: StorageRecorder): Storage {
  const adapters = new Map<string, Adapter>();
  const time = <T>(operation: string, call: () => Promise<T>) => timed(recorder, operation, call);
  const batch = storage.batch?.bind(storage);
  const revision = storage.recordRevision?.bind(storage);
  return {
    adapterFor: (model) => {
      let adapter = adapters.get(model);
      if (!adapter) {
        adapter = observedAdapter(storage.adapterFor(model), recorder);
        adapters.set(model, adapter);
      }
      return adapter;
    },
    removeClient: (clientId, options) => time('removeClient', () => storage.removeClient(clientId, options)),
    grantIdsOf: (accountId) => time('grantIdsOf', () => storage.grantIdsOf(accountId)),
    clientIdsOf: (organization) => time('clientIdsOf', () => storage.clientIdsOf(organization)),
    incrementCounter: (name, windowSeconds, amount) => time('incrementCounter', () => storage.incrementCounter(name, windowSeconds, amount)),
    readCounter: (name) => time('readCounter', () => storage.readCounter(name)),
    resetCounter: (name) => time('resetCounter', () => storage.resetCounter(name)),
    incrementCountersWithin: (counters) => time('incrementCountersWithin', () => storage.incrementCountersWithin(counters)),
    ...(batch ? { batch: <T>(work: () => Promise<T>) => time('batch', () => batch(work)) } : {}),
    // Answered from the storage's memory, without a call: nothing to time.
    ...(revision ? { recordRevision: revision } : {}),
  };
}

/**
 * Hands the metrics to a storage that times its own calls ({@link Storage.observe}: the Redis
 * storage, in its call wrapper) and reads its shared cache's health at each scrape (`pubsub_up`).
 * A storage without `observe` is not timed (the memory storage: its calls are the request's own
 * time); {@link observedStorage} times any storage, at the cost of a wrapper around every call.
 */
export function observeStorage(storage: Storage, metrics: StorageRecorder & Pick<ServerMetrics, 'enabled' | 'recordCacheLookup' | 'watchPubSub'>): void {
  if (!metrics.enabled) return;
  storage.observe?.(metrics);
  if ('caching' in storage) metrics.watchPubSub(() => storage.caching === true);
}
