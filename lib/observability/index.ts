/**
 * Observability: Prometheus metrics, liveness and readiness, `x-fapi-interaction-id`, errors fit
 * for logs, and the PSD2 availability and performance statistics (EBA/GL/2018/07). Each part
 * stands alone; the composition root and the HTTP glue wire them in, as follows.
 *
 * Composition root (`createAuthorizationServer`), once, after the storage is chosen:
 * 1. `const metrics = createMetrics({ registry: hostRegistry, providerLegalIds: false })`
 *    (host's prom-client `Registry` to merge into, else a new one: `metrics.registry`).
 * 2. `observeStorage(storage, metrics)`: a storage with `observe` (Redis) times its own calls and
 *    counts its cache's hits; `pubsub_up` reads its `caching` at each scrape. `watchExpiries(metrics,
 *    { signingKeys, anchors })` for `expiry_days`; the host gives `metrics.setServerCertificate(pem)`.
 * 3. `const statistics = createStatistics({ storage, now: options.now, logger })` and
 *    `const health = createHealth({ storage, metrics, logger })`, with the raw `storage` (their
 *    own calls are not request traffic), then `health.ready()` once, so that `storage_up` is right
 *    from the start; later, `health.addCheck('trust-anchors', () => …)` for
 *    each source of trust anchors that can fail to load.
 * 4. `logger = withInteractionId(logger)` before giving the logger to any part: every entry
 *    written while a request is handled carries `interactionId`; and write `err` fields with
 *    `errorForLog(error)` (or `JSON.stringify(fields, errorReplacer)` in the default logger).
 * 5. On `close()`: `await statistics.close()` (adds what this instance kept in memory).
 * 6. Return `metrics`, `health` and `statistics` to the host, which serves them on a private
 *    listener: `http.createServer(operationsListener({ metrics, health, statistics, logger }))
 *    .listen(METRICS_PORT, '127.0.0.1')` (`GET /metrics`, `/health/live`, `/health/ready`,
 *    `/statistics?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]`).
 *
 * Router (`authorizationRouter`), first in line, before anything that can answer:
 * 7. `router.use(interactionIdMiddleware())`: echoes or generates `x-fapi-interaction-id` on every
 *    answer and runs the rest of the request in its context.
 * 8. `router.use(requestObserver({ classify: endpointClassifier({ mountPath, entryPaths:
 *    [sandbox.entryPath, bank.entryPath] }), metrics, statistics }))`: requests by endpoint, status,
 *    latency; statistics when the services are known. Nothing on the `wellKnown` router: it hands
 *    the RFC 8414 metadata requests to the router (observed there, as `metadata`) and passes every
 *    other request of the host's on, which must not be counted; a request passing the middleware
 *    twice is counted once.
 *
 * Where the facts are learnt, `noteRequest(req, facts)` (req: Express `req`, Koa `ctx.req`):
 * 9. TPP guard, as soon as the certificate identity is known (before status and suspension checks,
 *    which read the storage): `noteRequest(req, { services: servicesOf({ roles: identity.roles }),
 *    providerLegalId: identity.organizationIdentifier })`; a `StorageUnavailableError` or a status
 *    responder failure answered: `noteRequest(req, { cause: 'storage' | 'responder' })`.
 *    `metrics.recordCertificateCheck('accepted' | rejection.reason)` on each check.
 * 10. Provider events: `grant.success` / `grant.error` → `noteRequest(ctx.req, { grantType:
 *    ctx.oidc.params.grant_type, error })`; `grant.success` (once stored) → `metrics.recordToken({
 *    grantType, scope })`; a refused refresh → `metrics.recordRefreshRefused(refreshRefusalReason(
 *    body))` with the answer body as sent (token answer step); `*.error` of every route →
 *    `noteRequest(ctx.req, { error: error.error })`; `registration_{create,update,delete}.success`
 *    → `metrics.recordRegistration('created' | 'updated' | 'deleted', metadata.psd2_environment)`,
 *    `.error` → `'refused'`; `grant.revoked` and the revocation endpoint → `recordRevocation(kind)`;
 *    management's withdrawal, client deletion and suspension → `consent_withdrawn`,
 *    `client_deleted`, `organization_suspended`.
 * 11. PSU pages: `metrics.recordJourney(step)` at the entry page (`started`), sign-in
 *    (`signed_in`), consent (`consent_granted` / `consent_refused`), an expired interaction
 *    (`expired`), payment decision (`payment_confirmed` / `payment_rejected`); and
 *    `noteRequest(req, { services: servicesOf({ scope }) })` once the interaction's scope is read.
 * 12. Certificate status: the RevocationChecker's `observer` → `metrics.recordRevocationLookup(
 *    'ocsp' | 'crl' | 'cache', result, seconds)` and `recordCacheLookup('certificate_status' | 'crl', hit)`;
 *    the suspensions' `onLookup` → `recordCacheLookup('suspensions', hit)`.
 */
export { endpointClassifier, endpointOf, type EndpointClassifierOptions } from './endpoints.js';
export { errorForLog, errorReplacer, redactText, type ErrorForLogOptions, type LoggedError } from './errors-for-log.js';
export { operationsListener, livenessHandler, readinessHandler, metricsHandler, statisticsHandler, sendHealth, type OperationsParts, type StatisticsSource } from './handlers.js';
export { Health, HEALTH_COUNTER, createHealth, type CheckResult, type HealthOptions, type HealthReport, type ReadinessCheck } from './health.js';
export {
  INTERACTION_ID_HEADER, currentInteractionId, interactionIdFields, interactionIdFrom, interactionIdMiddleware, interactionIdOf,
  isInteractionId, runWithInteractionId, withInteractionId, type InteractionId,
} from './interaction-id.js';
export { OTHER, refreshRefusalReason, type Endpoint, type JourneyStep, type RefreshRefusal } from './labels.js';
export { ServerMetrics, createMetrics, type MetricsOptions, type RequestRecord } from './metrics.js';
export { factsOf, noteRequest, requestObserver, type RequestFacts, type RequestObserverParts } from './requests.js';
export { PsdStatistics, createStatistics, type RequestOutcome, type StatisticsOptions, type TrackedRequest } from './statistics.js';
export { SERVICES, StatisticsRangeError, servicesOf, type Service } from './statistics-keys.js';
export { toCsv, type DayFigures, type StatisticsReport } from './statistics-report.js';
export { observeStorage, observedStorage, type StorageRecorder } from './storage-metrics.js';
export { watchExpiries } from './expiry.js';
export { observeProviderEvents } from './provider-events.js';
