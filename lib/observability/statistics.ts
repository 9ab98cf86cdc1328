/**
 * The PSD2 availability and performance statistics of EBA/GL/2018/07 (RTS Art. 32(4)): per UTC
 * day and per service (account information, payment initiation, funds confirmation), the requests
 * received, those failed for reasons attributable to the bank, the mean and 95th percentile
 * response time, and the downtime and uptime, where the interface is down when five consecutive
 * requests are not answered within a total of 30 seconds (GL 2.4, statistics-series.ts).
 *
 * They are the authorization server's share of what the bank publishes: the bank adds its
 * resource server's figures (its own requests, per service) to these, day by day.
 *
 * Kept in the storage's counters, so that every instance sharing it adds up:
 * - each instance counts in memory and adds its counts to the storage at least every
 *   `flushEvery` (≤ 30 s), and on {@link PsdStatistics.close}: the current day's requests,
 *   failures and response times are visible within that delay;
 * - response times go to fixed buckets (statistics-keys.ts), from which the p95 is derived;
 * - the downtime is judged from per-slot (5 s) counts of every instance, once no instance can
 *   still add to the slot (30 s for a request to count as not answered, a flush period, 5 s of
 *   margin for the instances' clocks): it is visible about a minute after it begins. Every
 *   instance judges; each slot found down is claimed by a counter whose first increment alone adds
 *   its seconds to the day, so the downtime is counted once however many instances judge.
 *
 * Limits, honestly: the server does not see its own absence (no instance running, or traffic not
 * reaching it): the bank's monitoring in front of it measures that. Counts are added at least
 * once: a storage call that timed out but was applied is added again with the next flush (and a
 * down slot whose claim timed out so may be counted by nobody). A request answered more than
 * `settleMs` (45 s by default) after it arrived counts in the day's figures but comes too late for
 * the downtime series; track long requests with {@link PsdStatistics.begin}, which counts
 * them as not answered after 30 s. Instances' clocks are assumed within a few seconds (NTP).
 */
import { systemClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Storage } from '../storage.js';
import { errorForLog } from './errors-for-log.js';
import {
  DAY_WINDOW_SECONDS, LATENCY_BOUNDS_MS, SERIES_SECONDS, SERVICES, SLOT_SECONDS, SLOT_WINDOW_SECONDS, bucketOf, dayCounterNames, dayOf,
  dayOfSlot, daysOf, isSharedServiceList, slotCounterNames, slotOf, statisticsKeys, type Service,
} from './statistics-keys.js';
import { eachLimited, readFigures, toCsv, type StatisticsReport } from './statistics-report.js';
import { judgeSlot, type SeriesState } from './statistics-series.js';

export interface StatisticsOptions {
  readonly storage: Storage;
  /** The server's clock (the `now` option). Default the machine's. */
  readonly now?: Clock;
  /** Milliseconds between two flushes to the storage, 1000 to 30000. Default 10000. */
  readonly flushEvery?: number;
  /** Whether a timer flushes every `flushEvery`; without it, the host calls `flush()`. Default true. */
  readonly timer?: boolean;
  /** Told once when the storage refuses the counts (kept for the next flush) and once when it takes them again. */
  readonly logger?: Logger;
}

/** A request's outcome, as far as the statistics go. */
export interface RequestOutcome {
  /** The services it was for ({@link servicesOf}); none: not counted. */
  readonly services: Service | readonly Service[];
  /** The HTTP status answered; none when the request got no answer. */
  readonly status?: number;
  /**
   * A failure attributable to the bank whatever the status: the storage or a certificate status
   * responder failing, a timeout. A 5xx is one without saying so.
   */
  readonly cause?: 'storage' | 'responder' | 'timeout';
}

/** A request still being answered, from {@link PsdStatistics.begin}. */
export interface TrackedRequest {
  /** The services it is for, once known (e.g. from the certificate's roles). */
  services: readonly Service[];
  /** Counts the request with its outcome; the services given here replace those known so far. */
  end(outcome: Omit<RequestOutcome, 'services'> & { readonly services?: RequestOutcome['services'] }): void;
}

interface Tracked {
  readonly arrival: number;
  readonly services: readonly Service[];
  /** Counted as not answered in its slot, after 30 s. */
  readonly stalled: boolean;
}

type Outcome = Parameters<TrackedRequest['end']>[0];

/**
 * A request from {@link PsdStatistics.begin}: one object per request, its methods shared. The
 * requests not yet ended are linked in their order of arrival, each to its neighbours: a Set
 * would hash each new object as it is added.
 */
class OpenRequest implements Tracked, TrackedRequest {
  readonly arrival: number;
  stalled = false;
  /** Whether it is in the list of requests not yet ended. */
  open = true;
  previous: OpenRequest | undefined = undefined;
  next: OpenRequest | undefined = undefined;
  #services: readonly Service[];
  readonly #ended: (request: OpenRequest, outcome: Outcome) => void;

  constructor(arrival: number, services: readonly Service[], ended: (request: OpenRequest, outcome: Outcome) => void) {
    this.arrival = arrival;
    this.#services = services;
    this.#ended = ended;
  }

  get services(): readonly Service[] {
    return this.#services;
  }

  set services(value: Service | readonly Service[]) {
    this.#services = asList(value);
  }

  end(outcome: Outcome): void {
    this.#ended(this, outcome);
  }
}

const MARGIN_MS = 5000;
/** Slots judged again at start, to find a series already under way. */
const LOOKBACK_SLOTS = 60;
/** Slots judged in one flush at most (an hour), to bound the work after a long pause. */
const SLOTS_PER_FLUSH = 720;
/** Counts kept in memory at most while the storage refuses them (slot counts are dropped past it). */
const MAX_PENDING = 100_000;

const NONE: readonly Service[] = Object.freeze([]);
const isService = (service: unknown): boolean => (SERVICES as readonly unknown[]).includes(service);

/** The services counted of `services`: a copy, unless one of the read-only lists of {@link servicesOf}. */
function asList(services: Service | readonly Service[]): readonly Service[] {
  if (typeof services === 'string') return isService(services) ? [services] : NONE;
  if (isSharedServiceList(services)) return services;
  return services.length ? services.filter(isService) : NONE;
}

/** The statistics of one instance, adding up with the other instances' in the storage. */
export class PsdStatistics {
  readonly #storage: Storage;
  readonly #now: () => number;
  readonly #flushEvery: number;
  readonly #logger: Logger | undefined;
  readonly #timer: NodeJS.Timeout | undefined;
  /** Counter name → amount and window, not yet added to the storage. */
  #pending = new Map<string, { amount: number; window: number }>();
  /** The first and the last of the requests not yet ended, in order of arrival. */
  #first: OpenRequest | undefined;
  #last: OpenRequest | undefined;
  readonly #ended = (request: OpenRequest, outcome: Outcome): void => {
    if (!request.open) return;
    request.open = false;
    if (request.previous) request.previous.next = request.next;
    else this.#first = request.next;
    if (request.next) request.next.previous = request.previous;
    else this.#last = request.previous;
    request.previous = request.next = undefined;
    if (outcome.services !== undefined) request.services = outcome.services;
    this.#count(request, outcome.status, outcome.cause, Math.max(0, this.#now() - request.arrival));
  };
  readonly #series = new Map<Service, SeriesState>(SERVICES.map((service) => [service, {}]));
  /** Slots found down, not yet added to their day. */
  #claims: { readonly service: Service; readonly slot: number; claimed: boolean }[] = [];
  #cursor: number | undefined;
  #failing = false;
  #judgeFrom = 0;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: StatisticsOptions) {
    const flushEvery = options.flushEvery ?? 10_000;
    if (!Number.isFinite(flushEvery) || flushEvery < 1000 || flushEvery > 30_000) throw new RangeError(`flushEvery must be 1000 to 30000 ms, not ${String(flushEvery)}`);
    const clock = options.now ?? systemClock;
    this.#storage = options.storage;
    // The machine's clock read without making a Date.
    this.#now = clock === systemClock ? Date.now : () => clock().getTime();
    this.#flushEvery = flushEvery;
    this.#logger = options.logger;
    if (options.timer ?? true) {
      this.#timer = setInterval(() => void this.flush(), flushEvery);
      this.#timer.unref();
    }
  }

  /** Milliseconds after a slot's end until every instance has counted it. */
  get settleMs(): number {
    return SERIES_SECONDS * 1000 + this.#flushEvery + MARGIN_MS;
  }

  /**
   * Counts a request answered now that took `durationSeconds`: call it when the answer is
   * finished (or the connection closed), with the services it was for.
   */
  record(outcome: RequestOutcome & { readonly durationSeconds: number }): void {
    const ms = Number.isFinite(outcome.durationSeconds) && outcome.durationSeconds > 0 ? outcome.durationSeconds * 1000 : 0;
    this.#count({ arrival: this.#now() - ms, services: asList(outcome.services), stalled: false }, outcome.status, outcome.cause, ms);
  }

  /**
   * A request arriving now, to {@link TrackedRequest.end} when answered. While not answered, it
   * counts as not answered in the downtime series once 30 s have passed (if its services are
   * known by then), instead of only when it ends.
   */
  begin(services: Service | readonly Service[] = []): TrackedRequest {
    const request = new OpenRequest(this.#now(), asList(services), this.#ended);
    request.previous = this.#last;
    if (this.#last) this.#last.next = request;
    else this.#first = request;
    this.#last = request;
    return request;
  }

  #count(request: Tracked, status: number | undefined, cause: RequestOutcome['cause'], ms: number): void {
    if (!request.services.length) return;
    const failed = cause !== undefined || (status !== undefined && status >= 500) || ms > SERIES_SECONDS * 1000;
    const answered = !failed && status !== undefined;
    const days = dayCounterNames(request.arrival);
    const slots = request.stalled || !(failed || answered) ? undefined : slotCounterNames(slotOf(request.arrival));
    const bucket = bucketOf(ms);
    for (const service of request.services) {
      const day = days[service];
      this.#add(day.requests, 1, DAY_WINDOW_SECONDS);
      if (failed) this.#add(day.failed, 1, DAY_WINDOW_SECONDS);
      this.#add(day.durationMs, Math.round(ms), DAY_WINDOW_SECONDS);
      this.#add(day.buckets[bucket]!, 1, DAY_WINDOW_SECONDS);
      if (slots) this.#add(failed ? slots[service].failed : slots[service].answered, 1, SLOT_WINDOW_SECONDS);
    }
  }

  #add(name: string, amount: number, window: number): void {
    const pending = this.#pending.get(name);
    if (pending) pending.amount += amount;
    else if (this.#pending.size < MAX_PENDING || window === DAY_WINDOW_SECONDS) this.#pending.set(name, { amount, window });
  }

  /** Tracked requests past 30 s: not answered in time, counted as such in their slot. */
  #markStalled(now: number): void {
    for (let tracked = this.#first; tracked; tracked = tracked.next) {
      if (tracked.stalled || !tracked.services.length || now - tracked.arrival <= SERIES_SECONDS * 1000) continue;
      tracked.stalled = true;
      const slots = slotCounterNames(slotOf(tracked.arrival));
      for (const service of tracked.services) this.#add(slots[service].failed, 1, SLOT_WINDOW_SECONDS);
    }
  }

  /**
   * Adds the counts kept in memory to the storage, then judges the slots every instance has
   * counted. Counts the storage refuses are kept for the next flush. Resolves when done; never rejects.
   */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    const now = this.#now();
    this.#markStalled(now);
    const pending = [...this.#pending];
    this.#pending = new Map();
    const refused: unknown[] = [];
    await eachLimited(pending, 16, async ([name, { amount, window }]) => {
      if (!amount) return;
      try {
        await this.#storage.incrementCounter(name, window, amount);
      } catch (error) {
        refused.push(error);
        this.#add(name, amount, window);
      }
    });
    if (refused.length) {
      this.#storageFailed(refused[0]);
      return;
    }
    try {
      if (this.#failing) this.#recovered(now);
      if (now >= this.#judgeFrom) await this.#judge(now);
      await this.#claim();
    } catch (error) {
      this.#storageFailed(error);
    }
  }

  #storageFailed(error: unknown): void {
    if (!this.#failing) this.#logger?.warn({ event: 'statistics.not_stored', err: errorForLog(error) }, 'PSD2 statistics: the storage failed; counts kept in memory for the next flush');
    this.#failing = true;
  }

  /** Judging waits until the other instances, which failed too, have flushed what they kept. */
  #recovered(now: number): void {
    this.#failing = false;
    this.#judgeFrom = now + this.#flushEvery + MARGIN_MS;
    this.#logger?.info({ event: 'statistics.stored' }, 'PSD2 statistics stored again');
  }

  async #judge(now: number): Promise<void> {
    const last = slotOf(now - this.settleMs) - 1;
    let cursor = Math.max(this.#cursor ?? last + 1 - LOOKBACK_SLOTS, slotOf(now) - SLOT_WINDOW_SECONDS / SLOT_SECONDS + LOOKBACK_SLOTS);
    for (const end = Math.min(last, cursor + SLOTS_PER_FLUSH - 1); cursor <= end; cursor += 1) {
      const slot = cursor;
      const counts = await Promise.all(SERVICES.map(async (service) => {
        const [answered, failed] = await Promise.all([
          this.#storage.readCounter(statisticsKeys.slot(slot, service, 'answered')),
          this.#storage.readCounter(statisticsKeys.slot(slot, service, 'failed')),
        ]);
        return { answered, failed };
      }));
      SERVICES.forEach((service, index) => {
        const judged = judgeSlot(this.#series.get(service)!, slot, counts[index]!);
        this.#series.set(service, judged.state);
        for (const down of judged.down) this.#claims.push({ service, slot: down, claimed: false });
      });
      this.#cursor = slot + 1;
    }
  }

  /** Adds each slot found down to its day, once across instances: the first to claim it adds it. */
  async #claim(): Promise<void> {
    while (this.#claims.length) {
      const claim = this.#claims[0]!;
      if (!claim.claimed) {
        const claims = await this.#storage.incrementCounter(statisticsKeys.slot(claim.slot, claim.service, 'down'), SLOT_WINDOW_SECONDS);
        claim.claimed = claims === 1;
      }
      if (claim.claimed) await this.#storage.incrementCounter(statisticsKeys.day(dayOfSlot(claim.slot), claim.service, 'downtime_s'), DAY_WINDOW_SECONDS, SLOT_SECONDS);
      this.#claims.shift();
    }
  }

  /**
   * The figures of the UTC days `from` to `to` (`YYYY-MM-DD`, both included, at most 366, none
   * after today), after adding this instance's counts. Throws a `StatisticsRangeError` for a
   * range it cannot give, and the storage's error when it cannot be read.
   */
  async report(from: unknown, to: unknown): Promise<StatisticsReport> {
    const days = daysOf(from, to, dayOf(this.#now()));
    await this.flush();
    const now = this.#now();
    return {
      from: days[0]!,
      to: days.at(-1)!,
      generatedAt: new Date(now).toISOString(),
      resolution: { downtimeSeconds: SLOT_SECONDS, latencyBucketsMs: [...LATENCY_BOUNDS_MS] },
      days: await readFigures(this.#storage, days, now),
    };
  }

  /** {@link report} as CSV. */
  async csv(from: unknown, to: unknown): Promise<string> {
    return toCsv(await this.report(from, to));
  }

  /** Stops the timer and adds what is kept in memory to the storage. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}

/** The PSD2 statistics of this instance, kept in `options.storage` with the other instances'. */
export function createStatistics(options: StatisticsOptions): PsdStatistics {
  return new PsdStatistics(options);
}
