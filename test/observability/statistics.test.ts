/**
 * The PSD2 statistics (EBA/GL/2018/07): scripted sequences of requests on a clock moved by hand —
 * successes, 5xx, stalls past 30 s, quiet periods, midnight, several instances sharing one
 * storage — and the daily figures, downtime seconds, JSON and CSV they give.
 */
import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import { createStatistics, servicesOf, StatisticsRangeError, type PsdStatistics, type Service } from '../../lib/observability/index.js';
import { daysOf, statisticsKeys } from '../../lib/observability/statistics-keys.js';
import { judgeSlot, type SeriesState } from '../../lib/observability/statistics-series.js';
import type { Storage } from '../../lib/storage.js';
import { withAdapters } from '../support/storage.js';
import { keepingLogger, manualClock } from './helpers.js';

const AIS: Service = 'account_information';
const T0 = '2026-03-02T10:00:00.000Z';
const DAY = '2026-03-02';

/** One instance's statistics on `storage`, driven by `clock`, flushed by hand. */
function instance(storage: Storage, clock: ReturnType<typeof manualClock>): PsdStatistics {
  return createStatistics({ storage, now: clock.now, timer: false });
}

/** Moves the clock to `at` plus the request's duration, and records the request ending then. */
function request(statistics: PsdStatistics, clock: ReturnType<typeof manualClock>, at: number, status: number | undefined, durationMs = 20, service: Service = AIS): void {
  clock.set(at + durationMs);
  statistics.record({ services: service, durationSeconds: durationMs / 1000, ...(status === undefined ? {} : { status }) });
}

/**
 * Flushes each instance, as their timers do within a flush period, then moves the clock past the
 * settling of every slot so far and flushes each again (twice: judged, then claimed by all).
 */
async function settle(clock: ReturnType<typeof manualClock>, ...instances: PsdStatistics[]): Promise<void> {
  for (const each of instances) await each.flush();
  clock.advance(instances[0]!.settleMs + 10_000);
  for (let round = 0; round < 2; round += 1) for (const each of instances) await each.flush();
}

async function today(statistics: PsdStatistics, service: Service = AIS, day = DAY) {
  const report = await statistics.report(day, day);
  return report.days.find((figures) => figures.service === service)!;
}

describe('observability: PSD2 statistics', () => {
  const at = (seconds: number) => Date.parse(T0) + seconds * 1000;

  describe('the downtime series of GL 2.4, slot by slot', () => {
    const run = (slots: [number, number][]) => {
      let state: SeriesState = {};
      const down: number[] = [];
      slots.forEach(([answered, failed], slot) => {
        const judged = judgeSlot(state, slot, { answered, failed });
        state = judged.state;
        down.push(...judged.down);
      });
      return down;
    };

    it('is down once five failures went 30 s without an answer, from the first one', () => {
      expect(run([[0, 2], [0, 2], [0, 1], [0, 0], [0, 0], [0, 0], [1, 0]])).to.deep.equal([0, 1, 2, 3, 4, 5]);
    });

    it('is not down when an answer comes within 30 s, however many failed', () => {
      expect(run([[0, 50], [0, 50], [0, 0], [0, 0], [0, 0], [3, 0], [0, 0]])).to.deep.equal([]);
    });

    it('is not down with four failures, however long', () => {
      expect(run([[0, 1], [0, 1], [0, 0], [0, 1], [0, 0], [0, 0], [0, 0], [0, 0], [0, 1], [0, 0], [0, 0]])).to.deep.equal([]);
    });

    it('starts nothing in a slot with answers and failures (their order unknown)', () => {
      expect(run([[1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9], [1, 9]])).to.deep.equal([]);
    });

    it('counts a quiet period as down only within 30 s after the last failing slot', () => {
      const slots: [number, number][] = [[0, 5], ...Array.from({ length: 20 }, (): [number, number] => [0, 0]), [0, 1], [0, 0], [1, 0]];
      expect(run(slots)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 21, 22]);
    });
  });

  describe('one instance, scripted', () => {
    let clock: ReturnType<typeof manualClock>;
    let storage: MemoryStorage;
    let statistics: PsdStatistics;
    beforeEach(() => {
      clock = manualClock(T0);
      storage = new MemoryStorage({ now: clock.ms });
      statistics = instance(storage, clock);
    });
    afterEach(() => statistics.close());

    it('counts successes, their mean and p95, with no downtime', async () => {
      for (let i = 0; i < 100; i += 1) request(statistics, clock, at(i), 200, i < 95 ? 40 : 900);
      const figures = await today(statistics);
      expect(figures).to.include({ date: DAY, service: AIS, requests: 100, answered: 100, failed: 0, errorRate: 0, downtimeSeconds: 0, uptimePercent: 100 });
      expect(figures.meanResponseMs).to.equal((95 * 40 + 5 * 900) / 100);
      expect(figures.p95ResponseMs).to.equal(50);
      const other = await today(statistics, 'payment_initiation');
      expect(other).to.include({ requests: 0, failed: 0, errorRate: null, meanResponseMs: null, p95ResponseMs: null, downtimeSeconds: 0 });
    });

    it("counts a TPP's 4xx as answered and the bank's 5xx and failures as failed", async () => {
      request(statistics, clock, at(0), 400);
      request(statistics, clock, at(1), 401);
      request(statistics, clock, at(2), 500);
      request(statistics, clock, at(3), 503);
      clock.set(at(4));
      statistics.record({ services: AIS, status: 401, durationSeconds: 0.01, cause: 'responder' });
      const figures = await today(statistics);
      expect(figures).to.include({ requests: 5, failed: 3, answered: 2, errorRate: 0.6, downtimeSeconds: 0 });
    });

    it('finds a minute of 503s down from the first one until the next answer', async () => {
      for (let second = 0; second <= 60; second += 2) request(statistics, clock, at(second), 503, 10);
      request(statistics, clock, at(62), 200, 10);
      await settle(clock, statistics);
      const figures = await today(statistics);
      expect(figures).to.include({ requests: 32, failed: 31, downtimeSeconds: 60 });
      expect(figures.periodSeconds).to.equal(10 * 3600 + Math.floor((clock.ms() - at(0)) / 1000));
      expect(figures.uptimePercent).to.equal(Math.round((100 - (100 * 60) / figures.periodSeconds) * 1000) / 1000);
    });

    it('does not count a burst of 503s answered again within 30 s as downtime', async () => {
      for (let i = 0; i < 8; i += 1) request(statistics, clock, at(i / 10), 503, 5);
      request(statistics, clock, at(12), 200);
      await settle(clock, statistics);
      expect(await today(statistics)).to.include({ failed: 8, downtimeSeconds: 0 });
    });

    it('counts requests answered after more than 30 s as failed, and five of them as down', async () => {
      for (let i = 0; i < 5; i += 1) request(statistics, clock, at(i), 200, 35_000);
      request(statistics, clock, at(40), 200, 30);
      await settle(clock, statistics);
      const figures = await today(statistics);
      expect(figures).to.include({ requests: 6, failed: 5, answered: 1, p95ResponseMs: 60_000 });
      // Slots of the stalled requests' arrival, then 30 s after the last: 35 s, ended by the answer at 40 s.
      expect(figures.downtimeSeconds).to.equal(35);
    });

    it('counts requests still unanswered after 30 s as not answered, before they end', async () => {
      const tracked = Array.from({ length: 5 }, (_, i) => {
        clock.set(at(i));
        return statistics.begin([AIS]);
      });
      clock.set(at(31));
      await statistics.flush();
      await settle(clock, statistics);
      expect((await today(statistics)).downtimeSeconds).to.be.at.least(30);
      for (const each of tracked) each.end({ status: 503 });
      const figures = await today(statistics);
      expect(figures).to.include({ requests: 5, failed: 5 });
    });

    it('counts a request by the services noted on it before it ends', async () => {
      clock.set(at(0));
      const tracked = statistics.begin();
      tracked.services = servicesOf({ roles: ['PSP_AI', 'PSP_PI'] });
      clock.set(at(1));
      tracked.end({ status: 200 });
      tracked.end({ status: 500 });
      expect(await today(statistics)).to.include({ requests: 1, failed: 0 });
      expect(await today(statistics, 'payment_initiation')).to.include({ requests: 1 });
      expect(await today(statistics, 'funds_confirmation')).to.include({ requests: 0 });
    });

    it('does not count a quiet night after an outage as downtime', async () => {
      request(statistics, clock, at(0), 503, 5);
      await statistics.flush();
      for (let second = 1; second < 40; second += 1) request(statistics, clock, at(second), 503, 5);
      clock.set(at(3600));
      await statistics.flush();
      request(statistics, clock, at(3 * 3600), 200);
      await settle(clock, statistics);
      // 40 s of failures (slots 0 to 7), and 30 s after the last failing slot.
      expect((await today(statistics)).downtimeSeconds).to.equal(70);
    });

    it('splits downtime across midnight, UTC', async () => {
      const midnight = Date.parse('2026-03-03T00:00:00Z');
      clock.set(midnight - 20_000);
      const late = instance(storage, clock);
      for (let second = -20; second < 30; second += 1) request(late, clock, midnight + second * 1000, 502, 5);
      request(late, clock, midnight + 30_000, 200);
      await settle(clock, late);
      const report = await late.report('2026-03-02', '2026-03-03');
      const [before, after] = report.days.filter((figures) => figures.service === AIS);
      expect(before).to.include({ date: '2026-03-02', requests: 20, failed: 20, downtimeSeconds: 20, periodSeconds: 86_400 });
      expect(after).to.include({ date: '2026-03-03', requests: 31, failed: 30, downtimeSeconds: 30 });
      await late.close();
    });

    it('exports JSON and CSV for a day range', async () => {
      request(statistics, clock, at(0), 200, 120);
      request(statistics, clock, at(1), 500, 80);
      const report = await statistics.report('2026-03-01', DAY);
      expect(report).to.include({ from: '2026-03-01', to: DAY });
      expect(report.resolution.downtimeSeconds).to.equal(5);
      expect(report.days.map((figures) => `${figures.date} ${figures.service}`)).to.deep.equal([
        '2026-03-01 account_information', '2026-03-01 payment_initiation', '2026-03-01 funds_confirmation',
        '2026-03-02 account_information', '2026-03-02 payment_initiation', '2026-03-02 funds_confirmation',
      ]);
      expect(JSON.parse(JSON.stringify(report))).to.deep.equal(report);
      const csv = await statistics.csv('2026-03-01', DAY);
      const lines = csv.split('\r\n');
      expect(lines[0]).to.equal('date,service,requests,answered,failed,error_rate,mean_response_ms,p95_response_ms,downtime_seconds,period_seconds,uptime_percent');
      expect(lines[1]).to.equal('2026-03-01,account_information,0,0,0,,,,0,86400,100');
      expect(lines[4]).to.match(/^2026-03-02,account_information,2,1,1,0\.5,100,150,0,\d+,100$/);
      expect(lines).to.have.length(8);
      expect(lines[7]).to.equal('');
    });

    it('refuses ranges it cannot give, saying why', async () => {
      const refused = async (from: unknown, to: unknown) => {
        try {
          await statistics.report(from, to);
        } catch (error) {
          expect(error).to.be.instanceOf(StatisticsRangeError);
          return (error as Error).message;
        }
        throw new Error('not refused');
      };
      expect(await refused('2026-3-1', DAY)).to.equal('from must be a day as YYYY-MM-DD');
      expect(await refused(DAY, undefined)).to.equal('to must be a day as YYYY-MM-DD');
      expect(await refused('2026-02-30', DAY)).to.equal('from is not a day of the calendar: 2026-02-30');
      expect(await refused(DAY, '2026-03-01')).to.equal('to must not be before from');
      expect(await refused(DAY, '2026-03-03')).to.equal('to must not be after today (2026-03-02, UTC)');
      expect(await refused('2025-03-01', DAY)).to.equal('at most 366 days at once, not 367');
      expect(daysOf('2025-03-02', DAY, DAY)).to.have.length(366);
    });
  });

  describe('several instances sharing one storage', () => {
    let clock: ReturnType<typeof manualClock>;
    let storage: MemoryStorage;
    let a: PsdStatistics;
    let b: PsdStatistics;
    beforeEach(() => {
      clock = manualClock(T0);
      storage = new MemoryStorage({ now: clock.ms });
      a = instance(storage, clock);
      b = instance(storage, clock);
    });
    afterEach(async () => {
      await a.close();
      await b.close();
    });

    it('adds up their figures', async () => {
      request(a, clock, at(0), 200);
      request(b, clock, at(1), 200);
      request(b, clock, at(2), 503);
      await a.flush();
      const figures = await today(b);
      expect(figures).to.include({ requests: 3, failed: 1 });
    });

    it('counts downtime both saw once', async () => {
      for (let second = 0; second < 40; second += 1) request(second % 2 ? a : b, clock, at(second), 503, 5);
      request(a, clock, at(40), 200);
      await settle(clock, a, b);
      expect((await today(a)).downtimeSeconds).to.equal(40);
      expect(await storage.readCounter(statisticsKeys.slot(Math.floor(at(0) / 5000), AIS, 'down'))).to.equal(2);
    });

    it('finds no downtime while another instance answers', async () => {
      for (let second = 0; second < 60; second += 1) {
        request(a, clock, at(second), 503, 5);
        if (second % 4 === 0) request(b, clock, at(second) + 500, 200, 5);
      }
      await settle(clock, a, b);
      expect(await today(a)).to.include({ failed: 60, downtimeSeconds: 0 });
    });

    it('keeps counts the storage refuses, logs once each way, and adds them when it takes them again', async () => {
      const logger = keepingLogger();
      let refusing = true;
      const flaky: Storage = {
        ...withAdapters(storage, (_model, adapter) => adapter),
        incrementCounter: (name, window, amount) => (refusing ? Promise.reject(new Error('the token store is not connected')) : storage.incrementCounter(name, window, amount)),
      };
      const c = createStatistics({ storage: flaky, now: clock.now, timer: false, logger });
      request(c, clock, at(0), 200);
      await c.flush();
      await c.flush();
      expect(await storage.readCounter(statisticsKeys.day(DAY, AIS, 'requests'))).to.equal(0);
      refusing = false;
      await c.flush();
      expect(await storage.readCounter(statisticsKeys.day(DAY, AIS, 'requests'))).to.equal(1);
      expect(logger.lines.map((line) => `${line.level} ${String(line.fields.event)}`)).to.deep.equal(['warn statistics.not_stored', 'info statistics.stored']);
      await c.close();
    });
  });

  it('makes the current day visible within the flush period, on its own timer', async function visible() {
    this.timeout(10_000);
    const storage = new MemoryStorage();
    const statistics = createStatistics({ storage, flushEvery: 1000 });
    statistics.record({ services: AIS, status: 200, durationSeconds: 0.01 });
    const key = statisticsKeys.day(new Date().toISOString().slice(0, 10), AIS, 'requests');
    const deadline = Date.now() + 3000;
    while ((await storage.readCounter(key)) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await storage.readCounter(key)).to.equal(1);
    await statistics.close();
    expect(() => createStatistics({ storage, flushEvery: 31_000 })).to.throw(RangeError, /flushEvery/);
  });

  it('tells the services of a request by its scope, else the roles of its certificate', () => {
    expect(servicesOf({ scope: 'aisp extended_transaction_history' })).to.deep.equal(['account_information']);
    expect(servicesOf({ scope: 'pisp', roles: ['PSP_AI'] })).to.deep.equal(['payment_initiation']);
    expect(servicesOf({ roles: ['PSP_IC', 'PSP_AI', 'PSP_AS'] })).to.deep.equal(['account_information', 'funds_confirmation']);
    expect(servicesOf({ scope: 'openid', roles: [] })).to.deep.equal([]);
  });
});
