/**
 * Load generators: autocannon over keep-alive mutual-TLS connections, and a closed loop of
 * workers for what autocannon cannot do (a new TLS connection per request: autocannon 9's
 * `reconnectRate` drops the answer of the request before each reconnection from its counts, and
 * `maxConnectionRequests` stops the connection for good; and multi-request flows).
 */
import type { EventEmitter } from 'node:events';

import autocannon from 'autocannon';

export interface LoadResult {
  /** Completed operations (requests or flows) that succeeded. */
  readonly completed: number;
  /** Failed ones (non-2xx, errors, timeouts). */
  readonly errors: number;
  readonly seconds: number;
  /** Successful operations per second. */
  readonly rate: number;
  /** Latency percentiles of an operation, milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  /** First failure seen, for the report. */
  readonly firstError?: string;
}

export interface AutocannonLoad {
  readonly port: number;
  readonly path: string;
  readonly connections: number;
  readonly seconds: number;
  readonly tls: { readonly ca: string; readonly cert?: string; readonly key?: string };
  readonly headers: Record<string, string>;
  /** Body of each request; a function gives a new one per request. */
  readonly body: string | (() => string);
}

export async function autocannonLoad(load: AutocannonLoad): Promise<LoadResult> {
  const headers = { host: `localhost:${load.port}`, ...load.headers };
  const { body } = load;
  let firstError: string | undefined;
  const instance = autocannon({
    url: `https://127.0.0.1:${load.port}${load.path}`,
    servername: 'localhost',
    connections: load.connections,
    duration: load.seconds,
    method: 'POST',
    headers,
    tlsOptions: { ca: load.tls.ca, ...(load.tls.cert ? { cert: load.tls.cert, key: load.tls.key } : {}) },
    ...(typeof body === 'string'
      ? { body }
      : { requests: [{ method: 'POST', setupRequest: (request: autocannon.Request) => ({ ...request, headers, body: body() }) }] }),
  } as autocannon.Options) as unknown as EventEmitter & PromiseLike<autocannon.Result>;
  // Without a callback autocannon returns its tracker, an event emitter that is also a promise.
  instance.on('response', (_client: unknown, statusCode: number) => {
    if (statusCode >= 300 && !firstError) firstError = `HTTP ${statusCode}`;
  });
  const result = await instance;
  const errors = result.non2xx + result.errors + result.timeouts;
  const completed = Math.max(0, result['2xx']);
  return {
    completed,
    errors,
    seconds: result.duration,
    rate: completed / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
    ...(firstError ? { firstError } : {}),
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** `workers` loops calling `task` one after the other until `seconds` have passed. */
export async function closedLoop(workers: number, seconds: number, task: () => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (performance.now() < deadline) {
      const begin = performance.now();
      try {
        await task();
        latencies.push(performance.now() - begin);
      } catch (error) {
        errors += 1;
        firstError ??= error instanceof Error ? error.message : String(error);
        // A server that refuses at once must not turn the loop into a busy spin.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return {
    completed: latencies.length,
    errors,
    seconds: elapsed,
    rate: latencies.length / elapsed,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    mean: round(latencies.reduce((sum, value) => sum + value, 0) / (latencies.length || 1)),
    ...(firstError ? { firstError } : {}),
  };
}
