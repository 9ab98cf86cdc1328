/**
 * What a suite's tests share, made once before the first of them and released after the last:
 * each helper registers the mocha hooks where it is called (inside a `describe`) and returns the
 * object the tests use, which stands for what the `before` hook made.
 *
 *     describe('…', () => {
 *       const server = suiteServer({ options: { … } });
 *       it('…', async () => { await server.request(tpp).get('/oauth2/…'); });
 *     });
 */
import type { Clock } from '../../lib/clock.js';
import { startServer, type StartOptions, type TestServer } from './server.js';

/**
 * Makes the suite's shared `T` in a `before` hook (and releases it in an `after` hook). The object
 * returned forwards every use to it, its methods called on it, from the suite's first test on.
 */
export function beforeSuite<T extends object>(make: () => Promise<T>, release?: (made: T) => Promise<unknown> | unknown): T {
  let made: T | undefined;
  before(async () => {
    made = await make();
  });
  if (release) {
    after(async () => {
      if (made) await release(made);
    });
  }
  const current = (): T => {
    if (!made) throw new Error('used before the suite made it: only tests and later hooks may use it');
    return made;
  };
  return new Proxy({} as T, {
    get: (_, key) => {
      const target = current();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set: (_, key, value) => Reflect.set(current(), key, value),
    has: (_, key) => Reflect.has(current(), key),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(current(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/** A test server for the suite, started with `start` (or what it resolves to) and closed after it. */
export function suiteServer(start: StartOptions | (() => Promise<StartOptions>) = {}): TestServer {
  return beforeSuite(async () => startServer(typeof start === 'function' ? await start() : start), (server) => server.close());
}

/** Empties `server.logs` before each of the suite's tests, so that each reads only what it caused. */
export function logsPerTest(server: TestServer): void {
  beforeEach(() => {
    server.logs.length = 0;
  });
}

/** A clock for a suite's servers (their `now` option): the machine's, moved by `offset` milliseconds. */
export interface TestClock {
  readonly now: Clock;
  /** Milliseconds the clock is ahead of the machine's; back to 0 after each test. */
  offset: number;
}

/** The suite's {@link TestClock}, set back after each test. */
export function suiteClock(): TestClock {
  const clock: TestClock = { now: () => new Date(Date.now() + clock.offset), offset: 0 };
  afterEach(() => {
    clock.offset = 0;
  });
  return clock;
}
