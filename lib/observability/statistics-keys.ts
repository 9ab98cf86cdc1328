/**
 * The PSD2 statistics' vocabulary: the services, UTC days and five-second slots, the latency
 * buckets, and the one place where the storage counters' names are built.
 */
import type { Psd2Role } from '../certificates/oids.js';

/** The services of EBA/GL/2018/07 the figures are kept for. */
export const SERVICES = ['account_information', 'payment_initiation', 'funds_confirmation'] as const;
export type Service = (typeof SERVICES)[number];

const SERVICE_OF_SCOPE: Readonly<Record<string, Service>> = {
  aisp: 'account_information',
  extended_transaction_history: 'account_information',
  pisp: 'payment_initiation',
  cbpii: 'funds_confirmation',
};

const SERVICE_OF_ROLE: Readonly<Record<Psd2Role, Service | undefined>> = {
  PSP_AI: 'account_information',
  PSP_PI: 'payment_initiation',
  PSP_IC: 'funds_confirmation',
  PSP_AS: undefined,
};

/**
 * The services a request is for: from its scope when it has one (`aisp`, `pisp`, `cbpii`), else
 * from the roles of the TPP's certificate (a registration by an AISP and PISP is for both).
 */
export function servicesOf(request: { readonly scope?: string | undefined; readonly roles?: readonly string[] | undefined }): Service[] {
  const fromScope = new Set((request.scope ?? '').split(' ').map((scope) => SERVICE_OF_SCOPE[scope]).filter((service) => service !== undefined));
  if (fromScope.size) return SERVICES.filter((service) => fromScope.has(service));
  const fromRoles = new Set((request.roles ?? []).map((role) => SERVICE_OF_ROLE[role as Psd2Role]));
  return SERVICES.filter((service) => fromRoles.has(service));
}

export const DAY_SECONDS = 86_400;
/**
 * The downtime series is kept per slot of five seconds (a divisor of a day): the resolution of
 * the downtime, whose start and end are known to the slot.
 */
export const SLOT_SECONDS = 5;
/** GL 2.4: five consecutive requests not answered within a total of 30 seconds. */
export const SERIES_REQUESTS = 5;
export const SERIES_SECONDS = 30;

/**
 * Upper bounds (ms) of the latency buckets; a last bucket holds what is slower. The p95 is
 * reported as the upper bound of the bucket holding it: at most one bucket width above the exact
 * value (25 ms up to 100 ms, 50 to 200, 100 to 500, 250 to 1 s, 500 to 2 s, then 1, 2, 5, 20 and
 * 30 s), never below it. A p95 in the last bucket is reported as 60000: 60 s or more.
 */
export const LATENCY_BOUNDS_MS = [25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000, 60_000] as const;

/** The index of the bucket counting a response time of `ms` (the last one past every bound). */
export function bucketOf(ms: number): number {
  const index = LATENCY_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return index < 0 ? LATENCY_BOUNDS_MS.length : index;
}

/** Counters of a day live 400 days from their first count: a year and a quarter to publish. */
export const DAY_WINDOW_SECONDS = 400 * DAY_SECONDS;
/** Counters of a slot live a day: long after every instance judged it. */
export const SLOT_WINDOW_SECONDS = DAY_SECONDS;

export type DayFigure = 'requests' | 'failed' | 'duration_ms' | 'downtime_s' | `bucket_${number}`;
export type SlotFigure = 'answered' | 'failed' | 'down';

/** The names of the statistics' counters in the storage. */
export const statisticsKeys = {
  /** A figure of a UTC day (`YYYY-MM-DD`) and service. */
  day: (day: string, service: Service, figure: DayFigure) => `psd2-statistics:day:${day}:${service}:${figure}`,
  /** A count of a slot (its index since the epoch) and service. */
  slot: (slot: number, service: Service, figure: SlotFigure) => `psd2-statistics:slot:${slot}:${service}:${figure}`,
  bucket: (index: number): DayFigure => `bucket_${index}`,
};

/** The UTC day of `time`, `YYYY-MM-DD`. */
export function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The slot holding `time` (epoch milliseconds). */
export function slotOf(time: number): number {
  return Math.floor(time / (SLOT_SECONDS * 1000));
}

/** The UTC day a slot lies in. */
export function dayOfSlot(slot: number): string {
  return dayOf(slot * SLOT_SECONDS * 1000);
}

/** The longest range of days exported at once. */
export const MAX_RANGE_DAYS = 366;

/** An error in a day range asked for, its message fit to answer with (400). */
export class StatisticsRangeError extends RangeError {
  override readonly name = 'StatisticsRangeError';
}

function parseDay(name: string, value: unknown): number {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    throw new StatisticsRangeError(`${name} must be a day as YYYY-MM-DD`);
  }
  const time = Date.parse(`${value}T00:00:00Z`);
  if (!Number.isFinite(time) || dayOf(time) !== value) throw new StatisticsRangeError(`${name} is not a day of the calendar: ${value}`);
  return time;
}

/**
 * The UTC days from `from` to `to`, both included, both `YYYY-MM-DD`; at most
 * {@link MAX_RANGE_DAYS}, none after `today`. Throws {@link StatisticsRangeError} otherwise.
 */
export function daysOf(from: unknown, to: unknown, today: string): string[] {
  const start = parseDay('from', from);
  const end = parseDay('to', to);
  if (end < start) throw new StatisticsRangeError('to must not be before from');
  if (dayOf(end) > today) throw new StatisticsRangeError(`to must not be after today (${today}, UTC)`);
  const count = (end - start) / (DAY_SECONDS * 1000) + 1;
  if (count > MAX_RANGE_DAYS) throw new StatisticsRangeError(`at most ${MAX_RANGE_DAYS} days at once, not ${count}`);
  return Array.from({ length: count }, (_, index) => dayOf(start + index * DAY_SECONDS * 1000));
}
