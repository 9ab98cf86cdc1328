/**
 * The downtime of EBA/GL/2018/07 GL 2.4, judged slot by slot from what every instance counted: the
 * interface is down when five consecutive requests are not answered within a total of 30 seconds,
 * whichever TPPs sent them, from the arrival of the first of them.
 *
 * Read per five-second slot (statistics-keys.ts) of one service, from the counts of all instances:
 * - a slot with a request answered breaks the series: a down interval ends where it begins, and
 *   failures in the same slot (their order to the answer unknown) start nothing;
 * - a slot with failures and no answer adds them to the series, which starts at the first one;
 * - the series is down once it holds five failures and 30 seconds passed from the start of its
 *   first slot without an answer; it is then down from that first slot on, retroactively;
 * - a slot without requests carries the series on (nothing was answered), but counts as down only
 *   within 30 seconds after the end of a failing slot: silence is no evidence that the interface
 *   is still down, so an outage followed by a quiet night is not a night of downtime.
 *
 * The function is pure: the caller reads the counts, feeds the slots in order and records the
 * slots it returns as down.
 */
import { SERIES_REQUESTS, SERIES_SECONDS, SLOT_SECONDS } from './statistics-keys.js';

/** Slots a failure covers after its own (30 s). */
const HOLD_SLOTS = SERIES_SECONDS / SLOT_SECONDS;

/** The series of one service. */
export interface SeriesState {
  /** Failures of the series, none when the last slot with requests had an answer. */
  readonly run?: {
    readonly firstSlot: number;
    readonly failures: number;
    /** Slot ranges (inclusive) covered by failures and not yet returned as down. */
    readonly covered: readonly (readonly [number, number])[];
    readonly down: boolean;
  };
}

export interface SlotCounts {
  readonly answered: number;
  readonly failed: number;
}

/** Adds the slot `failing` covers to `covered`, merging with the last range when they touch. */
function cover(covered: readonly (readonly [number, number])[], failing: number): (readonly [number, number])[] {
  const last = covered.at(-1);
  const range = [failing, failing + HOLD_SLOTS] as const;
  if (last && failing <= last[1] + 1) return [...covered.slice(0, -1), [last[0], Math.max(last[1], range[1])]];
  return [...covered, range];
}

/** The slots of `covered` up to `slot`, and what remains of `covered` after them. */
function takeUpTo(covered: readonly (readonly [number, number])[], slot: number): { down: number[]; rest: (readonly [number, number])[] } {
  const down: number[] = [];
  const rest: (readonly [number, number])[] = [];
  for (const [from, to] of covered) {
    for (let each = from; each <= Math.min(to, slot); each += 1) down.push(each);
    if (to > slot) rest.push([Math.max(from, slot + 1), to]);
  }
  return { down, rest };
}

/** The series after `slot` with `counts`, and the slots found down (each returned once). */
export function judgeSlot(state: SeriesState, slot: number, counts: SlotCounts): { state: SeriesState; down: number[] } {
  if (counts.answered > 0) return { state: {}, down: [] };
  let run = state.run;
  if (counts.failed > 0) {
    run = run
      ? { ...run, failures: run.failures + counts.failed, covered: cover(run.covered, slot) }
      : { firstSlot: slot, failures: counts.failed, covered: cover([], slot), down: false };
  }
  if (!run) return { state: {}, down: [] };
  const elapsed = (slot + 1 - run.firstSlot) * SLOT_SECONDS;
  const down = run.down || (run.failures >= SERIES_REQUESTS && elapsed >= SERIES_SECONDS);
  if (!down) return { state: { run }, down: [] };
  const taken = takeUpTo(run.covered, slot);
  return { state: { run: { ...run, down, covered: taken.rest } }, down: taken.down };
}
