/**
 * The daily figures read back from the storage's counters, and written as JSON and CSV.
 */
import type { Storage } from '../storage.js';
import {
  DAY_SECONDS, LATENCY_BOUNDS_MS, SERVICES, statisticsKeys, type DayFigure, type Service,
} from './statistics-keys.js';

/** The figures of one service on one UTC day. */
export interface DayFigures {
  /** `YYYY-MM-DD`, UTC. */
  readonly date: string;
  readonly service: Service;
  /** Requests received (answered or not). */
  readonly requests: number;
  /** Requests answered, i.e. not failed. */
  readonly answered: number;
  /**
   * Requests failed for reasons attributable to the bank: a 5xx answer, no answer within 30 s,
   * a storage or certificate status responder failure. A TPP's own errors (4xx) are answered.
   */
  readonly failed: number;
  /** `failed / requests` (GL 2.3(c), the daily error response rate), null without requests. */
  readonly errorRate: number | null;
  /** Mean response time in milliseconds, null without requests. */
  readonly meanResponseMs: number | null;
  /** 95th percentile of the response time, as the upper bound of its bucket (statistics-keys.ts). */
  readonly p95ResponseMs: number | null;
  /** Seconds of the day the interface was down (GL 2.4), to the five-second slot. */
  readonly downtimeSeconds: number;
  /** Seconds of the day measured: the whole day, or, today, the seconds gone by. */
  readonly periodSeconds: number;
  /** `100 - 100 × downtime / period` (GL 2.4(a)), with three decimals. */
  readonly uptimePercent: number;
}

/** The statistics of a range of days, as exported. */
export interface StatisticsReport {
  readonly from: string;
  readonly to: string;
  /** When the figures were read, ISO 8601. */
  readonly generatedAt: string;
  /** Resolution of the downtime (seconds) and upper bounds of the latency buckets (ms). */
  readonly resolution: { readonly downtimeSeconds: number; readonly latencyBucketsMs: readonly number[] };
  /** One entry per day and service, by day, then in the order of {@link SERVICES}. */
  readonly days: readonly DayFigures[];
}

const BUCKETS = LATENCY_BOUNDS_MS.length + 1;
const FIGURES: readonly DayFigure[] = ['requests', 'failed', 'duration_ms', 'downtime_s', ...Array.from({ length: BUCKETS }, (_, index) => statisticsKeys.bucket(index))];

/** Runs `work` on each item, at most `limit` at a time, and returns the results in order. */
export async function eachLimited<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next;
      next += 1;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The upper bound of the bucket holding the 95th percentile of `counts` (nearest rank). */
function p95(counts: readonly number[], total: number): number | null {
  if (total <= 0) return null;
  const rank = Math.ceil(total * 0.95);
  let seen = 0;
  for (let index = 0; index < counts.length; index += 1) {
    seen += counts[index]!;
    if (seen >= rank) return LATENCY_BOUNDS_MS[Math.min(index, LATENCY_BOUNDS_MS.length - 1)]!;
  }
  return LATENCY_BOUNDS_MS.at(-1)!;
}

const rounded = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

function figuresOf(date: string, service: Service, values: readonly number[], periodSeconds: number): DayFigures {
  const [requests = 0, failed = 0, durationMs = 0, downtime = 0] = values;
  const buckets = values.slice(4);
  const downtimeSeconds = Math.min(downtime, periodSeconds);
  return {
    date,
    service,
    requests,
    answered: Math.max(0, requests - failed),
    failed,
    errorRate: requests > 0 ? rounded(failed / requests, 6) : null,
    meanResponseMs: requests > 0 ? rounded(durationMs / requests, 1) : null,
    p95ResponseMs: p95(buckets, buckets.reduce((sum, count) => sum + count, 0)),
    downtimeSeconds,
    periodSeconds,
    uptimePercent: periodSeconds > 0 ? rounded(100 - (100 * downtimeSeconds) / periodSeconds, 3) : 100,
  };
}

/**
 * The figures of `days` for every service, read from `storage`; `now` (epoch ms) bounds today's
 * period. About 23 counters are read per day and service, 32 at a time.
 */
export async function readFigures(storage: Storage, days: readonly string[], now: number): Promise<DayFigures[]> {
  const pairs = days.flatMap((date) => SERVICES.map((service) => ({ date, service })));
  const reads = pairs.flatMap(({ date, service }) => FIGURES.map((figure) => statisticsKeys.day(date, service, figure)));
  const values = await eachLimited(reads, 32, (key) => storage.readCounter(key));
  return pairs.map(({ date, service }, index) => {
    const start = Date.parse(`${date}T00:00:00Z`);
    const period = Math.max(0, Math.min(DAY_SECONDS, Math.floor((now - start) / 1000)));
    return figuresOf(date, service, values.slice(index * FIGURES.length, (index + 1) * FIGURES.length), period);
  });
}

const CSV_COLUMNS = [
  ['date', 'date'], ['service', 'service'], ['requests', 'requests'], ['answered', 'answered'], ['failed', 'failed'],
  ['error_rate', 'errorRate'], ['mean_response_ms', 'meanResponseMs'], ['p95_response_ms', 'p95ResponseMs'],
  ['downtime_seconds', 'downtimeSeconds'], ['period_seconds', 'periodSeconds'], ['uptime_percent', 'uptimePercent'],
] as const satisfies readonly (readonly [string, keyof DayFigures])[];

/**
 * The report as CSV (RFC 4180, CRLF line ends): a header line, then one line per day and
 * service; a figure without a value (no requests) is left empty. Every value is a day, a service
 * name or a number: nothing needs quoting.
 */
export function toCsv(report: StatisticsReport): string {
  const lines = [CSV_COLUMNS.map(([column]) => column).join(',')];
  for (const day of report.days) lines.push(CSV_COLUMNS.map(([, field]) => String(day[field] ?? '')).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
