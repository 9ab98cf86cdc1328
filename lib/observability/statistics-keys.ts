/**
 * The PSD2 statistics' vocabulary: the services, UTC days and five-second slots, the latency
 * buckets, and the one place where the storage counters' names are built.
 */
import type { Psd2Role } from '../certificates/oids.js';
import { BoundedMemo } from './bounded-memo.js';

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

/** A set of services as bits, in {@link SERVICES} order, and the services of each such set. */
const BIT_OF_SERVICE = new Map<Service, number>(SERVICES.map((service, index) => [service, 1 << index]));
const SERVICES_OF_BITS: readonly (readonly Service[])[] = Array.from({ length: 1 << SERVICES.length }, (_, bits) => Object.freeze(SERVICES.filter((service) => (bits & BIT_OF_SERVICE.get(service)!) !== 0)));
const bitsOf = (table: Readonly<Record<string, Service | undefined>>): ReadonlyMap<string, number> => new Map(
  Object.entries(table).flatMap(([name, service]) => (service === undefined ? [] : [[name, BIT_OF_SERVICE.get(service)!] as const])),
);
const BITS_OF_SCOPE = bitsOf(SERVICE_OF_SCOPE);
const BITS_OF_ROLE = bitsOf(SERVICE_OF_ROLE);

/** The services of a scope string's known scopes, as bits. */
function scopeBitsOf(scope: string): number {
  let bits = 0;
  for (const name of scope.split(' ')) bits |= BITS_OF_SCOPE.get(name) ?? 0;
  return bits;
}
/** {@link scopeBitsOf}, remembered for the scope strings in use. */
const scopeBits = new BoundedMemo(256, scopeBitsOf);
/** Longer scope strings are not remembered: a request may send any. */
const REMEMBERED_SCOPE_LENGTH = 256;

/** Whether `list` is one of the read-only lists {@link servicesOf} gives: services only, each once. */
export function isSharedServiceList(list: readonly unknown[]): boolean {
  return SERVICES_OF_BITS.includes(list as readonly Service[]);
}

/**
 * The services a request is for: from its scope when it has one (`aisp`, `pisp`, `cbpii`), else
 * from the roles of the TPP's certificate (a registration by an AISP and PISP is for both). In
 * {@link SERVICES} order, each once; the list is shared, hence read-only.
 */
export function servicesOf(request: { readonly scope?: string | undefined; readonly roles?: readonly string[] | undefined }): readonly Service[] {
  const scope = request.scope;
  if (scope) {
    const fromScope = scope.length <= REMEMBERED_SCOPE_LENGTH ? scopeBits.get(scope) : scopeBitsOf(scope);
    if (fromScope) return SERVICES_OF_BITS[fromScope]!;
  }
  let fromRoles = 0;
  for (const role of request.roles ?? []) fromRoles |= BITS_OF_ROLE.get(role) ?? 0;
  return SERVICES_OF_BITS[fromRoles]!;
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
  let index = 0;
  while (index < LATENCY_BOUNDS_MS.length && !(ms <= LATENCY_BOUNDS_MS[index]!)) index += 1;
  return index;
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

/** The names of one day's counters of one service. */
export interface DayCounterNames {
  readonly requests: string;
  readonly failed: string;
  readonly durationMs: string;
  /** By {@link bucketOf}'s index. */
  readonly buckets: readonly string[];
}

/** The names of one slot's counters of one service that requests count in. */
export interface SlotCounterNames {
  readonly answered: string;
  readonly failed: string;
}

const DAY_MS = DAY_SECONDS * 1000;
const SLOT_MS = SLOT_SECONDS * 1000;

const perService = <T>(names: (service: Service) => T): Readonly<Record<Service, T>> => Object.fromEntries(SERVICES.map((service) => [service, names(service)])) as Record<Service, T>;

/** By the day's index since the epoch: requests arrive in a day or two at a time. */
const dayNames = new BoundedMemo(8, (index: number) => {
  const day = dayOf(index * DAY_MS);
  return perService((service): DayCounterNames => ({
    requests: statisticsKeys.day(day, service, 'requests'),
    failed: statisticsKeys.day(day, service, 'failed'),
    durationMs: statisticsKeys.day(day, service, 'duration_ms'),
    buckets: Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_, bucket) => statisticsKeys.day(day, service, statisticsKeys.bucket(bucket))),
  }));
});

/** By the slot: requests end within a few slots of one another. */
const slotNames = new BoundedMemo(64, (slot: number) => perService((service): SlotCounterNames => ({
  answered: statisticsKeys.slot(slot, service, 'answered'),
  failed: statisticsKeys.slot(slot, service, 'failed'),
})));

/** The counter names of the UTC day holding `time` (epoch milliseconds), by service, built once per day. */
export function dayCounterNames(time: number): Readonly<Record<Service, DayCounterNames>> {
  return dayNames.get(Math.floor(time / DAY_MS));
}

/** The counter names of `slot`, by service, built once per slot. */
export function slotCounterNames(slot: number): Readonly<Record<Service, SlotCounterNames>> {
  return slotNames.get(slot);
}

/** The UTC day of `time`, `YYYY-MM-DD`. */
export function dayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The slot holding `time` (epoch milliseconds). */
export function slotOf(time: number): number {
  return Math.floor(time / SLOT_MS);
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
