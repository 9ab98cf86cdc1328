/**
 * One middleware measuring every request: it counts the answer in the metrics and in the PSD2
 * statistics when the answer is finished (or the connection closed). What only later parts of
 * the server know (the grant type, the RFC error code, the services, the TPP) they note on the
 * request with {@link noteRequest}; the middleware reads it at the end.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Endpoint } from './labels.js';
import type { RequestRecord } from './metrics.js';
import type { RequestOutcome, TrackedRequest } from './statistics.js';
import { servicesOf, type Service } from './statistics-keys.js';

/** What the server learns about a request while answering it. */
export interface RequestFacts {
  /** The token endpoint's `grant_type`. */
  readonly grantType?: string;
  /** The RFC error code answered, e.g. `invalid_grant`. */
  readonly error?: string;
  /** The PSD2 services it is for: {@link servicesOf} the scope, or the certificate's roles. */
  readonly services?: readonly Service[];
  /** The TPP's organizationIdentifier (a metrics label only with the `providerLegalIds` option). */
  readonly providerLegalId?: string;
  /** A failure attributable to the bank though the status may say otherwise. */
  readonly cause?: RequestOutcome['cause'];
}

const facts = new WeakMap<object, RequestFacts>();
const trackedOf = new WeakMap<object, TrackedRequest>();
/** Requests being observed: a request passing two routers with the middleware is counted once. */
const observed = new WeakSet<object>();

/** Adds `more` to what is known of `req` (the Node request; Koa's `ctx.req`, Express's `req`). */
export function noteRequest(req: object, more: RequestFacts): void {
  facts.set(req, { ...facts.get(req), ...more });
  const tracked = trackedOf.get(req);
  if (tracked && more.services) tracked.services = more.services;
}

/** What was noted of `req`. */
export function factsOf(req: object): RequestFacts {
  return facts.get(req) ?? {};
}

export interface RequestObserverParts {
  /** `endpointClassifier({ mountPath, entryPaths })`. */
  readonly classify: (method: string, path: string) => Endpoint;
  readonly metrics?: { recordRequest(request: RequestRecord): void };
  readonly statistics?: { begin(services?: readonly Service[]): TrackedRequest };
}

/** The scope of an authorization request's query string (entry pages and `/authorize`), if any. */
function queryScope(url: string): string | undefined {
  const query = url.indexOf('?');
  if (query < 0) return undefined;
  return new URLSearchParams(url.slice(query + 1)).get('scope') ?? undefined;
}

/**
 * Middleware for Node and Express, early in line (after the interaction id): times the request
 * and, once its answer is finished or its connection closed, records it. A request counts in the
 * PSD2 statistics only when its services are known (noted, or the authorization request's scope).
 * A connection closed before its answer was finished counts as status 499 in the metrics (client
 * closed request); in the statistics, as a request without answer: failed when it was open for
 * more than 30 s, else neither answered nor failed.
 */
export function requestObserver(parts: RequestObserverParts) {
  return (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void => {
    if (observed.has(req)) {
      next?.();
      return;
    }
    observed.add(req);
    const started = performance.now();
    const path = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const endpoint = parts.classify(req.method ?? '', path);
    if (endpoint === 'authorization') {
      const scope = queryScope(path);
      if (scope) noteRequest(req, { services: servicesOf({ scope }) });
    }
    const tracked = parts.statistics?.begin(factsOf(req).services ?? []);
    if (tracked) trackedOf.set(req, tracked);
    // `close` follows `finish` on every answer, and comes alone when the connection closed first:
    // one listener sees both, and `writableFinished` tells them apart.
    res.on('close', () => {
      const noted = factsOf(req);
      const answered = res.writableFinished;
      parts.metrics?.recordRequest({
        endpoint,
        status: answered ? res.statusCode : 499,
        durationSeconds: (performance.now() - started) / 1000,
        grantType: noted.grantType,
        error: noted.error,
        providerLegalId: noted.providerLegalId,
      });
      tracked?.end({ services: noted.services ?? [], status: answered ? res.statusCode : undefined, cause: noted.cause });
    });
    next?.();
  };
}
