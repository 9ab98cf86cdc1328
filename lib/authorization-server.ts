/**
 * The composition root: builds the server's parts in the order data flows through them
 * (certificate → identity → policy → provider → storage), then the HTTP glue and the PSU pages on
 * top. Nothing here decides anything; each part's folder says what it decides.
 */
import type { IncomingMessage } from 'node:http';

import type { Router } from 'express';

import { MemoryStorage } from '../adapters/memory.js';
import { refusedFormPage } from '../interactions/refused-form.js';
import { PsuPages } from '../interactions/router.js';
import { auditProviderEvents } from './audit.js';
import { CertificateStatusPolicy } from './certificate-status.js';
import { anchorsOf } from './certificates/anchor-source.js';
import { CertificateVerifier, type TppIdentity } from './certificates/identity.js';
import { RevocationChecker } from './certificates/revocation/index.js';
import { StorageUnavailableError } from './errors.js';
import type { ServerEvents } from './events.js';
import { authorizationRouter } from './http/router.js';
import { introspectionAuthMethods } from './http/introspection-route.js';
import { TppGuard } from './http/tpp-guards.js';
import { wellKnownRouter } from './http/well-known.js';
import { stderrLogger, type Logger } from './logger.js';
import {
  createHealth, createMetrics, createStatistics, observeProviderEvents, observeStorage, watchExpiries, withInteractionId,
  type Health, type PsdStatistics, type ServerMetrics,
} from './observability/index.js';
import { createManagement } from './management.js';
import type { Management } from './management-types.js';
import { openApiDocument } from './openapi/index.js';
import { openApiRouter } from './openapi/routes.js';
import { resolveOptions, type AuthorizationServerOptions, type ResolvedOptions } from './options/index.js';
import { createPayments } from './payments/open.js';
import { PaymentRecords } from './payments/records.js';
import type { Payments } from './payments/types.js';
import { createProvider, stateOf, type ProviderAssembly } from './provider/index.js';
import { eventsOf, paymentRequests } from './provider/internals.js';
import { RequestIdentities, certificateSourceOf } from './request-identity.js';
import { ROUTES } from './routes.js';
import type { Storage } from './storage.js';
import { Suspensions } from './suspensions.js';
import { createTppRegister, type TppRegisterControl } from './tpp-register/index.js';
import { startTrustedLists, withTrustedLists, type TrustedLists } from './trusted-lists/index.js';

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
  /** The server's events (oidc-provider's): `provider.on('grant.success', (ctx) => …)`. */
  readonly provider: ServerEvents;
  /** The storage in use. */
  readonly storage: Storage;
  /** For the bank's own apps: a PSU's consents, their withdrawal, suspension of a TPP organization. */
  readonly management: Management;
  /** For the bank's payment API: the PSU's authorization of a payment initiation or cancellation. */
  readonly payments: Payments;
  /**
   * For the bank's own APIs (e.g. its payment API): the TPP of a request, by the certificate of its
   * connection (or of the trusted proxies' header), with the same checks as the token endpoint:
   * path validation, revocation status, suspension. Throws the product's `OAuthError`s
   * (`CertificateRejectedError`, 401 `invalid_client`, 503 `temporarily_unavailable`).
   */
  identifyTpp(req: IncomingMessage): Promise<TppIdentity>;
  /**
   * Prometheus metrics (prom-client): requests by endpoint, status class, grant type and RFC error,
   * latency, tokens, refreshes refused, registrations, PSU journey, certificate checks, storage.
   * Serve `metrics.registry` on a private listener, or merge it into the host's registry.
   */
  readonly metrics: ServerMetrics;
  /** Liveness and readiness (readiness fails while the storage cannot be reached). */
  readonly health: Health;
  /** The PSD2 availability and performance statistics (EBA/GL/2018/07), per UTC day and service. */
  readonly statistics: PsdStatistics;
  /** The register of TPP licences (the `tppRegister` option); undefined without one. */
  readonly tppRegister: TppRegisterControl | undefined;
  /**
   * The bank environment's EU trusted lists, when `environments.bank.trustedList` is set: when
   * the first reading is done, a reading on demand, the age of the set in use.
   */
  readonly trustedLists: TrustedLists | undefined;
  /** Stops the background work (revocation sweep, statistics flush, trusted-list refresh); the host closes its storage afterwards. */
  close(): Promise<void>;
}

/** How oidc-provider's errors reach a PSU's browser: as the pages' error page. */
function errorPages(pages: PsuPages): Pick<ProviderAssembly, 'renderErrorPage' | 'renderUnavailablePage'> {
  return {
    // Only the PSU's browser gets a page; API endpoints answer JSON whatever the Accept header says.
    renderErrorPage: async (ctx, out, error) => {
      if (ctx.oidc?.route === 'authorization' || ctx.oidc?.route === 'resume') {
        await pages.renderAuthorizationError(ctx, out, error, stateOf(ctx.req).entry);
        return;
      }
      ctx.type = 'application/json';
      ctx.body = { error: out.error, error_description: out.error_description ?? '' };
    },
    renderUnavailablePage: (ctx, error) => pages.renderAuthorizationError(ctx, new StorageUnavailableError('storage').toJSON(), error as Error, stateOf(ctx.req).entry),
  };
}

/** The metrics (fed by the storage, and counting down the expiries), the statistics and the health. */
function operationsParts(options: ResolvedOptions, storage: Storage, logger: Logger) {
  const metrics = createMetrics(options.metrics === false ? false : { ...options.metrics, now: options.now });
  observeStorage(storage, metrics);
  // The anchors as they are at each scrape: a trusted list changes them while the server runs.
  watchExpiries(metrics, { signingKeys: options.signingKeys.keys, anchors: () => options.environments.flatMap((environment) => anchorsOf(environment)) });
  const statistics = createStatistics({ storage, now: options.now, logger });
  const health = createHealth({ storage, metrics, logger });
  // storage_up is right from the start, not only after the first readiness probe.
  health.ready().catch(() => undefined);
  return { metrics, statistics, health };
}

/**
 * Creates the PSD2 authorization server: validates `options` (throwing a ConfigurationError that
 * names the option) and returns an Express router to mount under the issuer's path.
 */
export function createAuthorizationServer(input: AuthorizationServerOptions): AuthorizationServer {
  const options = resolveOptions(input);
  // Every log line written while a request is handled carries its x-fapi-interaction-id.
  const logger = withInteractionId(options.logger ?? stderrLogger);
  const storage: Storage = options.storage ?? new MemoryStorage();
  const { metrics, statistics, health } = operationsParts(options, storage, logger);

  // Certificate → identity → policy.
  const source = certificateSourceOf(options);
  const trustedLists = startTrustedLists(options.trustedList, { storage, now: options.now, logger, metrics, health });
  const identities = new RequestIdentities(new CertificateVerifier(withTrustedLists(options.environments, trustedLists), options.now), source);
  const { revocation } = options;
  const observer = { lookup: metrics.recordRevocationLookup.bind(metrics), cacheLookup: metrics.recordCacheLookup.bind(metrics) };
  const revocationChecker = new RevocationChecker(storage, revocation, { now: options.now, logger, observer });
  const certificateStatus = new CertificateStatusPolicy(revocationChecker, revocation, logger);
  if (revocation.sweepInterval > 0 && options.environments.some((environment) => certificateStatus.checks(environment.name))) {
    revocationChecker.startSweep(revocation.sweepInterval);
  }
  const suspensions = new Suspensions(storage, options, (hit) => metrics.recordCacheLookup('suspensions', hit));
  const isSuspended = (organization: string): Promise<boolean> => suspensions.isSuspended(organization);
  const guard = new TppGuard({ identities, certificateStatus, suspensions, logger, metrics });
  const tppRegister = createTppRegister(options, storage, logger, metrics);

  // Provider, with the payment records it checks links against and the pages it renders errors with.
  const paymentRecords = new PaymentRecords(storage, options, logger);
  const pages = new PsuPages(options, storage, logger, isSuspended, paymentRecords, metrics);
  const provider = createProvider(options, storage, {
    identities,
    isSuspended,
    payments: paymentRecords,
    ...(tppRegister ? { licences: tppRegister.licences } : {}),
    logger,
    recordRevocation: (kind) => metrics.recordRevocation(kind),
    metadata: {
      introspectionEndpoint: `${options.issuer}${ROUTES.introspection}`,
      introspectionAuthMethods: introspectionAuthMethods(options),
      languages: options.pages.languages,
    },
    ...errorPages(pages),
  });
  const payments = createPayments({ records: paymentRecords, requests: paymentRequests(provider), options, logger, isSuspended });
  const whenStored = (ctx: { req: IncomingMessage }, action: () => void): void => {
    const onceStored = stateOf(ctx.req).onceStored;
    if (onceStored) onceStored.push(action);
    else action();
  };
  auditProviderEvents(provider, logger, whenStored);
  observeProviderEvents(eventsOf(provider), metrics, whenStored);
  const management = createManagement({
    provider, storage, suspensions, options, logger, metrics, statistics, ...(tppRegister ? { onReinstated: (organization: string) => tppRegister.reinstated(organization) } : {}),
  });

  // HTTP glue on top.
  const router = authorizationRouter({
    options,
    provider,
    logger,
    metrics,
    statistics,
    guard,
    source,
    suspensions,
    certificateStatus,
    pages: pages.router(provider),
    documents: openApiRouter(openApiDocument(options), options.mountPath),
    refusedFormPage: (req, path, error) => refusedFormPage(options, req, path, error),
  });
  return {
    router,
    wellKnown: wellKnownRouter(options.mountPath, router),
    provider: eventsOf(provider),
    storage,
    management,
    payments,
    identifyTpp: (req) => guard.identify(req),
    metrics,
    health,
    statistics,
    tppRegister: tppRegister?.start(management),
    trustedLists,
    close: async () => {
      await Promise.all([tppRegister?.close(), trustedLists?.close()]);
      await revocationChecker.close();
      await statistics.close();
    },
  };
}
