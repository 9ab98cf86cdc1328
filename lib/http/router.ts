/**
 * The Express router a bank mounts under the issuer's path: the order in which a request meets the
 * server's parts, from body limits to oidc-provider.
 */
import type { IncomingMessage } from 'node:http';

import express, { type Request, type Router } from 'express';
import type Provider from 'oidc-provider';

import { bodyLimitOf, limitBodies } from '../body-limits.js';
import { NotFoundError, errorAnswer, sendError, type Answer, type OAuthError } from '../errors.js';
import type { Logger } from '../logger.js';
import { endpointClassifier, interactionIdMiddleware, requestObserver, type PsdStatistics, type ServerMetrics } from '../observability/index.js';
import type { ResolvedOptions } from '../options/index.js';
import { INTERACTION_PATH, PUSHED_REQUEST_PATH, ROUTES } from '../routes.js';
import { expressErrors, guarded } from './express-errors.js';
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
  const { options, provider, logger, guard } = parts;
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
  router.use((req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? parts.documents(req, res, next) : next()));
  router.all(PUSHED_REQUEST_PATH, (req, res) => {
    sendError(res, new NotFoundError(`there is no endpoint at ${req.method} ${mountPath}${PUSHED_REQUEST_PATH}: payment authorizations are opened by the bank's payment API`));
  });
  const requireTpp = guarded(guard.requireTpp, logger);
  const authorizeManagement = guarded(guard.authorizeManagement(provider), logger);
  router.post(ROUTES.registration, requireTpp);
  router.get(`${ROUTES.registration}/:clientId`, authorizeManagement);
  router.put(`${ROUTES.registration}/:clientId`, authorizeManagement);
  router.delete(`${ROUTES.registration}/:clientId`, authorizeManagement);
  router.post([ROUTES.token, ROUTES.revocation], requireTpp);
  router.post(ROUTES.introspection, ...introspection(parts));
  router.use(oidc);
  router.use(expressErrors(logger));
  return router;
}
