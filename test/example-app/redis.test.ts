/**
 * The example app's Redis connections (example-app/redis.ts) on real Redis: losing it and getting
 * it back logged once each way, readiness following; and a Redis Cluster master failover costing
 * what the cluster takes to promote the replica, not node-redis' default 5 s topology refresh.
 */
import { randomBytes } from 'node:crypto';

import { expect } from 'chai';

import { connectRedis, TOPOLOGY_REFRESH_MS, type ExampleRedis } from '../../example-app/redis.js';
import { createHealth, type Health, type HealthReport } from '../../lib/observability/index.js';
import { keepingLogger } from '../observability/helpers.js';
import { startRedis, until, type TestRedis } from '../support/redis.js';
import { startReplicatedCluster, type ReplicatedCluster } from './cluster.js';

/** Waits until readiness reports `status`. */
const readiness = (health: Health, status: HealthReport['status']) => until(`readiness ${status}`, async () => (await health.ready()).status === status, 10_000);

/** The connectivity lines of a keeping logger, as `level event`. */
const connectivityOf = (logger: ReturnType<typeof keepingLogger>) => logger.lines
  .filter((line) => String(line.fields.event).startsWith('storage.connection'))
  .map((line) => `${line.level} ${String(line.fields.event)}`);

describe('the example app\'s Redis connections', function redis() {
  this.timeout(60_000);

  describe('a single server', () => {
    let server: TestRedis;
    let connected: ExampleRedis | undefined;

    before(async function start() {
      server = await startRedis();
      if (!server.processes.length) this.skip();
    });
    after(async () => {
      await connected?.close();
      await server?.close();
    });

    it('logs the connection lost once and back once, readiness following, however many reconnection attempts fail', async () => {
      const logger = keepingLogger();
      connected = await connectRedis(server.processes[0]!.url, server.keyPrefix, logger);
      const health = createHealth({ storage: connected.storage });
      expect((await health.ready()).status).to.equal('ok');

      await server.processes[0]!.stop();
      try {
        await readiness(health, 'unavailable');
        // Reconnection attempts go on (100 ms, doubling): each fails, none is logged again.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(connectivityOf(logger)).to.deep.equal(['error storage.connection_lost']);
        const lost = logger.lines.find((line) => line.fields.event === 'storage.connection_lost')!;
        expect(lost.fields.err, 'the error itself, for the log to write its type, message and causes').to.be.instanceOf(Error);
        expect(String(lost.fields.connection)).to.match(/^(client|subscriber)$/);
      } finally {
        await server.processes[0]!.start();
      }
      await readiness(health, 'ok');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(connectivityOf(logger)).to.deep.equal(['error storage.connection_lost', 'warn storage.connection_back']);
      const back = logger.lines.find((line) => line.fields.event === 'storage.connection_back')!;
      expect(back.fields.downMs).to.be.a('number').and.at.least(1000);
    });
  });

  describe('a Redis Cluster whose master fails over', () => {
    let cluster: ReplicatedCluster;
    let connected: ExampleRedis | undefined;

    before(async () => {
      cluster = await startReplicatedCluster();
    });
    after(async () => {
      await connected?.close();
      await cluster?.close();
    });

    it('serves again within a topology refresh of the replica\'s promotion, and logs it once each way', async () => {
      const logger = keepingLogger();
      connected = await connectRedis(cluster.urls.join(','), `failover-${randomBytes(4).toString('hex')}:`, logger);
      const sessions = connected.storage.adapterFor('Session');
      // Writes of 24 records: on every master but with odds of 1 in 15000.
      const ids = Array.from({ length: 24 }, () => randomBytes(8).toString('hex'));
      const probe = async () => (await Promise.allSettled(ids.map((id) => sessions.upsert(id, { accountId: 'psu' }, 60)))).every((result) => result.status === 'fulfilled');
      expect(await probe(), 'the cluster serves before the failover').to.equal(true);

      const killed = Date.now();
      const promotion = cluster.promoted();
      await cluster.master.stop();
      let failed: number | undefined;
      let servedSince: number | undefined;
      while (servedSince === undefined || Date.now() - servedSince < 1000) {
        const started = Date.now();
        if (await probe()) {
          if (failed !== undefined) servedSince ??= started;
        } else {
          failed ??= started;
          servedSince = undefined;
        }
        expect(Date.now() - killed, 'serving again').to.be.below(30_000);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const promoted = await promotion;
      const lag = servedSince - promoted;
      console.log(`      failover: replica promoted ${promoted - killed} ms after the master stopped; writes served again ${servedSince - killed} ms after (${lag} ms after the promotion)`);
      expect(failed, 'writes to the stopped master fail until the promotion').to.be.a('number');
      // node-redis' default would refresh the slot map 5 s after the first failed attempt at best.
      expect(lag, 'ms from the promotion to writes served').to.be.below(TOPOLOGY_REFRESH_MS + 1000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(connectivityOf(logger)).to.deep.equal(['error storage.connection_lost', 'warn storage.connection_back']);
      const lost = logger.lines.find((line) => line.fields.event === 'storage.connection_lost')!;
      expect(String(lost.fields.connection), 'the node lost, by whichever connection noticed first').to.match(new RegExp(`^(client|subscriber) node 127\\.0\\.0\\.1:${cluster.master.port}$`));
    });
  });
});
