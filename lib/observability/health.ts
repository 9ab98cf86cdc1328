/**
 * Liveness and readiness. Liveness says the process runs and answers (restart it when it does
 * not); readiness says it can serve now: the storage answers, and every registered source (e.g.
 * the trust anchors' loaders) is ready. A load balancer stops sending requests to an instance not
 * ready; an orchestrator should not restart it for that, since restarts do not bring Redis back.
 */
import type { Logger } from '../logger.js';
import type { Storage } from '../storage.js';
import { errorForLog } from './errors-for-log.js';

/** One check's state. */
export interface CheckResult {
  readonly status: 'ok' | 'unavailable';
  /** Why it is unavailable: `no answer within 2000 ms`, `failed (TypeError)`, or what the check said. */
  readonly detail?: string;
  /** Milliseconds the check took. */
  readonly ms?: number;
}

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  /** 200 when ok, 503 otherwise. */
  readonly httpStatus: 200 | 503;
  readonly checks: Readonly<Record<string, CheckResult>>;
}

/**
 * A readiness check: resolves true, or `{ ready: true }`, when ready; false, `{ ready: false,
 * detail }`, a rejection or no answer within the timeout make it unavailable. `detail` is shown
 * on the readiness endpoint: no secrets.
 */
export type ReadinessCheck = () => Promise<boolean | { readonly ready: boolean; readonly detail?: string }> | boolean;

export interface HealthOptions {
  readonly storage: Storage;
  /** Milliseconds each check may take before it counts as unavailable (a hung storage). Default 2000. */
  readonly timeoutMs?: number;
  /** Further readiness checks by name, e.g. `{ 'trust-anchors': () => anchors.ready() }`. */
  readonly checks?: Readonly<Record<string, ReadinessCheck>>;
  /** Told whether the storage answered each readiness check (`storage_up` gauge). */
  readonly metrics?: { setStorageReachable(reachable: boolean): void };
  /** Told once each way when a check becomes unavailable and ok again (event `health.changed`). */
  readonly logger?: Logger;
}

/** The counter read to see whether the storage answers: cheap on every storage, never written. */
export const HEALTH_COUNTER = 'psd2-health:readiness';

const STORAGE = 'storage';

class TimeoutError extends Error {}

async function within<T>(work: () => Promise<T> | T, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(work),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new TimeoutError()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The process's health, for the liveness and readiness endpoints. */
export class Health {
  readonly #storage: Storage;
  readonly #timeoutMs: number;
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #metrics: HealthOptions['metrics'];
  readonly #logger: Logger | undefined;
  readonly #last = new Map<string, CheckResult['status']>();
  #running: Promise<HealthReport> | undefined;

  constructor(options: HealthOptions) {
    const timeoutMs = options.timeoutMs ?? 2000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, not ${String(timeoutMs)}`);
    this.#storage = options.storage;
    this.#timeoutMs = timeoutMs;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#checks.set(STORAGE, () => this.#storage.readCounter(HEALTH_COUNTER).then(() => true));
    for (const [name, check] of Object.entries(options.checks ?? {})) this.addCheck(name, check);
  }

  /** Adds a readiness check, e.g. a trust anchor source once it exists. Names are unique. */
  addCheck(name: string, check: ReadinessCheck): void {
    if (this.#checks.has(name)) throw new TypeError(`a readiness check named ${name} is registered already`);
    this.#checks.set(name, check);
  }

  removeCheck(name: string): void {
    if (name !== STORAGE) this.#checks.delete(name);
  }

  /** Up while the process runs and its event loop turns: this answers at all. */
  live(): HealthReport {
    return { status: 'ok', httpStatus: 200, checks: { process: { status: 'ok' } } };
  }

  /**
   * Runs every readiness check at once, each bounded by the timeout; concurrent calls share one
   * run. Unavailable while any check is.
   */
  ready(): Promise<HealthReport> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<HealthReport> {
    const entries = [...this.#checks];
    const results = await Promise.all(entries.map(([name, check]) => this.#check(name, check)));
    const checks = Object.fromEntries(entries.map(([name], index) => [name, results[index]!]));
    this.#metrics?.setStorageReachable(checks[STORAGE]?.status === 'ok');
    const ok = results.every((result) => result.status === 'ok');
    return { status: ok ? 'ok' : 'unavailable', httpStatus: ok ? 200 : 503, checks };
  }

  async #check(name: string, check: ReadinessCheck): Promise<CheckResult> {
    const started = performance.now();
    let result: CheckResult;
    let failure: unknown;
    try {
      const answer = await within(check, this.#timeoutMs);
      const ready = typeof answer === 'boolean' ? answer : answer.ready === true;
      const detail = typeof answer === 'object' && typeof answer.detail === 'string' ? answer.detail.slice(0, 200) : undefined;
      result = ready ? { status: 'ok' } : { status: 'unavailable', detail: detail ?? 'not ready' };
    } catch (error) {
      failure = error;
      result = { status: 'unavailable', detail: error instanceof TimeoutError ? `no answer within ${this.#timeoutMs} ms` : `failed (${errorForLog(error, { depth: 0, stack: false }).type})` };
    }
    result = { ...result, ms: Math.round(performance.now() - started) };
    this.#changed(name, result, failure);
    return result;
  }

  /** Logs a check's change of state, once each way (the first state only when unavailable). */
  #changed(name: string, result: CheckResult, failure: unknown): void {
    const before = this.#last.get(name);
    this.#last.set(name, result.status);
    if (before === result.status || (before === undefined && result.status === 'ok')) return;
    const fields = { event: 'health.changed', check: name, status: result.status, detail: result.detail, ...(failure instanceof TimeoutError || failure === undefined ? {} : { err: errorForLog(failure) }) };
    if (result.status === 'ok') this.#logger?.info(fields, `${name} is available again`);
    else this.#logger?.error(fields, `${name} is unavailable: not ready`);
  }
}

/** The health of this instance; see {@link Health}. */
export function createHealth(options: HealthOptions): Health {
  return new Health(options);
}
