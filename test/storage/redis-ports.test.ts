/**
 * The tests' own redis-servers, started on ports found free: a port taken before the server binds
 * it (by another process, or by a cluster node's bus port) must not fail a test run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';
import { createClient } from 'redis';

import { freePort, RedisProcess, startOnFreePort } from '../support/redis.js';

describe('test harness: redis-servers on free ports', () => {
  let dir: string;
  let taken: Server;
  let takenPort: number;
  const started: RedisProcess[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redis-ports-'));
    taken = createServer();
    takenPort = await freePort();
    await new Promise<void>((resolve) => taken.listen(takenPort, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.stop()));
    await new Promise((resolve) => taken.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the server again on another port when its port was taken meanwhile', async () => {
    const offered: number[] = [];
    // The first port offered is replaced by one another process holds, as a race would leave it.
    const server = await startOnFreePort((port) => {
      offered.push(port);
      return new RedisProcess(offered.length === 1 ? takenPort : port, dir);
    });
    started.push(server);
    expect(offered).to.have.length(2);
    expect(server.port).to.equal(offered[1]).and.not.equal(takenPort);
    const client = createClient({ url: server.url });
    await client.connect();
    try {
      expect(await client.ping()).to.equal('PONG');
    } finally {
      client.destroy();
    }
  });

  it('gives up with the server\'s own words when every port offered is taken', async () => {
    const error = await startOnFreePort(() => new RedisProcess(takenPort, dir)).then(() => undefined, (failure: unknown) => failure);
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).message).to.match(/Address already in use/);
  });

  it('keeps a cluster node off the ports and bus ports of the nodes started already, and off ports without a bus port', async () => {
    const first = await startOnFreePort((port) => new RedisProcess(port, dir));
    started.push(first);
    const free = await freePort();
    // Offered the node's own port, its bus port, a port whose bus port is the node's, one too high for a bus port, then a free one.
    const offers = [first.port, first.port + 10_000, first.port - 10_000, 60_001, free];
    const made: number[] = [];
    const second = await startOnFreePort((port) => {
      made.push(port);
      return new RedisProcess(port, dir);
    }, { cluster: { taken: [first.port] }, nextPort: async () => offers.shift()! });
    started.push(second);
    expect(made).to.deep.equal([free]);
    expect(second.port).to.equal(free);
  });

  it('gives up on a cluster node when no port offered will do', async () => {
    const error = await startOnFreePort((port) => new RedisProcess(port, dir), { cluster: { taken: [] }, nextPort: async () => 60_001 })
      .then(() => undefined, (failure: unknown) => failure);
    expect((error as Error).message).to.equal('found no free port for a Redis Cluster node');
  });
});
