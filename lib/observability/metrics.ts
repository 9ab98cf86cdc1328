/**
 * The server's Prometheus metrics (prom-client), with label values from closed sets only
 * (labels.ts): whatever a request carries, a label holds no token, PSU id or free text.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import {
  CACHES, CERTIFICATE_OUTCOMES, ENDPOINTS, ENVIRONMENTS, ERROR_CODES, EXPIRY_KINDS, GRANT_TYPE_VALUES, JOURNEY_STEPS,
  OTHER, PROVIDER_LEGAL_ID, REFRESH_REFUSALS, REGISTRATION_ACTIONS, REVOCATION_KINDS, REVOCATION_RESULTS,
  REVOCATION_SOURCES, STORAGE_OPERATIONS, closed, scopeLabel, statusClass,
} from './labels.js';

export interface MetricsOptions {
  /**
   * The registry the metrics are registered in: the host's own, to scrape them with its other
   * metrics, or by default a new one ({@link ServerMetrics.registry}). One server's metrics per
   * registry: prom-client refuses a second metric of the same name.
   */
  readonly registry?: Registry;
  /** Prefix of every metric name. Default `psd2_as_`. */
  readonly prefix?: string;
  /**
   * Counts requests and tokens per TPP organization too (label `provider_legal_id`, the
   * organizationIdentifier of the TPP's certificate, e.g. `PSDFR-ACPR-12345`). Off by default: one
   * series per TPP. `max` bounds the distinct organizations labelled (default 1000); later ones,
   * and values that are not an organizationIdentifier, are counted as `other`.
   */
  readonly providerLegalIds?: boolean | { readonly max?: number };
}

/** One answered request. */
export interface RequestRecord {
  /** From {@link endpointOf}; anything else is counted as `other`. */
  readonly endpoint: string;
  /** The HTTP status answered; counted by class (`2xx`, …). */
  readonly status: number;
  readonly durationSeconds: number;
  /** The token endpoint's `grant_type` parameter; ignored for other endpoints. */
  readonly grantType?: string;
  /** The RFC error code answered, e.g. `invalid_scope`. */
  readonly error?: string;
  /** The TPP's organizationIdentifier, counted only with the `providerLegalIds` option. */
  readonly providerLegalId?: string;
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RESPONDER_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const STORAGE_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function defineMetrics(registry: Registry, prefix: string, byOrganization: boolean) {
  const registers = [registry];
  const organization = byOrganization ? ['provider_legal_id'] as const : [];
  const counter = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new Counter<T>({ name: prefix + name, help, labelNames, registers });
  const gauge = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new Gauge<T>({ name: prefix + name, help, labelNames, registers });
  const histogram = <T extends string>(name: string, help: string, labelNames: readonly T[], buckets: number[]) => new Histogram<T>({ name: prefix + name, help, labelNames, buckets, registers });
  return {
    requests: counter('http_requests_total', 'Requests answered, by endpoint and status class; for the token endpoint by grant_type; by RFC error code', ['endpoint', 'status', 'grant_type', 'error', ...organization]),
    duration: histogram('http_request_duration_seconds', 'Time to answer a request, by endpoint', ['endpoint'], SECONDS),
    tokens: counter('tokens_issued_total', 'Access tokens issued, by grant type and scope', ['grant_type', 'scope', ...organization]),
    refreshRefused: counter('refresh_refused_total', 'Refresh requests refused, by reason', ['reason']),
    revocations: counter('revocations_total', 'Tokens and grants revoked, by kind', ['kind']),
    registrations: counter('registrations_total', 'Client registrations, updates, deletions and refusals, by environment', ['action', 'environment']),
    journey: counter('psu_journey_total', 'PSU journeys through the pages, by step', ['step']),
    certificates: counter('certificate_checks_total', 'TPP certificates checked, by outcome (accepted or the refusal reason)', ['outcome']),
    lookups: counter('revocation_lookups_total', 'Certificate status look-ups, by source and result', ['source', 'result']),
    responder: histogram('revocation_lookup_duration_seconds', 'Time of a certificate status look-up (OCSP or CRL responder), by source', ['source'], RESPONDER_SECONDS),
    expiry: gauge('expiry_days', "Days until the bank's server certificate, signing keys or trust anchors expire (the earliest of each kind)", ['kind']),
    storage: histogram('storage_operation_duration_seconds', 'Time of a storage operation, by operation', ['operation'], STORAGE_SECONDS),
    storageErrors: counter('storage_errors_total', 'Storage operations failed, by operation', ['operation']),
    storageUp: gauge('storage_up', '1 while the storage answered the last readiness check, 0 otherwise', []),
    cache: counter('cache_lookups_total', 'Cache look-ups, by cache and result (hit or miss)', ['cache', 'result']),
    pubSubUp: gauge('pubsub_up', "1 while the storage's change announcements are heard (the shared cache is on), 0 otherwise", []),
    registerLoads: counter('tpp_register_loads_total', 'Loads of the register of TPP licences, by outcome (loaded or failed)', ['outcome']),
  };
}

/** What the metrics record; see {@link createMetrics}. */
export class ServerMetrics {
  readonly registry: Registry;
  readonly #metrics: ReturnType<typeof defineMetrics>;
  readonly #prefix: string;
  readonly #organizations: { readonly max: number; readonly seen: Set<string> } | undefined;

  constructor(options: MetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    const byOrganization = options.providerLegalIds;
    const max = typeof byOrganization === 'object' ? byOrganization.max ?? 1000 : 1000;
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`providerLegalIds.max must be a positive integer, not ${String(max)}`);
    this.#organizations = byOrganization ? { max, seen: new Set() } : undefined;
    this.#prefix = options.prefix ?? 'psd2_as_';
    this.#metrics = defineMetrics(this.registry, this.#prefix, Boolean(byOrganization));
    for (const step of JOURNEY_STEPS) this.#metrics.journey.inc({ step }, 0);
    for (const reason of REFRESH_REFUSALS) this.#metrics.refreshRefused.inc({ reason }, 0);
    for (const kind of REVOCATION_KINDS) this.#metrics.revocations.inc({ kind }, 0);
  }

  /**
   * The age of the register of TPP licences in use, read at each scrape: the gauge
   * `tpp_register_snapshot_age_seconds` (absent until a snapshot has loaded).
   */
  watchTppRegister(ageSeconds: () => number | undefined): void {
    const registry = this.registry;
    new Gauge({
      name: `${this.#prefix}tpp_register_snapshot_age_seconds`,
      help: 'Seconds since the snapshot of the register of TPP licences in use was loaded',
      registers: [registry],
      collect() {
        const age = ageSeconds();
        if (age === undefined) this.reset();
        else this.set(age);
      },
    });
  }

  /** A load of the register of TPP licences. */
  recordTppRegisterLoad(outcome: 'loaded' | 'failed'): void {
    this.#metrics.registerLoads.inc({ outcome });
  }

  /** The metrics in the Prometheus text format, and the content type to answer them with. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** An answered request: call once per request, when its answer is finished. */
  recordRequest(request: RequestRecord): void {
    const endpoint = closed(ENDPOINTS, request.endpoint);
    this.#metrics.requests.inc({
      endpoint,
      status: statusClass(request.status),
      ...(endpoint === 'token' && request.grantType !== undefined ? { grant_type: closed(GRANT_TYPE_VALUES, request.grantType) } : {}),
      ...(request.error !== undefined ? { error: closed(ERROR_CODES, request.error) } : {}),
      ...this.#organization(request.providerLegalId),
    });
    if (isSeconds(request.durationSeconds)) this.#metrics.duration.observe({ endpoint }, request.durationSeconds);
  }

  /** An access token issued (the `grant.success` event), with its grant type and scope. */
  recordToken(token: { readonly grantType: string; readonly scope?: string; readonly providerLegalId?: string }): void {
    this.#metrics.tokens.inc({ grant_type: closed(GRANT_TYPE_VALUES, token.grantType), scope: scopeLabel(token.scope), ...this.#organization(token.providerLegalId) });
  }

  /** A refresh refused; see `refreshRefusalReason` for the reason of a token endpoint answer. */
  recordRefreshRefused(reason: string): void {
    this.#metrics.refreshRefused.inc({ reason: closed(REFRESH_REFUSALS, reason) });
  }

  recordRevocation(kind: (typeof REVOCATION_KINDS)[number]): void {
    this.#metrics.revocations.inc({ kind: closed(REVOCATION_KINDS, kind) });
  }

  recordRegistration(action: (typeof REGISTRATION_ACTIONS)[number], environment: string | undefined): void {
    this.#metrics.registrations.inc({ action: closed(REGISTRATION_ACTIONS, action), environment: closed(ENVIRONMENTS, environment) });
  }

  recordJourney(step: (typeof JOURNEY_STEPS)[number]): void {
    this.#metrics.journey.inc({ step: closed(JOURNEY_STEPS, step) });
  }

  /** A TPP certificate checked: `accepted`, or the refusal reason (`CertificateRejectedError.reason`). */
  recordCertificateCheck(outcome: string): void {
    this.#metrics.certificates.inc({ outcome: closed(CERTIFICATE_OUTCOMES, outcome) });
  }

  /** A certificate status look-up; `seconds` is the responder's time (none for the cache). */
  recordRevocationLookup(source: (typeof REVOCATION_SOURCES)[number], result: (typeof REVOCATION_RESULTS)[number], seconds?: number): void {
    const label = closed(REVOCATION_SOURCES, source);
    this.#metrics.lookups.inc({ source: label, result: closed(REVOCATION_RESULTS, result) });
    if (seconds !== undefined && isSeconds(seconds)) this.#metrics.responder.observe({ source: label }, seconds);
  }

  /** Days until the earliest expiry of a kind (negative once expired). */
  setExpiryDays(kind: (typeof EXPIRY_KINDS)[number], days: number): void {
    if (Number.isFinite(days)) this.#metrics.expiry.set({ kind: closed(EXPIRY_KINDS, kind) }, days);
  }

  /** A storage operation, its time, and whether it succeeded. */
  recordStorage(operation: string, seconds: number, ok: boolean): void {
    const label = closed(STORAGE_OPERATIONS, operation);
    if (isSeconds(seconds)) this.#metrics.storage.observe({ operation: label }, seconds);
    if (!ok) this.#metrics.storageErrors.inc({ operation: label });
  }

  /** A cache look-up: the hit ratio is `hit / (hit + miss)`. */
  recordCacheLookup(cache: (typeof CACHES)[number], hit: boolean): void {
    this.#metrics.cache.inc({ cache: closed(CACHES, cache), result: hit ? 'hit' : 'miss' });
  }

  setPubSubHealthy(healthy: boolean): void {
    this.#metrics.pubSubUp.set(healthy ? 1 : 0);
  }

  setStorageReachable(reachable: boolean): void {
    this.#metrics.storageUp.set(reachable ? 1 : 0);
  }

  #organization(value: string | undefined): { provider_legal_id?: string } {
    const organizations = this.#organizations;
    if (!organizations) return {};
    if (typeof value !== 'string' || !PROVIDER_LEGAL_ID.test(value)) return { provider_legal_id: OTHER };
    if (!organizations.seen.has(value)) {
      if (organizations.seen.size >= organizations.max) return { provider_legal_id: OTHER };
      organizations.seen.add(value);
    }
    return { provider_legal_id: value };
  }
}

const isSeconds = (value: number) => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** The server's metrics, registered in `options.registry` or a registry of their own. */
export function createMetrics(options: MetricsOptions = {}): ServerMetrics {
  return new ServerMetrics(options);
}
