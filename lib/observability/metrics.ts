/**
 * The server's Prometheus metrics (prom-client), with label values from closed sets only
 * (labels.ts): whatever a request carries, a label holds no token, PSU id or free text.
 */
import { X509Certificate } from 'node:crypto';

import { Gauge, Registry } from 'prom-client';

import { defineMetrics, type Series, type TallyEntry } from './metric-definitions.js';

import {
  CACHES, CERTIFICATE_OUTCOMES, ENDPOINTS, ENVIRONMENTS, ERROR_CODES, EXPIRY_KINDS, GRANT_TYPE_VALUES, JOURNEY_STEPS,
  OTHER, PROVIDER_LEGAL_ID, REFRESH_REFUSALS, REGISTRATION_ACTIONS, REVOCATION_KINDS, REVOCATION_RESULTS,
  REVOCATION_SOURCES, STORAGE_OPERATIONS, closed, scopeLabel,
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
  /** The clock `expiry_days` counts from (the server's `now` option). Default the system clock. */
  readonly now?: () => Date;
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


const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];
const closedSet = <T extends string>(values: readonly T[]): ReadonlySet<string> => new Set(values);
const ENDPOINT_SET = closedSet(ENDPOINTS);
const GRANT_TYPE_SET = closedSet(GRANT_TYPE_VALUES);
const ERROR_CODE_SET = closedSet(ERROR_CODES);
const inSet = (set: ReadonlySet<string>, value: unknown): string => (typeof value === 'string' && set.has(value) ? value : OTHER);
const MS_PER_DAY = 86_400_000;

/** What the metrics record; see {@link createMetrics}. */
export class ServerMetrics {
  readonly registry: Registry;
  /** Undefined when the metrics are off: every record call returns at once. */
  readonly #metrics: ReturnType<typeof defineMetrics> | undefined;
  readonly #prefix: string;
  readonly #organizations: { readonly max: number; readonly seen: Set<string> } | undefined;
  readonly #now: () => Date;
  /** When each kind expires: a time (epoch ms), or how to read it at each scrape. */
  readonly #expiries = new Map<(typeof EXPIRY_KINDS)[number], number | (() => Date | undefined)>();
  #pubSub: (() => boolean) | undefined;
  /** The storage operations' series and error counts, by operation (a closed set). */
  readonly #storage = new Map<string, { readonly time: Series; readonly errors: TallyEntry }>();
  /** Each cache's hit and miss counts, made at start-up. */
  readonly #caches = new Map<string, readonly [TallyEntry, TallyEntry]>();
  /** Scope strings of tokens and their labels, up to a bound (scopes come from the server's grants). */
  readonly #scopes = new Map<string, string>();

  constructor(options: MetricsOptions | false = {}) {
    const settings = options === false ? {} : options;
    this.registry = settings.registry ?? new Registry();
    this.#now = settings.now ?? (() => new Date());
    const byOrganization = settings.providerLegalIds;
    const max = typeof byOrganization === 'object' ? byOrganization.max ?? 1000 : 1000;
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError(`providerLegalIds.max must be a positive integer, not ${String(max)}`);
    this.#organizations = byOrganization ? { max, seen: new Set() } : undefined;
    this.#prefix = settings.prefix ?? 'psd2_as_';
    const metrics = options === false ? undefined : defineMetrics(this.registry, this.#prefix, Boolean(byOrganization), {
      expiry: (gauge) => this.#collectExpiries(gauge),
      pubSubUp: (gauge) => {
        if (this.#pubSub) gauge.set(this.#pubSub() ? 1 : 0);
      },
    });
    this.#metrics = metrics;
    if (!metrics) return;
    for (const step of JOURNEY_STEPS) metrics.journey.inc({ step }, 0);
    for (const reason of REFRESH_REFUSALS) metrics.refreshRefused.inc({ reason }, 0);
    for (const kind of REVOCATION_KINDS) metrics.revocations.inc({ kind }, 0);
    for (const cache of CACHES) {
      this.#caches.set(cache, [metrics.cache.entry(`${cache} hit`, () => ({ cache, result: 'hit' })), metrics.cache.entry(`${cache} miss`, () => ({ cache, result: 'miss' }))]);
    }
  }

  /** Whether anything is recorded: false when made with `false` (the server's `metrics: false`). */
  get enabled(): boolean {
    return this.#metrics !== undefined;
  }

  /** What every metric's name starts with, for metrics other parts register (`psd2_as_` by default). */
  get prefix(): string {
    return this.#prefix;
  }

  /**
   * The age of the register of TPP licences in use, read at each scrape: the gauge
   * `tpp_register_snapshot_age_seconds` (absent until a snapshot has loaded).
   */
  watchTppRegister(ageSeconds: () => number | undefined): void {
    if (!this.#metrics) return;
    new Gauge({
      name: `${this.#prefix}tpp_register_snapshot_age_seconds`,
      help: 'Seconds since the snapshot of the register of TPP licences in use was loaded',
      registers: [this.registry],
      collect() {
        const age = ageSeconds();
        if (age === undefined) this.reset();
        else this.set(age);
      },
    });
  }

  /** A load of the register of TPP licences. */
  recordTppRegisterLoad(outcome: 'loaded' | 'failed' | 'refused'): void {
    this.#metrics?.registerLoads.inc({ outcome });
  }

  /** The metrics in the Prometheus text format, and the content type to answer them with. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** An answered request: call once per request, when its answer is finished. */
  recordRequest(request: RequestRecord): void {
    const metrics = this.#metrics;
    if (!metrics) return;
    const endpoint = inSet(ENDPOINT_SET, request.endpoint);
    const status = request.status;
    const statusLabel = Number.isInteger(status) && status >= 100 && status <= 599 ? STATUS_CLASSES[Math.floor(status / 100) - 1]! : OTHER;
    const grantType = endpoint === 'token' && request.grantType !== undefined ? inSet(GRANT_TYPE_SET, request.grantType) : undefined;
    const error = request.error !== undefined ? inSet(ERROR_CODE_SET, request.error) : undefined;
    const organization = this.#organizations ? this.#organization(request.providerLegalId).provider_legal_id : undefined;
    metrics.requests.entry(`${endpoint} ${statusLabel} ${grantType ?? ''} ${error ?? ''} ${organization ?? ''}`, () => ({
      endpoint,
      status: statusLabel,
      ...(grantType !== undefined ? { grant_type: grantType } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(organization !== undefined ? { provider_legal_id: organization } : {}),
    })).count += 1;
    if (isSeconds(request.durationSeconds)) metrics.duration.record(metrics.duration.series(endpoint, () => ({ endpoint })), request.durationSeconds);
  }

  /** An access token issued (the `grant.success` event), with its grant type and scope. */
  recordToken(token: { readonly grantType: string; readonly scope?: string; readonly providerLegalId?: string }): void {
    const metrics = this.#metrics;
    if (!metrics) return;
    const grantType = inSet(GRANT_TYPE_SET, token.grantType);
    const scope = this.#scopeLabel(token.scope);
    const organization = this.#organizations ? this.#organization(token.providerLegalId).provider_legal_id : undefined;
    metrics.tokens.entry(`${grantType} ${scope} ${organization ?? ''}`, () => ({
      grant_type: grantType, scope, ...(organization !== undefined ? { provider_legal_id: organization } : {}),
    })).count += 1;
  }

  /** A refresh refused; see `refreshRefusalReason` for the reason of a token endpoint answer. */
  recordRefreshRefused(reason: string): void {
    this.#metrics?.refreshRefused.inc({ reason: closed(REFRESH_REFUSALS, reason) });
  }

  recordRevocation(kind: (typeof REVOCATION_KINDS)[number]): void {
    this.#metrics?.revocations.inc({ kind: closed(REVOCATION_KINDS, kind) });
  }

  recordRegistration(action: (typeof REGISTRATION_ACTIONS)[number], environment: string | undefined): void {
    this.#metrics?.registrations.inc({ action: closed(REGISTRATION_ACTIONS, action), environment: closed(ENVIRONMENTS, environment) });
  }

  recordJourney(step: (typeof JOURNEY_STEPS)[number]): void {
    this.#metrics?.journey.inc({ step: closed(JOURNEY_STEPS, step) });
  }

  /** A TPP certificate checked: `accepted`, or the refusal reason (`CertificateRejectedError.reason`). */
  recordCertificateCheck(outcome: string): void {
    const label = closed(CERTIFICATE_OUTCOMES, outcome);
    if (this.#metrics) this.#metrics.certificates.entry(label, () => ({ outcome: label })).count += 1;
  }

  /** A certificate status look-up; `seconds` is the responder's time (none for the cache). */
  recordRevocationLookup(source: (typeof REVOCATION_SOURCES)[number], result: (typeof REVOCATION_RESULTS)[number], seconds?: number): void {
    const metrics = this.#metrics;
    if (!metrics) return;
    const label = closed(REVOCATION_SOURCES, source);
    const outcome = closed(REVOCATION_RESULTS, result);
    metrics.lookups.entry(`${label} ${outcome}`, () => ({ source: label, result: outcome })).count += 1;
    if (seconds !== undefined && isSeconds(seconds)) metrics.responder.record(metrics.responder.series(label, () => ({ source: label })), seconds);
  }

  /** Days until the earliest expiry of a kind (negative once expired), as of now. */
  setExpiryDays(kind: (typeof EXPIRY_KINDS)[number], days: number): void {
    if (Number.isFinite(days)) this.setExpiry(kind, new Date(this.#now().getTime() + days * MS_PER_DAY));
  }

  /**
   * When a kind expires (the earliest of its certificates): `expiry_days` counts down from it at
   * each scrape. A later call replaces it (e.g. the server certificate renewed).
   */
  setExpiry(kind: (typeof EXPIRY_KINDS)[number], notAfter: Date): void {
    const at = notAfter.getTime();
    if (Number.isFinite(at) && (EXPIRY_KINDS as readonly string[]).includes(kind)) this.#expiries.set(kind, at);
  }

  /** When a kind expires, read at each scrape (e.g. anchors that change); no sample while undefined. */
  watchExpiry(kind: (typeof EXPIRY_KINDS)[number], notAfter: () => Date | undefined): void {
    if ((EXPIRY_KINDS as readonly string[]).includes(kind)) this.#expiries.set(kind, notAfter);
  }

  /**
   * The bank's TLS server certificate (PEM, the leaf first, or an X509Certificate): its expiry is
   * `expiry_days{kind="server_certificate"}`. Call again when it is renewed.
   */
  setServerCertificate(certificate: string | Buffer | X509Certificate): void {
    const leaf = certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
    this.setExpiry('server_certificate', new Date(leaf.validTo));
  }

  /** A storage operation, its time, and whether it succeeded. */
  recordStorage(operation: string, seconds: number, ok: boolean): void {
    const metrics = this.#metrics;
    if (!metrics) return;
    let entry = this.#storage.get(operation);
    if (!entry) {
      const label = closed(STORAGE_OPERATIONS, operation);
      entry = { time: metrics.storage.series(label, () => ({ operation: label })), errors: metrics.storageErrors.entry(label, () => ({ operation: label })) };
      // Bounded: an operation outside the closed set is counted as `other` without a key of its own.
      if (label !== OTHER) this.#storage.set(operation, entry);
    }
    if (isSeconds(seconds)) metrics.storage.record(entry.time, seconds);
    if (!ok) entry.errors.count += 1;
  }

  /** A cache look-up: the hit ratio is `hit / (hit + miss)`. */
  recordCacheLookup(cache: (typeof CACHES)[number], hit: boolean): void {
    const entries = this.#caches.get(cache);
    if (entries) entries[hit ? 0 : 1].count += 1;
  }

  /** Sets `pubsub_up` once; see {@link watchPubSub} to have it read at each scrape. */
  setPubSubHealthy(healthy: boolean): void {
    this.#pubSub = undefined;
    this.#metrics?.pubSubUp.set(healthy ? 1 : 0);
  }

  /** `pubsub_up` read from `healthy` at each scrape (e.g. the Redis storage's `caching`). */
  watchPubSub(healthy: () => boolean): void {
    this.#pubSub = healthy;
  }

  setStorageReachable(reachable: boolean): void {
    this.#metrics?.storageUp.set(reachable ? 1 : 0);
  }

  /** {@link scopeLabel}, remembered for the scopes seen (a few: the grants' combinations). */
  #scopeLabel(scope: string | undefined): string {
    if (scope === undefined) return scopeLabel(scope);
    let label = this.#scopes.get(scope);
    if (label === undefined) {
      label = scopeLabel(scope);
      if (this.#scopes.size < 256) this.#scopes.set(scope, label);
    }
    return label;
  }

  #collectExpiries(gauge: Gauge<'kind'>): void {
    const now = this.#now().getTime();
    gauge.reset();
    for (const [kind, expiry] of this.#expiries) {
      const at = typeof expiry === 'number' ? expiry : expiry()?.getTime();
      if (at !== undefined && Number.isFinite(at)) gauge.set({ kind }, Math.round(((at - now) / MS_PER_DAY) * 100) / 100);
    }
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

/**
 * The server's metrics, registered in `options.registry` or a registry of their own; `false`: none
 * (nothing registered, every record call returns at once).
 */
export function createMetrics(options: MetricsOptions | false = {}): ServerMetrics {
  return new ServerMetrics(options);
}
