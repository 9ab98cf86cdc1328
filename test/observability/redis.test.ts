/**
 * Observability on a real Redis (spawned, or REDIS_URL): readiness flips when Redis is stopped or
 * hangs and comes back when Redis does, logging once each way; and the PSD2 statistics of two
 * instances add up in Redis, with downtime counted once.
 */
import { expect } from 'chai';
import { createClient } from 'redis';

import { RedisStorage } from '../../adapters/redis/storage.js';
import { createHealth, createMetrics, createStatistics, type HealthReport } from '../../lib/observability/index.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { keepingLogger, manualClock, sample } from './helpers.js';

/** Calls `ready()` until it reports `status`, for at most `ms`. */
async function until(ready: () => Promise<HealthReport>, status: HealthReport['status'], ms = 10_000): Promise<HealthReport> {
  const deadline = Date.now() + ms;
  for (;;) {
    const report = await ready();
    if (report.status === status || Date.now() > deadline) return report;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('observability: on Redis', function onRedis() {
  this.timeout(30_000);
  let redis: TestRedis;
  let storage: RedisStorage;

  before(async function start() {
    redis = await startRedis();
    storage = new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, timeout: 10_000 });
  });
  after(async () => {
    await storage?.close();
    await redis?.close();
  });

  it('is not ready while Redis is stopped, and ready again once it is back; live meanwhile', async function stopped() {
    if (!redis.processes.length) this.skip();
    const logger = keepingLogger();
    const metrics = createMetrics();
    const health = createHealth({ storage, metrics, logger });
    expect((await health.ready()).status).to.equal('ok');

    await redis.processes[0]!.stop();
    try {
      const down = await until(() => health.ready(), 'unavailable');
      expect(down).to.include({ status: 'unavailable', httpStatus: 503 });
      // At once when the client knows it lost Redis, after the timeout while it does not yet.
      expect(down.checks.storage!.detail).to.match(/^(failed \(StorageUnavailableError\)|no answer within 2000 ms)$/);
      expect(health.live()).to.include({ status: 'ok', httpStatus: 200 });
      expect(sample((await metrics.scrape()).body, 'psd2_as_storage_up')).to.equal(0);
      expect((await health.ready()).checks.storage).to.include({ status: 'unavailable', detail: 'failed (StorageUnavailableError)' });
    } finally {
      await redis.processes[0]!.start();
    }
    expect((await until(() => health.ready(), 'ok')).status).to.equal('ok');
    expect(sample((await metrics.scrape()).body, 'psd2_as_storage_up')).to.equal(1);
    expect(logger.lines.map((line) => `${line.level} ${String(line.fields.status)}`)).to.deep.equal(['error unavailable', 'info ok']);
  });

  it('is not ready while Redis hangs, after its timeout, and ready again after', async function hung() {
    if (!redis.processes.length) this.skip();
    const health = createHealth({ storage, timeoutMs: 300 });
    expect((await until(() => health.ready(), 'ok')).status).to.equal('ok');
    const pauser = createClient({ url: redis.processes[0]!.url });
    await pauser.connect();
    try {
      await pauser.sendCommand(['CLIENT', 'PAUSE', '2500', 'ALL']);
      const started = Date.now();
      const hung = await health.ready();
      expect(Date.now() - started).to.be.within(250, 2000);
      expect(hung.checks.storage).to.include({ status: 'unavailable', detail: 'no answer within 300 ms' });
      expect((await until(() => health.ready(), 'ok')).status).to.equal('ok');
    } finally {
      pauser.destroy();
    }
  });

  it('adds up two instances in Redis and counts the downtime both saw once', async () => {
    const clock = manualClock('2026-04-07T08:00:00.000Z');
    const at = (seconds: number) => Date.parse('2026-04-07T08:00:00.000Z') + seconds * 1000;
    const a = createStatistics({ storage, now: clock.now, timer: false });
    const b = createStatistics({ storage, now: clock.now, timer: false });
    for (let second = 0; second < 45; second += 1) {
      clock.set(at(second) + 5);
      (second % 2 ? a : b).record({ services: 'payment_initiation', status: 503, durationSeconds: 0.005 });
    }
    clock.set(at(45) + 5);
    a.record({ services: 'payment_initiation', status: 201, durationSeconds: 0.005 });
    await a.flush();
    await b.flush();
    clock.advance(a.settleMs + 10_000);
    for (let round = 0; round < 2; round += 1) {
      await a.flush();
      await b.flush();
    }
    const report = await b.report('2026-04-07', '2026-04-07');
    const figures = report.days.find((day) => day.service === 'payment_initiation')!;
    expect(figures).to.include({ requests: 46, failed: 45, answered: 1, downtimeSeconds: 45, p95ResponseMs: 25 });
    await a.close();
    await b.close();
  });
});
