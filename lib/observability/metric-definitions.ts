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
  const histogram = <T extends string>(name: string, help: string, labelNames: readonly T[], buckets: number[]) => new TallyHistogram<T>({ name: prefix + name, help, labelNames, buckets, registers });
  // Counters of the hot path: counted in a Tally, added to prom-client at each scrape.
  const tallied = (name: string, help: string, labelNames: readonly string[]) => new Tally({ name: prefix + name, help, labelNames, registers });
  return {
    requests: tallied('http_requests_total', 'Requests answered, by endpoint and status class; for the token endpoint by grant_type; by RFC error code', ['endpoint', 'status', 'grant_type', 'error', ...organization]),
    duration: histogram('http_request_duration_seconds', 'Time to answer a request, by endpoint', ['endpoint'], SECONDS),
    tokens: tallied('tokens_issued_total', 'Access tokens issued, by grant type and scope', ['grant_type', 'scope', ...organization]),
    refreshRefused: counter('refresh_refused_total', 'Refresh requests refused, by reason', ['reason']),
    revocations: counter('revocations_total', 'Tokens and grants revoked, by kind', ['kind']),
    registrations: counter('registrations_total', 'Client registrations, updates, deletions and refusals, by environment', ['action', 'environment']),
    journey: counter('psu_journey_total', 'PSU journeys through the pages, by step', ['step']),
    certificates: tallied('certificate_checks_total', 'TPP certificates checked, by outcome (accepted or the refusal reason)', ['outcome']),
    lookups: tallied('revocation_lookups_total', 'Certificate status look-ups, by source and result', ['source', 'result']),
    responder: histogram('revocation_lookup_duration_seconds', 'Time of a certificate status look-up (OCSP or CRL responder), by source', ['source'], RESPONDER_SECONDS),
    expiry: gauge('expiry_days', "Days until the bank's server certificate, signing keys or trust anchors expire (the earliest of each kind)", ['kind'], collectors.expiry),
    storage: histogram('storage_operation_duration_seconds', 'Time of a storage operation, by operation', ['operation'], STORAGE_SECONDS),
    storageErrors: tallied('storage_errors_total', 'Storage operations failed, by operation', ['operation']),
    storageUp: gauge('storage_up', '1 while the storage answered the last readiness check, 0 otherwise', []),
    cache: tallied('cache_lookups_total', 'Cache look-ups, by cache and result (hit or miss)', ['cache', 'result']),
    pubSubUp: gauge('pubsub_up', "1 while the storage's change announcements are heard (the shared cache is on), 0 otherwise", [], collectors.pubSubUp),
    registerLoads: counter('tpp_register_loads_total', 'Loads of the register of TPP licences, by outcome (loaded, failed, or refused as implausible)', ['outcome']),
  };
}

/** One label set of a {@link Tally}: a count costs `entry.count += 1`. */
export interface TallyEntry {
  readonly labels: Readonly<Record<string, string>>;
  count: number;
}

/**
 * Counts of a prom-client counter kept in plain numbers on the hot path, and added to the counter
 * when it is scraped (its `collect`): prom-client hashes and checks the label object of every
 * `inc`, a child's too, which costs more than the count itself. Keys are made of closed label
 * values only, so the map stays as small as the label sets.
 */
export class Tally {
  readonly #entries = new Map<string, TallyEntry>();
  readonly #counter: Counter<string>;

  constructor(configuration: { name: string; help: string; labelNames: readonly string[]; registers: Registry[] }) {
    this.#counter = new Counter({ ...configuration, collect: () => this.flush() });
  }

  /** The entry of `key`, made with `labels` the first time. */
  entry(key: string, labels: () => Record<string, string>): TallyEntry {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { labels: labels(), count: 0 };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /** Adds what was counted since the last scrape to the counter. */
  flush(): void {
    for (const entry of this.#entries.values()) {
      if (entry.count === 0) continue;
      this.#counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}

/** One label set of a {@link TallyHistogram}. */
export interface Series<T extends string = string> {
  readonly labels: Readonly<Partial<Record<T, string>>>;
  /** Observations per bucket (not cumulative), the last one above every bound. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** A sample as prom-client's histograms hand it to the registry: its own labels, and the series'. */
interface HistogramValue {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels: Readonly<Partial<Record<string, string>>>;
  readonly value: number;
  /** Buckets carry one (none here), as prom-client's do. */
  readonly exemplar?: null;
}

/**
 * A histogram whose observations are kept in plain numbers per label set, for the same reason as
 * {@link Tally}; it shows them when scraped exactly as prom-client's own histogram would.
 */
export class TallyHistogram<T extends string> extends Histogram<T> {
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, Series<T>>();
  readonly #name: string;
  readonly #help: string;

  constructor(configuration: { name: string; help: string; labelNames: readonly T[]; buckets: number[]; registers: Registry[] }) {
    super(configuration);
    this.#bounds = configuration.buckets;
    this.#name = configuration.name;
    this.#help = configuration.help;
  }

  /** The series of `key`, made with `labels` the first time. */
  series(key: string, labels: () => Partial<Record<T, string>>): Series<T> {
    let series = this.#series.get(key);
    if (!series) {
      series = { labels: labels(), counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    return series;
  }

  /** One observation of `seconds` in `series`. */
  record(series: Series<T>, seconds: number): void {
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > bounds[bucket]!) bucket += 1;
    series.counts[bucket]! += 1;
    series.sum += seconds;
    series.count += 1;
  }

  /**
   * The series as the registry writes them (it reads this method of prom-client's histograms when
   * it exists; their `get()` reads it too): cumulative buckets, `+Inf`, sum and count per label set.
   */
  async getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const values: HistogramValue[] = [];
    const bucket = `${this.#name}_bucket`;
    for (const series of this.#series.values()) {
      let cumulative = 0;
      this.#bounds.forEach((bound, index) => {
        cumulative += series.counts[index]!;
        values.push({ metricName: bucket, labels: { le: bound }, sharedLabels: series.labels, value: cumulative, exemplar: null });
      });
      values.push({ metricName: bucket, labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count, exemplar: null });
      values.push({ metricName: `${this.#name}_sum`, labels: {}, sharedLabels: series.labels, value: series.sum });
      values.push({ metricName: `${this.#name}_count`, labels: {}, sharedLabels: series.labels, value: series.count });
    }
    return { name: this.#name, help: this.#help, type: 'histogram', aggregator: 'sum', values };
  }

  override reset(): void {
    super.reset();
    // prom-client's constructor resets before this class's fields exist.
    if (#series in this) this.#series.clear();
  }
}
