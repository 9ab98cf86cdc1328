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
import { queryScope } from './query-scope.js';
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

/** What is known of one request, and while the middleware observes it, what its record needs. */
class RequestNotes implements RequestFacts {
  grantType: string | undefined = undefined;
  error: string | undefined = undefined;
  services: readonly Service[] | undefined = undefined;
  providerLegalId: string | undefined = undefined;
  cause: RequestOutcome['cause'] = undefined;
  /** Set by the middleware: a request passing two routers with the middleware is counted once. */
  observation: Observation | undefined = undefined;
}

/** A request the middleware observes: one object per request, read by one shared `close` listener. */
class Observation {
  readonly parts: RequestObserverParts;
  readonly endpoint: Endpoint;
  readonly started: number;
  readonly tracked: TrackedRequest | undefined;

  constructor(parts: RequestObserverParts, endpoint: Endpoint, started: number, tracked: TrackedRequest | undefined) {
    this.parts = parts;
    this.endpoint = endpoint;
    this.started = started;
    this.tracked = tracked;
  }
}

/**
 * Kept on the Node request (Koa's `ctx.req`, Express's `req`) under a symbol of this module's, not
 * in a WeakMap, whose every entry for a new request costs several times as much to write.
 */
const NOTES = Symbol('request notes');
type Noted = { [NOTES]?: RequestNotes };
/** By the answer, for an answer whose `req` is not its request (Node's and Express's are). */
const answers = new WeakMap<object, RequestNotes>();

function notedOf(req: object): RequestNotes | undefined {
  return (req as Noted)[NOTES];
}

function notesOf(req: object): RequestNotes {
  return (req as Noted)[NOTES] ??= new RequestNotes();
}

/** Adds `more` to what is known of `req` (the Node request; Koa's `ctx.req`, Express's `req`). */
export function noteRequest(req: object, more: RequestFacts): void {
  const noted = notesOf(req);
  if (more.grantType !== undefined) noted.grantType = more.grantType;
  if (more.error !== undefined) noted.error = more.error;
  if (more.providerLegalId !== undefined) noted.providerLegalId = more.providerLegalId;
  if (more.cause !== undefined) noted.cause = more.cause;
  if (more.services !== undefined) {
    noted.services = more.services;
    const tracked = noted.observation?.tracked;
    if (tracked) tracked.services = more.services;
  }
}

/** What was noted of `req`. */
export function factsOf(req: object): RequestFacts {
  return notedOf(req) ?? {};
}

export interface RequestObserverParts {
  /** `endpointClassifier({ mountPath, entryPaths })`. */
  readonly classify: (method: string, path: string) => Endpoint;
  readonly metrics?: { recordRequest(request: RequestRecord): void };
  readonly statistics?: { begin(services?: readonly Service[]): TrackedRequest };
}

const NO_SERVICES: readonly Service[] = Object.freeze([]);

/**
 * `close` follows `finish` on every answer, and comes alone when the connection closed first: one
 * listener sees both, and `writableFinished` tells them apart. Shared by every answer (`this`).
 */
function recordAnswer(this: ServerResponse): void {
  const noted = notedOf(this.req) ?? answers.get(this);
  const observation = noted?.observation;
  if (!noted || !observation) return;
  const answered = this.writableFinished;
  const status = answered ? this.statusCode : undefined;
  observation.parts.metrics?.recordRequest({
    endpoint: observation.endpoint,
    status: status ?? 499,
    durationSeconds: (performance.now() - observation.started) / 1000,
    grantType: noted.grantType,
    error: noted.error,
    providerLegalId: noted.providerLegalId,
  });
  observation.tracked?.end({ services: noted.services ?? NO_SERVICES, status, cause: noted.cause });
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
    const noted = notesOf(req);
    if (noted.observation) {
      next?.();
      return;
    }
    const started = performance.now();
    const path = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const endpoint = parts.classify(req.method ?? '', path);
    if (endpoint === 'authorization') {
      const scope = queryScope(path);
      if (scope) noted.services = servicesOf({ scope });
    }
    noted.observation = new Observation(parts, endpoint, started, parts.statistics?.begin(noted.services ?? NO_SERVICES));
    if (res.req !== req) answers.set(res, noted);
    res.on('close', recordAnswer);
    next?.();
  };
}
