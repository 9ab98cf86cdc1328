import type { IncomingMessage, ServerResponse } from 'node:http';

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

import { MemoryStorage } from '../adapters/memory.js';
import { PsuPages, isUnavailable } from '../interactions/router.js';
import { refusedFormPage } from '../interactions/refused-form.js';
import type { Storage } from './storage.js';
import { bodyLimitOf, limitBodies, type Answer } from './body-limits.js';
import { CertificateVerifier, type EnvironmentName, type TppIdentity } from './certificates/identity.js';
import { RevocationChecker } from './certificates/revocation/index.js';
import { CertificateStatusPolicy } from './certificate-status.js';
import type { CertificateSource } from './certificates/extract.js';
import { InvalidClientError, InvalidRequestError, InvalidTokenError, NotFoundError, OAuthError, ServerError, StorageUnavailableError } from './errors.js';
import { stderrLogger, type Logger } from './logger.js';
import { resolveOptions, type AuthorizationServerOptions } from './options/index.js';
import { ROUTES, createProvider, type EntryPage } from './provider.js';
import { SCOPES } from './psd2/scopes.js';
import { INVALID_REFRESH_TOKEN, REFRESH_TOKEN_EXPIRED } from './psd2/tokens.js';
import { RequestIdentities, certificateSourceOf } from './request-identity.js';
import { INTERACTION_PATH, PUSHED_REQUEST_PATH, entryPattern, isReservedPath } from './routes.js';
import { auditProviderEvents } from './audit.js';
import { ResourceServerAuthentication, introspect } from './introspection.js';
import { createManagement, type Management } from './management.js';
import { openApiDocument } from './openapi/index.js';
import { openApiRouter } from './openapi/routes.js';
import { registrationAnswer } from './registration/answer.js';
import { addClientIdToUpdate } from './registration/update-body.js';
import { PaymentAuthorizations, type Payments } from './payments/service.js';

/** What {@link createAuthorizationServer} returns. */
export interface AuthorizationServer {
  /** Express router to mount where the issuer URL points, e.g. `app.use('/oauth2', router)`. */
  readonly router: Router;
  /**
   * Express router the host mounts at its site root, `app.use(wellKnown)`: it answers
   * `GET /.well-known/oauth-authorization-server{issuer path}`, where RFC 8414 §3.1 clients
   * (oauth4webapi, openid-client in `oauth2` mode) look for the metadata of an issuer with a path,
   * with the same document as `{issuer}/.well-known/oauth-authorization-server`; it passes every
   * other request on. Nothing to mount when the issuer has no path.
   */
  readonly wellKnown: Router;
  /** The underlying oidc-provider instance, for its events (`provider.on('grant.success', …)`). */
  readonly provider: Provider;
  /** The storage in use. */
  readonly storage: Storage;
  /** For the bank's own apps: a PSU's consents, their withdrawal, suspension of a TPP organization. */
  readonly management: Management;
  /** For the bank's payment API: the PSU's authorization of a payment initiation or cancellation. */
  readonly payments: Payments;
  /** Stops the background work (the revocation sweep); the host closes its storage afterwards. */
  close(): Promise<void>;
}

/** Path of the RFC 8414 metadata document under the issuer. */
const METADATA_PATH = '/.well-known/oauth-authorization-server';

/** OpenID Connect fields of oidc-provider's discovery document that a pure OAuth 2 server omits. */
const OIDC_ONLY_METADATA = [
  'claims_parameter_supported',
  'claims_supported',
  'claim_types_supported',
  'id_token_signing_alg_values_supported',
  'subject_types_supported',
  'request_parameter_supported',
  'request_uri_parameter_supported',
  'require_request_uri_registration',
  // Pushed authorization requests are the payment API's, made in process.
  'pushed_authorization_request_endpoint',
  'require_pushed_authorization_requests',
] as const;

/** The one rendering of an error for API callers: its status and `{ error, error_description }`. */
function errorAnswer(error: OAuthError): Answer {
  return {
    status: error.status,
    headers: {
      ...(error.status === 503 ? { 'Retry-After': '30' } : {}),
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
    },
    body: JSON.stringify(error),
  };
}

function sendError(res: ServerResponse, error: OAuthError): void {
  const answer = errorAnswer(error);
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.end(answer.body);
}

type EphemeralTokenClass = new (payload: { clientId: string; expiresIn: number }) => { save(): Promise<string> };

type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void> | void;

/**
 * Token endpoint errors in the words clients rely on: RFC 6749 §5.2's `unauthorized_client` for a
 * grant type the client may not use, and the stable refresh texts of DESIGN 3.5 (oidc-provider says
 * "grant request is invalid" whatever the cause).
 */
function restateTokenError(ctx: KoaContextWithOIDC, error: (Error & { error_detail?: string }) | undefined): void {
  const body = ctx.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return;
  const grantType = String(ctx.oidc.params?.grant_type ?? '');
  if (body.error === 'invalid_request' && body.error_description === 'requested grant type is not allowed for this client') {
    body.error = 'unauthorized_client';
    body.error_description = grantType === 'client_credentials'
      ? 'only payment initiation clients (PSP_PI role, pisp scope) may use the client_credentials grant'
      : `this client is not registered for the ${grantType} grant`;
    return;
  }
  if (grantType === 'refresh_token' && body.error === 'invalid_grant' && body.error_description !== REFRESH_TOKEN_EXPIRED) {
    body.error_description = error?.error_detail === 'refresh token is expired' ? REFRESH_TOKEN_EXPIRED : INVALID_REFRESH_TOKEN;
  }
}

/**
 * The storage did not answer: API callers get `503 temporarily_unavailable` (RFC 6749 §4.1.2.1's
 * code, with Retry-After), and a PSU already on its way back to the TPP carries that code.
 */
function reportUnavailable(ctx: KoaContextWithOIDC): void {
  const unavailable = new StorageUnavailableError('storage');
  const location = ctx.response.get('location');
  if (location && ctx.status >= 300 && ctx.status < 400) {
    const url = new URL(location);
    for (const params of [url.searchParams, new URLSearchParams(url.hash.slice(1))]) {
      if (params.get('error') !== 'server_error') continue;
      params.set('error', unavailable.error);
      params.set('error_description', unavailable.error_description);
      if (params !== url.searchParams) url.hash = params.toString();
    }
    ctx.redirect(url.href);
    return;
  }
  if (ctx.body && typeof ctx.body === 'object' && (ctx.body as { error?: unknown }).error === 'server_error') {
    ctx.status = 503;
    ctx.set('Retry-After', '30');
    ctx.body = unavailable.toJSON();
  }
}

/**
 * oidc-provider trips over some metadata values of the wrong type (an object where a string is
 * due) before checking their type: that is the TPP's mistake, `400 invalid_client_metadata`.
 */
function refuseMistypedMetadata(ctx: KoaContextWithOIDC, error: unknown): void {
  const route = ctx.oidc?.route;
  if (ctx.status !== 500 || !(error instanceof TypeError) || (route !== 'registration' && route !== 'client_update')) return;
  ctx.status = 400;
  ctx.body = { error: 'invalid_client_metadata', error_description: 'a client metadata value has the wrong type' };
}

/**
 * RFC 7009 §2.2.1: only access and refresh tokens are revoked here; an authorization code or a
 * registration access token presented for revocation is `unsupported_token_type`.
 */
async function refuseUnrevocable(ctx: KoaContextWithOIDC): Promise<void> {
  const { entities, params, provider } = ctx.oidc;
  if (entities.AccessToken || entities.RefreshToken || entities.ClientCredentials) return;
  const value = params?.token;
  if (typeof value !== 'string' || !value) return;
  const found = await provider.AuthorizationCode.find(value) ?? await provider.RegistrationAccessToken.find(value);
  // Another client's code is not even acknowledged: 200, as for an unknown token.
  if (!found || found.clientId !== ctx.oidc.client?.clientId) return;
  ctx.status = 400;
  ctx.body = { error: 'unsupported_token_type', error_description: 'only access tokens and refresh tokens can be revoked' };
}

/**
 * Creates the PSD2 authorization server: validates `options` (throwing a ConfigurationError that
 * names the option) and returns an Express router to mount under the issuer's path.
 */
export function createAuthorizationServer(input: AuthorizationServerOptions): AuthorizationServer {
  const options = resolveOptions(input);
  const logger: Logger = options.logger ?? stderrLogger;
  const storage: Storage = options.storage ?? new MemoryStorage();
  const source: CertificateSource = certificateSourceOf(options);
  const identities = new RequestIdentities(new CertificateVerifier(options.environments, options.now), source);
  const { revocation } = options;
  const revocationChecker = new RevocationChecker(storage, {
    maxAge: revocation.maxAge,
    unreachableTtl: revocation.unreachableTtl,
    timeout: revocation.timeout,
  }, { now: options.now, logger });
  const certificateStatus = new CertificateStatusPolicy(revocationChecker, { sandbox: revocation.sandbox, bank: revocation.bank }, logger);
  if (revocation.sweepInterval > 0 && options.environments.some((environment) => certificateStatus.checks(environment.name))) {
    revocationChecker.startSweep(revocation.sweepInterval);
  }
  const entryPages = new WeakMap<IncomingMessage, EntryPage>();
  // Called only once requests arrive, after `management` below exists.
  const isSuspended = (organization: string): Promise<boolean> => management.isSuspended(organization);
  const pages = new PsuPages(options, storage, logger, isSuspended, () => payments);
  const provider = createProvider(options, storage, {
    identities,
    isSuspended,
    entryOf: (req) => entryPages.get(req),
    payments: () => payments,
    // Only the PSU's browser gets a page; API endpoints answer JSON whatever the Accept header says.
    renderErrorPage: async (ctx, out, error) => {
      if (ctx.oidc?.route === 'authorization' || ctx.oidc?.route === 'resume') {
        await pages.renderAuthorizationError(ctx, out, error, entryPages.get(ctx.req));
        return;
      }
      ctx.type = 'application/json';
      ctx.body = { error: out.error, error_description: out.error_description ?? '' };
    },
  });
  const management = createManagement(provider, storage, options, logger);
  const payments = new PaymentAuthorizations(provider, storage, options, logger, { isSuspended });
  /** What a request does once its writes are stored (audit lines of what it issued), by request. */
  const storedActions = new WeakMap<KoaContextWithOIDC, (() => void)[]>();
  auditProviderEvents(provider, logger, (ctx, action) => {
    const actions = storedActions.get(ctx);
    if (actions) actions.push(action);
    else action();
  });
  const { mountPath } = options;
  const ephemeralTokens = new WeakMap<IncomingMessage, string>();
  const grantErrors = new WeakMap<object, Error & { error_detail?: string }>();
  provider.on('grant.error', (ctx: object, error: Error) => {
    grantErrors.set(ctx, error);
  });
  const serverErrors = new WeakMap<object, unknown>();
  provider.on('server_error', (ctx: object, error: Error) => {
    serverErrors.set(ctx, error);
  });
  const entries = [
    ...(options.sandbox ? [{ environment: 'sandbox' as const, pattern: entryPattern(options.sandbox.entryPath) }] : []),
    ...(options.bank ? [{ environment: 'bank' as const, pattern: entryPattern(options.bank.entryPath) }] : []),
  ];

  const guarded = (handler: Handler): Handler => async (req, res, next) => {
    try {
      await handler(req, res, next);
    } catch (error) {
      if (error instanceof OAuthError) {
        if (error.status >= 500) logger.error({ err: error.cause ?? error }, 'request failed');
        else if (error.name === 'CertificateRejectedError') {
          logger.warn({ event: 'certificate.rejected', reason: (error as { reason?: string }).reason, peer: req.socket.remoteAddress, path: req.originalUrl }, error.error_description);
        }
        sendError(res, error);
        return;
      }
      logger.error({ err: error }, 'request failed');
      sendError(res, new ServerError());
    }
  };

  /** A TPP certificate is required, of an organization the bank has not suspended. */
  const requireTpp = async (req: Request): Promise<TppIdentity> => {
    const identity = identities.require(req);
    await certificateStatus.require(identity);
    if (await isSuspended(identity.organizationIdentifier)) {
      logger.warn({ event: 'organization.refused', organization: identity.organizationIdentifier, path: req.originalUrl }, 'request of a suspended TPP refused');
      throw new InvalidClientError(`the bank has suspended ${identity.organizationIdentifier}`);
    }
    return identity;
  };

  const requireCertificate: Handler = async (req, _res, next) => {
    await requireTpp(req);
    next();
  };

  /**
   * RFC 7592 management: only the organization and environment that own a client may manage it.
   * Deployed TPP clients authenticate with mutual TLS alone, so a call without a registration
   * access token gets one for the duration of the request (never shown to the caller).
   */
  const authorizeManagement: Handler = async (req, _res, next) => {
    const identity: TppIdentity = await requireTpp(req);
    const clientId = String(req.params.clientId);
    const client = await provider.Client.find(clientId);
    if (!client) throw new InvalidTokenError('no client is registered under this registration_client_uri');
    const metadata = client.metadata() as Record<string, unknown>;
    if (metadata.provider_legal_id !== identity.organizationIdentifier || metadata.psd2_environment !== identity.environment) {
      logger.warn({ event: 'registration.foreign_certificate', clientId, organization: identity.organizationIdentifier }, 'client managed with another organization\'s certificate');
      throw new InvalidTokenError('the client certificate does not belong to the organization and environment that registered this client');
    }
    if (!req.headers.authorization) {
      const RegistrationAccessToken = provider.RegistrationAccessToken as unknown as EphemeralTokenClass;
      const token = new RegistrationAccessToken({ clientId, expiresIn: 60 });
      const value = await token.save();
      ephemeralTokens.set(req, value);
      req.headers.authorization = `Bearer ${value}`;
    }
    if (req.method === 'PUT') await addClientIdToUpdate(req, clientId);
    next();
  };

  /** oidc-provider's registration, read and update routes, whose answers keep the reference bank's shape. */
  const REGISTRATION_ANSWERS = new Set(['registration', 'client', 'client_update']);

  /** One request through oidc-provider and what the server adds to its answer. */
  const handleProvider = async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> => {
    const ephemeral = ephemeralTokens.get(ctx.req);
    try {
      await next();
    } finally {
      if (ephemeral) {
        const body = ctx.body as Record<string, unknown> | undefined;
        if (body && body.registration_access_token === ephemeral) delete body.registration_access_token;
        // It expires within a minute anyway when the storage cannot be reached now.
        await (await provider.RegistrationAccessToken.find(ephemeral).catch(() => undefined))?.destroy().catch(() => undefined);
      }
    }
    if (REGISTRATION_ANSWERS.has(String(ctx.oidc?.route)) && ctx.status < 300 && typeof ctx.body === 'object' && ctx.body !== null && !Buffer.isBuffer(ctx.body)) {
      ctx.body = registrationAnswer(ctx.body as Record<string, unknown>);
    }
    if (isUnavailable(serverErrors.get(ctx))) {
      reportUnavailable(ctx);
      return;
    }
    refuseMistypedMetadata(ctx, serverErrors.get(ctx));
    await afterProvider(ctx);
  };

  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    const onceStored: (() => void)[] = [];
    storedActions.set(ctx, onceStored);
    try {
      // The request's writes go out together; its answer leaves once all of them are stored.
      await (storage.batch ? storage.batch(() => handleProvider(ctx, next)) : handleProvider(ctx, next));
      for (const action of onceStored) action();
    } catch (error) {
      // oidc-provider saves the session after its own error handling, and a pipelined write fails
      // after the answer is made: such storage failures reach this far.
      if (!isUnavailable(error)) throw error;
      logger.error({ err: error, event: 'storage.unavailable', path: ctx.path }, 'the storage could not be reached');
      await answerUnavailable(ctx, error);
    }
  });

  /** A PSU's browser gets the page asking to try again; API callers the 503 JSON error. */
  const answerUnavailable = async (ctx: KoaContextWithOIDC, error: unknown): Promise<void> => {
    const unavailable = new StorageUnavailableError('storage');
    ctx.remove('Location');
    if (ctx.oidc?.route === 'authorization' || ctx.oidc?.route === 'resume') {
      await pages.renderAuthorizationError(ctx, unavailable.toJSON(), error as Error, entryPages.get(ctx.req));
      return;
    }
    ctx.status = 503;
    ctx.set('Retry-After', '30');
    ctx.body = unavailable.toJSON();
  };

  /** What the server adds to oidc-provider's answers, once they are made. */
  const afterProvider = async (ctx: KoaContextWithOIDC): Promise<void> => {
    const route = ctx.oidc?.route;
    // The browser session served only this authorization: every authorization asks for a fresh
    // sign-in, and a session left behind would meet the next PSU of the same browser.
    if (route === 'resume' && ctx.oidc.session?.accountId) await ctx.oidc.session.destroy();
    if (route === 'token' && ctx.status === 400) restateTokenError(ctx, grantErrors.get(ctx));
    // The reference bank's spelling, which some deployed clients compare case-sensitively;
    // RFC 6749 §5.1 makes the value case-insensitive for standard clients.
    if (route === 'token' && ctx.status === 200 && (ctx.body as { token_type?: unknown } | undefined)?.token_type === 'Bearer') {
      (ctx.body as { token_type: string }).token_type = 'bearer';
    }
    if (route === 'revocation' && ctx.status === 200) {
      await refuseUnrevocable(ctx);
      const { entities } = ctx.oidc;
      const kind = entities.RefreshToken ? 'refresh_token' : entities.AccessToken ? 'access_token' : entities.ClientCredentials ? 'client_credentials' : undefined;
      if (kind && ctx.status === 200) logger.info({ event: 'token.revoked', clientId: ctx.oidc.client?.clientId, kind }, 'token revoked by its client');
    }
    if (route === 'client_delete' && ctx.status === 204) {
      const clientId = String(ctx.oidc.params?.clientId ?? ctx.oidc.client?.clientId ?? '');
      await storage.removeClient(ctx.oidc.client?.clientId ?? clientId);
    }
    if (route === 'discovery' && ctx.body && typeof ctx.body === 'object') {
      const metadata = ctx.body as Record<string, unknown>;
      for (const field of OIDC_ONLY_METADATA) delete metadata[field];
      metadata.scopes_supported = [...SCOPES];
      metadata.revocation_endpoint_auth_methods_supported = ['tls_client_auth'];
      // RFC 8414 §2: published for discovery; only the bank's resource servers authenticate there.
      metadata.introspection_endpoint = `${options.issuer}${ROUTES.introspection}`;
      if (introspectionAuthMethods.length) metadata.introspection_endpoint_auth_methods_supported = introspectionAuthMethods;
      metadata.ui_locales_supported = [...options.pages.languages];
    }
    if (ctx.status === 404 && !ctx.body) {
      const error = new NotFoundError(`there is no endpoint at ${ctx.method} ${mountPath}${ctx.path}`);
      ctx.status = 404;
      ctx.body = error.toJSON();
    }
  };

  // RFC 8705 §2.2 names a certificate pinned by its thumbprint `self_signed_tls_client_auth`.
  const introspectionAuthMethods = [
    ...(options.resourceServers.some((server) => server.secret) ? ['client_secret_basic'] : []),
    ...(options.resourceServers.some((server) => server.certificateThumbprints) ? ['self_signed_tls_client_auth'] : []),
  ];
  const router = express.Router();
  const callback = provider.callback();
  const issuerUrl = new URL(options.issuer);
  let mountChecked = false;

  // Before anything reads a body: bodies bounded per endpoint (BODY_LIMITS), and every answer tells
  // browsers to come back over HTTPS only (RFC 6797).
  const strictTransportSecurity = `max-age=31536000${options.strictTransportSecurity.includeSubDomains ? '; includeSubDomains' : ''}`;
  const bodies = limitBodies<Request>(
    (req, error, page) => (page ? refusedFormPage(options, req, req.path, error) : errorAnswer(error)),
    (req) => bodyLimitOf(req.method, req.path),
  );
  /** What every request goes through once its body is within bounds. */
  const prepare = (req: Request, res: Response, next: NextFunction): void => {
    // No endpoint answers OPTIONS (no CORS: TPPs call from servers, PSUs through navigation);
    // oidc-provider's 404 keeps Express from answering it for the routes below.
    if (req.method === 'OPTIONS') {
      callback(req, res);
      return;
    }
    // Published URLs derive from the issuer, never from what a client put in Host or X-Forwarded-*.
    if (!mountChecked) {
      mountChecked = true;
      if (req.baseUrl !== mountPath) {
        logger.error({ event: 'configuration.mount_path', mountedAt: req.baseUrl, issuerPath: mountPath }, 'the router is mounted at another path than the issuer\'s: mount it at the issuer\'s path');
      }
    }
    req.headers.host = issuerUrl.host;
    if (options.trustProxy) {
      req.headers['x-forwarded-host'] = issuerUrl.host;
      req.headers['x-forwarded-proto'] = 'https';
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && req.path === METADATA_PATH) {
      req.url = '/.well-known/openid-configuration';
    } else if (req.method === 'GET' && !isReservedPath(req.path)) {
      // The bank's published entry URLs are the authorization endpoint, for one environment and
      // language. Endpoints always come first, whatever an entry path's {lang} could match.
      for (const entry of entries) {
        const match = entry.pattern.exec(req.path);
        if (!match) continue;
        entryPages.set(req, { environment: entry.environment, language: match[1] });
        const query = req.url.indexOf('?');
        req.url = ROUTES.authorization + (query >= 0 ? req.url.slice(query) : '');
        break;
      }
    }
    next();
  };
  // One middleware for what every request goes through (each Express layer costs a little).
  router.use((req, res, next) => {
    res.setHeader('Strict-Transport-Security', strictTransportSecurity);
    bodies(req, res, (error?: unknown) => (error === undefined ? prepare(req, res, next) : next(error)));
  });
  router.use(INTERACTION_PATH, pages.router(provider));
  const documents = openApiRouter(openApiDocument(options), mountPath);
  router.use((req, res, next) => (req.method === 'GET' || req.method === 'HEAD' ? documents(req, res, next) : next()));
  router.all(PUSHED_REQUEST_PATH, (req, res) => {
    sendError(res, new NotFoundError(`there is no endpoint at ${req.method} ${mountPath}${PUSHED_REQUEST_PATH}: payment authorizations are opened by the bank's payment API`));
  });
  router.post(ROUTES.registration, guarded(requireCertificate));
  router.get(`${ROUTES.registration}/:clientId`, guarded(authorizeManagement));
  router.put(`${ROUTES.registration}/:clientId`, guarded(authorizeManagement));
  router.delete(`${ROUTES.registration}/:clientId`, guarded(authorizeManagement));
  router.post([ROUTES.token, ROUTES.revocation], guarded(requireCertificate));
  const resourceServers = new ResourceServerAuthentication(options.resourceServers, source);
  router.post(ROUTES.introspection, express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 }), guarded(async (req, res) => {
    let server;
    try {
      server = resourceServers.authenticate(req);
    } catch (error) {
      res.setHeader('WWW-Authenticate', 'Basic realm="introspection", charset="UTF-8"');
      const reason = error instanceof OAuthError ? error.error_description : undefined;
      logger.warn({ event: 'introspection.refused', peer: req.socket.remoteAddress, path: req.originalUrl, reason }, 'introspection refused: not a resource server');
      throw error;
    }
    let answer = await introspect(provider, options, (req.body as Record<string, unknown> | undefined)?.token);
    if (answer.active && answer.provider_legal_id && await isSuspended(answer.provider_legal_id)) answer = { active: false };
    const bound = answer.active ? answer.cnf?.['x5t#S256'] : undefined;
    if (answer.active && bound && await certificateStatus.knownRevoked(bound, answer.psd2_environment as EnvironmentName | undefined)) {
      logger.info({ event: 'token.certificate_revoked', clientId: answer.client_id, thumbprint: bound }, 'token inactive: the certificate it is bound to is revoked');
      answer = { active: false };
    }
    logger.info({ event: 'token.introspected', resourceServer: server.id, active: answer.active, clientId: answer.active ? answer.client_id : undefined }, 'token introspected');
    res.set('Cache-Control', 'no-store').json(answer);
  }));
  router.use((req, res) => {
    callback(req, res);
  });
  // Errors raised by Express itself (e.g. a path parameter with broken percent-encoding).
  router.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(res, new InvalidRequestError(
        error instanceof URIError ? 'the request path holds malformed percent-encoding' : 'the request could not be understood',
        status,
      ));
      return;
    }
    logger.error({ err: error, path: req.originalUrl }, 'request failed');
    sendError(res, new ServerError());
  });

  // RFC 8414 §3.1 inserts the well-known segment before the issuer's path: that URL lies outside
  // the router's mount path, so the host mounts this one at its root. It hands the request to the
  // router as if it had come for the metadata under the mount path, so one document exists.
  const wellKnown = express.Router();
  const insertedPath = `${METADATA_PATH}${mountPath}`;
  wellKnown.use((req, res, next) => {
    if (!mountPath || (req.method !== 'GET' && req.method !== 'HEAD') || req.path !== insertedPath) {
      next();
      return;
    }
    const { url, baseUrl } = req;
    const query = url.indexOf('?');
    req.url = METADATA_PATH + (query >= 0 ? url.slice(query) : '');
    req.baseUrl = mountPath;
    router(req, res, (error?: unknown) => {
      req.url = url;
      req.baseUrl = baseUrl;
      next(error);
    });
  });

  return { router, wellKnown, provider, storage, management, close: async () => revocationChecker.close(), payments: {
    openInitiation: (request) => payments.openInitiation(request),
    openCancellation: (request) => payments.openCancellation(request),
    statusOf: (id) => payments.statusOf(id),
  } };
}
