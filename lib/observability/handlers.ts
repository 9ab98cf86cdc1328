/**
 * Node request handlers of the operations listener (metrics, health, statistics), to serve on a
 * port of their own bound to a private address: none of them authenticates its callers.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

import type { Logger } from '../logger.js';
import type { Management } from '../management-types.js';
import { errorForLog } from './errors-for-log.js';
import type { Health, HealthReport } from './health.js';
import type { ServerMetrics } from './metrics.js';
import type { PsdStatistics } from './statistics.js';
import { StatisticsRangeError } from './statistics-keys.js';
import { toCsv } from './statistics-report.js';

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown, headers?: Record<string, string>) => send(res, status, 'application/json', JSON.stringify(value), headers);

/** Answers a health report: its HTTP status, and its status and checks as JSON. */
export function sendHealth(res: ServerResponse, report: HealthReport): void {
  sendJson(res, report.httpStatus, { status: report.status, checks: report.checks });
}

/** `GET /health/live`. */
export function livenessHandler(health: Health): RequestListener {
  return (_req, res) => sendHealth(res, health.live());
}

/** `GET /health/ready`. */
export function readinessHandler(health: Health): RequestListener {
  return (_req, res) => {
    health.ready().then((report) => sendHealth(res, report), () => sendHealth(res, { status: 'unavailable', httpStatus: 503, checks: {} }));
  };
}

/** `GET /metrics`: the Prometheus text format. */
export function metricsHandler(metrics: ServerMetrics, logger?: Logger): RequestListener {
  return (_req, res) => {
    metrics.scrape().then(({ contentType, body }) => send(res, 200, contentType, body), (error: unknown) => {
      logger?.error({ event: 'metrics.failed', err: errorForLog(error) }, 'metrics could not be collected');
      sendJson(res, 500, { error: 'server_error', error_description: 'the metrics could not be collected' });
    });
  };
}

/** Where the statistics handler reads the report: the management API, or the statistics themselves. */
export type StatisticsSource = Pick<Management, 'statistics'> | Pick<PsdStatistics, 'report'>;

/**
 * `GET /statistics?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]`: the PSD2 statistics of those
 * UTC days as JSON ({@link StatisticsReport}) or CSV; 400 `invalid_request` for a range it cannot
 * give, 503 `temporarily_unavailable` while the storage cannot be read.
 */
export function statisticsHandler(source: StatisticsSource, logger?: Logger): RequestListener {
  const read = 'statistics' in source
    ? (from: string, to: string) => source.statistics({ from, to })
    : (from: string, to: string) => source.report(from, to);
  return (req, res) => {
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
    const format = query.get('format') ?? 'json';
    if (format !== 'json' && format !== 'csv') {
      sendJson(res, 400, { error: 'invalid_request', error_description: 'format must be json or csv' });
      return;
    }
    read(query.get('from') ?? '', query.get('to') ?? '').then((report) => {
      if (format === 'json') sendJson(res, 200, report);
      else send(res, 200, 'text/csv; charset=utf-8', toCsv(report), { 'Content-Disposition': `attachment; filename="psd2-statistics-${report.from}-${report.to}.csv"` });
    }, (error: unknown) => {
      if (error instanceof StatisticsRangeError) {
        sendJson(res, 400, { error: 'invalid_request', error_description: error.message });
        return;
      }
      logger?.error({ event: 'statistics.failed', err: errorForLog(error) }, 'PSD2 statistics could not be read');
      sendJson(res, 503, { error: 'temporarily_unavailable', error_description: 'the statistics cannot be read now, try again shortly' }, { 'Retry-After': '5' });
    });
  };
}

export interface OperationsParts {
  readonly metrics?: ServerMetrics;
  readonly health?: Health;
  readonly statistics?: PsdStatistics;
  /** The server's management API: `/statistics` reads through it (before `statistics`). */
  readonly management?: Pick<Management, 'statistics'>;
  readonly logger?: Logger;
}

/**
 * One listener for the operations port: `GET /metrics`, `GET /health/live`, `GET /health/ready`
 * and `GET /statistics` for the parts given; 404 for other paths, 405 for other methods.
 */
export function operationsListener(parts: OperationsParts): RequestListener {
  const routes = new Map<string, RequestListener>();
  if (parts.metrics) routes.set('/metrics', metricsHandler(parts.metrics, parts.logger));
  if (parts.health) {
    routes.set('/health/live', livenessHandler(parts.health));
    routes.set('/health/ready', readinessHandler(parts.health));
  }
  const statistics = parts.management ?? parts.statistics;
  if (statistics) routes.set('/statistics', statisticsHandler(statistics, parts.logger));
  return (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes.get(path);
    if (!route) {
      sendJson(res, 404, { error: 'not_found', error_description: 'no such path' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'invalid_request', error_description: 'only GET' }, { Allow: 'GET, HEAD' });
      return;
    }
    route(req, res);
  };
}
