/**
 * RedisStorage enforces its own `timeout` on every call (its timer is cleared on the answer) and
 * turns node-redis's per-command timer off for its own commands.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';
import { createClient } from 'redis';

import { RedisStorage } from '../../adapters/redis/storage.js';
import { StorageUnavailableError } from '../../lib/errors.js';
import { freePort, RedisProcess } from '../support/redis.js';

describe('RedisStorage timeout', function () {
  this.timeout(20_000);
  let dir: string;
  let redisProcess: RedisProcess;
  let client: ReturnType<typeof createClient>;
  let sleeper: ReturnType<typeof createClient>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redis-timeout-'));
    redisProcess = new RedisProcess(await freePort(), dir, ['--enable-debug-command', 'local']);
    await redisProcess.start();
    // The host app's client gives up on any command after 100 ms.
    client = createClient({ url: redisProcess.url, commandOptions: { timeout: 100 } });
    client.on('error', () => { /* reported by the storage */ });
    await client.connect();
    sleeper = createClient({ url: redisProcess.url });
    sleeper.on('error', () => { /* only sleeps */ });
    await sleeper.connect();
  });
  after(async () => {
    client?.destroy();
    sleeper?.destroy();
    await redisProcess?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends its commands with node-redis\'s per-command timer off, and still answers', async () => {
    // node-redis arms an AbortSignal.timeout() for every command; the timer outlives the answer and
    // holds the request's state until it fires. The storage has its own timer, cleared on answer.
    const asked: unknown[] = [];
    const observed = new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'withCommandOptions') {
          return (options: unknown) => {
            asked.push(options);
            return target.withCommandOptions(options as { timeout: number });
          };
        }
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const storage = new RedisStorage(observed, { keyPrefix: 'ct:', timeout: 3000 });
    expect(asked).to.deep.equal([{ timeout: 0 }]);
    await storage.incrementCounter('slow', 60);
    const sleeping = sleeper.sendCommand(['DEBUG', 'SLEEP', '0.4']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedAt = Date.now();
    expect(await storage.readCounter('slow')).to.equal(1);
    expect(Date.now() - startedAt, 'answered once Redis woke up').to.be.above(200);
    await sleeping;
  });

  it('still gives up after its own timeout', async () => {
    const storage = new RedisStorage(client, { keyPrefix: 'ct:', timeout: 300 });
    const sleeping = sleeper.sendCommand(['DEBUG', 'SLEEP', '1']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const startedAt = Date.now();
    const error = await storage.readCounter('slow').then(() => undefined, (caught: unknown) => caught);
    expect(error).to.be.instanceOf(StorageUnavailableError);
    expect(Date.now() - startedAt).to.be.below(900);
    await sleeping;
  });
});
