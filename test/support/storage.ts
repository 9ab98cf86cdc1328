/** Test storages that change what one part of a real storage does and pass the rest through. */
import type { Adapter } from 'oidc-provider';

import type { Storage } from '../../lib/storage.js';

/** `storage` with each model's adapter replaced by `wrap(model, adapter)`; everything else as is. */
export function withAdapters(storage: Storage, wrap: (model: string, adapter: Adapter) => Adapter): Storage {
  return {
    adapterFor: (model) => wrap(model, storage.adapterFor(model)),
    removeClient: (clientId, options) => storage.removeClient(clientId, options),
    grantIdsOf: (accountId) => storage.grantIdsOf(accountId),
    clientIdsOf: (organization) => storage.clientIdsOf(organization),
    incrementCounter: (name, windowSeconds, amount) => storage.incrementCounter(name, windowSeconds, amount),
    readCounter: (name) => storage.readCounter(name),
    resetCounter: (name) => storage.resetCounter(name),
    incrementCountersWithin: (counters) => storage.incrementCountersWithin(counters),
    ...(storage.batch ? { batch: <T>(work: () => Promise<T>) => storage.batch!(work) } : {}),
  };
}
