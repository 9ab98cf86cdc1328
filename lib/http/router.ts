/**
 * The Express router a bank mounts under the issuer's path: the order in which a request meets the
 * server's parts, from body limits to oidc-provider.
 */
import type { IncomingMessage } from 'node:http';

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type Provider from 'oidc-provider';

import { bodyLimitOf, limitBodies } from '../body-limits.js';
import { NotFoundError, errorAnswer, sendError, type Answer, type OAuthError } from '../errors.js';
import type { Logger } from '../logger.js';
import { endpointClassifier, interactionIdMiddleware, requestObserver, type PsdStatistics, type ServerMetrics } from '../observability/index.js';
import type { ResolvedOptions } from '../options/index.js';
import { DOCUMENT_PATHS, INTERACTION_PATH, PUSHED_REQUEST_PATH, ROUTES } from '../routes.js';
import { expressErrors, guarded, type Handler } from './express-errors.js';
import { introspection, type IntrospectionParts } from './introspection-route.js';
import { normaliseRequests } from './normalise.js';
import type { TppGuard } from './tpp-guards.js';

export interface RouterParts extends IntrospectionParts {
  readonly options: ResolvedOptions;
  readonly provider: Provider;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  readonly statistics: PsdStatistics;
  readonly guard: TppGuard;
  /** The PSU pages, mounted at {@link INTERACTION_PATH}. */
  readonly pages: Router;
  /** The OpenAPI document and its human view. */
  readonly documents: Router;
  /** The page a PSU's browser gets when its form is refused before it is read. */
  refusedFormPage(req: IncomingMessage, path: string, error: OAuthError): Answer;
}

export function authorizationRouter(parts: RouterParts): Router {
  const { options, provider, logger } = parts;
  const { mountPath } = options;
  const callback = provider.callback();
  const oidc = (req: IncomingMessage, res: Parameters<typeof callback>[1]): void => {
    callback(req, res);
  };
  // Every answer tells browsers to come back over HTTPS only (RFC 6797).
  const strictTransportSecurity = `max-age=31536000${options.strictTransportSecurity.includeSubDomains ? '; includeSubDomains' : ''}`;
  // Bodies bounded per endpoint (BODY_LIMITS) before anything reads one.
  const bodies = limitBodies<Request>(
    (req, error, page) => (page ? parts.refusedFormPage(req, req.path, error) : errorAnswer(error)),
    (req) => bodyLimitOf(req.method, req.path),
  );
  const normalise = normaliseRequests(options, logger, oidc);
  const interactionId = interactionIdMiddleware();
  const observe = requestObserver({
    classify: endpointClassifier({ mountPath, entryPaths: [options.sandbox?.entryPath, options.bank?.entryPath].filter((path): path is string => path !== undefined) }),
    metrics: parts.metrics,
    statistics: parts.statistics,
  });

  const router = express.Router();
  // One middleware for what every request goes through (each Express layer costs a little).
  router.use((req, res, next) => {
    res.setHeader('Strict-Transport-Security', strictTransportSecurity);
    // The interaction id first (every answer and log line carries it), then the request observed.
    interactionId(req, res, () => observe(req, res, () => {
      bodies(req, res, (error?: unknown) => (error === undefined ? normalise(req, res, next) : next(error)));
    }));
  });
  router.use(INTERACTION_PATH, parts.pages);
  // Every other path in one layer, chosen by its path: each Express route layer would match its
  // pattern against every request that passes it.
  router.use(endpointDispatch(parts, oidc));
  router.use(expressErrors(logger));
  return router;
}

type Step = (req: Request, res: Response, next: NextFunction) => unknown;

/** Runs `handlers` one after the other, as an Express route would: each calls `next` to go on. */
function chain(handlers: readonly Step[], last: (req: Request, res: Response) => void): Handler {
  const run = (index: number, req: Request, res: Response, next: NextFunction): void => {
    const handler = handlers[index];
    if (!handler) {
      last(req, res);
      return;
    }
    Promise.resolve(handler(req, res, (error?: unknown) => (error === undefined ? run(index + 1, req, res, next) : next(error)))).catch(next);
  };
  return (req, res, next) => run(0, req, res, next);
}

const DOCUMENTS = new Set<string>(Object.values(DOCUMENT_PATHS));
const MANAGEMENT_PREFIX = `${ROUTES.registration}/`;

/**
 * The endpoints' guards in front of oidc-provider, by method and path (relative to the mount path,
 * matched as Express routes match: without regard to case or a trailing slash).
 */
function endpointDispatch(parts: RouterParts, oidc: (req: Request, res: Response) => void): Handler {
  const { options, provider, logger, guard } = parts;
  const requireTpp = chain([guarded(guard.requireTpp, logger)], oidc);
  const authorizeManagement = chain([guarded(guard.authorizeManagement(provider), logger)], oidc);
  const introspect = chain(introspection(parts), oidc);
  return (req: Request, res: Response, next: NextFunction): void => {
    const method = req.method;
    const path = req.path.toLowerCase();
    const route = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    if ((method === 'GET' || method === 'HEAD') && DOCUMENTS.has(route)) {
      parts.documents(req, res, () => oidc(req, res));
    } else if (route === PUSHED_REQUEST_PATH) {
      sendError(res, new NotFoundError(`there is no endpoint at ${method} ${options.mountPath}${PUSHED_REQUEST_PATH}: payment authorizations are opened by the bank's payment API`));
    } else if (method === 'POST' && (route === ROUTES.token || route === ROUTES.revocation || route === ROUTES.registration)) {
      requireTpp(req, res, next);
    } else if (method === 'POST' && route === ROUTES.introspection) {
      introspect(req, res, next);
    } else if ((method === 'GET' || method === 'HEAD' || method === 'PUT' || method === 'DELETE') && route.startsWith(MANAGEMENT_PREFIX) && !route.includes('/', MANAGEMENT_PREFIX.length)) {
      const raw = req.path.slice(MANAGEMENT_PREFIX.length).replace(/\/$/, '');
      let clientId: string;
      try {
        clientId = decodeURIComponent(raw);
      } catch (error) {
        next(Object.assign(error as Error, { status: 400 }));
        return;
      }
      req.params = { clientId };
      authorizeManagement(req, res, next);
    } else {
      oidc(req, res);
    }
  };
}
