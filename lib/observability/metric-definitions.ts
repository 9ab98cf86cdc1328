/**
 * The metrics' definitions (names, help, labels, buckets) and the cache of their label children:
 * what {@link ServerMetrics} records into.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RESPONDER_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const STORAGE_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Gauges computed when scraped. */
export interface Collectors {
  readonly expiry: (gauge: Gauge<'kind'>) => void;
  readonly pubSubUp: (gauge: Gauge) => void;
}

export function defineMetrics(registry: Registry, prefix: string, byOrganization: boolean, collectors: Collectors) {
  const registers = [registry];
  const organization = byOrganization ? ['provider_legal_id'] as const : [];
  const counter = <T extends string>(name: string, help: string, labelNames: readonly T[]) => new Counter<T>({ name: prefix + name, help, labelNames, registers });
  const gauge = <T extends string>(name: string, help: string, labelNames: readonly T[], collect?: (gauge: Gauge<T>) => void) => new Gauge<T>({
    name: prefix + name, help, labelNames, registers, ...(collect ? { collect(this: Gauge<T>) { collect(this); } } : {}),
  });
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
    expiry: gauge('expiry_days', "Days until the bank's server certificate, signing keys or trust anchors expire (the earliest of each kind)", ['kind'], collectors.expiry),
    storage: histogram('storage_operation_duration_seconds', 'Time of a storage operation, by operation', ['operation'], STORAGE_SECONDS),
    storageErrors: counter('storage_errors_total', 'Storage operations failed, by operation', ['operation']),
    storageUp: gauge('storage_up', '1 while the storage answered the last readiness check, 0 otherwise', []),
    cache: counter('cache_lookups_total', 'Cache look-ups, by cache and result (hit or miss)', ['cache', 'result']),
    pubSubUp: gauge('pubsub_up', "1 while the storage's change announcements are heard (the shared cache is on), 0 otherwise", [], collectors.pubSubUp),
    registerLoads: counter('tpp_register_loads_total', 'Loads of the register of TPP licences, by outcome (loaded or failed)', ['outcome']),
  };
}

/** What one child of a metric does: prom-client's `labels(...)` of a label set, cached. */
export type Child<T> = T extends Counter<string> ? ReturnType<T['labels']> : T extends Histogram<string> ? ReturnType<T['labels']> : never;

/**
 * The children of a metric by label set, each made once: prom-client hashes and checks the label
 * object of every `inc({...})`, which costs more than the count itself on a hot path. Keys are
 * made of closed label values only, so the map stays as small as the label sets.
 */
export class Children<M extends Counter<string> | Histogram<string>> {
  readonly #made = new Map<string, Child<M>>();

  constructor(private readonly metric: M) {}

  of(key: string): Child<M> | undefined {
    return this.#made.get(key);
  }

  make(key: string, labels: Record<string, string>): Child<M> {
    const child = this.metric.labels(labels) as Child<M>;
    this.#made.set(key, child);
    return child;
  }
}
