/**
 * What a suite's tests share, made once before the first of them and released after the last:
 * each helper registers the mocha hooks where it is called (inside a `describe`) and returns the
 * object the tests use, which takes its properties when the `before` hook has made them.
 *
 *     describe('…', () => {
 *       const server = suiteServer({ options: { … } });
 *       it('…', async () => { await server.request(tpp).get('/oauth2/…'); });
 *     });
 */
import { startServer, type StartOptions, type TestServer } from './server.js';

/**
 * Makes the suite's shared `T` in a `before` hook (and releases it in an `after` hook); `T` must be
 * a plain object whose members do not depend on `this` (closures and data), as they are copied.
 */
export function beforeSuite<T extends object>(make: () => Promise<T>, release?: (made: T) => Promise<unknown> | unknown): T {
  const shared = {} as T;
  let made = false;
  before(async () => {
    Object.assign(shared, await make());
    made = true;
  });
  if (release) {
    after(async () => {
      if (made) await release(shared);
    });
  }
  return shared;
}

/** A test server for the suite, started with `start` (or what it resolves to) and closed after it. */
export function suiteServer(start: StartOptions | (() => Promise<StartOptions>) = {}): TestServer {
  return beforeSuite(async () => startServer(typeof start === 'function' ? await start() : start), (server) => server.close());
}
