/**
 * The revocation status of a certificate path: every certificate but the trust anchor, each
 * against its issuer, through OCSP first and the CRL distribution points when OCSP gives no
 * answer to trust. Statuses are shared through the storage and kept in this process until they
 * expire, so the request path waits for the network only when nothing is cached.
 */
import type { X509Certificate } from 'node:crypto';

import type { Storage } from '../../storage.js';
import type { Logger } from '../../logger.js';
import { StatusCache, type StatusRecord } from './cache.js';
import { cachedThumbprint, infoOf, type CertificateInfo } from './certificate.js';
import { CrlStore } from './crl-store.js';
import { nodeHttpClient, rememberingOutages, type HttpClient, type HttpLimits } from './fetch.js';
import { askOcsp } from './ocsp.js';
import type { RevocationObserver, SourceContext, SourceOutcome, StatusSource } from './outcome.js';
import { resolveSettings, type RevocationSettings } from './settings.js';
import { Sweeper, type SweepResult } from './sweep.js';
import { Watchlist } from './watchlist.js';

export type CertificateRole = 'leaf' | 'intermediate';

/** The status of a path: revoked anywhere wins, then unknown anywhere, else good. */
export type PathStatus =
  | { readonly status: 'good' }
  | {
      readonly status: 'revoked';
      readonly certificate: CertificateRole;
      readonly subject: string;
      readonly serial: string;
      readonly thumbprint: string;
      readonly source: StatusSource;
      readonly revokedAt?: Date;
      /** RFC 5280 §5.3.1 reason name, e.g. `keyCompromise`. */
      readonly reason?: string;
      readonly description: string;
    }
  | {
      readonly status: 'unknown';
      readonly certificate: CertificateRole;
      readonly subject: string;
      readonly serial: string;
      readonly thumbprint: string;
      /** Why the status cannot be established, e.g. "the OCSP responder http://… did not answer within 5000 ms and no CRL is published". */
      readonly description: string;
    };

export interface RevocationDependencies {
  /** The clock of every expiry and freshness check. */
  readonly now: () => Date;
  readonly logger: Logger;
  /** The HTTP client of OCSP and CRL requests; for tests. Default node:http and node:https. */
  readonly fetch?: HttpClient;
  /** Told of every status look-up (the server's metrics). */
  readonly observer?: RevocationObserver;
}

export interface CheckOptions {
  /** Look up again any status that expires before this time (epoch ms), as the sweep does. */
  readonly refreshBefore?: number;
}

export const NOT_CONFORMING = 'the certificate has neither an OCSP responder nor a CRL distribution point: not a conforming qualified certificate (ETSI EN 319 412-2)';

/** A revoked certificate stays so; a suspension (certificateHold) may be lifted and is kept as long as a good status. */
function permanent(record: StatusRecord): boolean {
  return record.status === 'revoked' && record.reason !== 'certificateHold';
}

function describeRevocation(record: StatusRecord, role: CertificateRole): string {
  const what = role === 'leaf' ? 'the certificate' : 'the intermediate CA certificate';
  const when = record.revokedAt === undefined ? '' : ` on ${new Date(record.revokedAt).toISOString()}`;
  const why = record.reason ? ` (${record.reason})` : '';
  const by = record.source === 'ocsp' ? `its issuer's OCSP responder ${record.url ?? ''}` : `the CRL ${record.url ?? ''}`;
  return `${what} ${record.subject} (serial ${record.serial}) was revoked${when}${why}, as ${by.trimEnd()} says`;
}

export class RevocationChecker {
  readonly #settings: Required<RevocationSettings>;
  readonly #clock: () => Date;
  readonly #logger: Logger;
  readonly #storage: Storage;
  readonly #http: HttpClient;
  readonly #limits: HttpLimits;
  readonly #statuses: StatusCache;
  readonly #crls: CrlStore;
  readonly #watchlist: Watchlist;
  readonly #sweeper: Sweeper;
  /** Lookups under way, by thumbprint: concurrent checks of one certificate share one. */
  readonly #lookups = new Map<string, Promise<StatusRecord>>();
  readonly #observer: RevocationObserver | undefined;

  constructor(storage: Storage, settings: Partial<RevocationSettings>, dependencies: RevocationDependencies) {
    this.#settings = resolveSettings(settings);
    this.#clock = dependencies.now;
    this.#logger = dependencies.logger;
    this.#storage = storage;
    this.#observer = dependencies.observer;
    const now = () => this.#now();
    this.#http = rememberingOutages(dependencies.fetch ?? nodeHttpClient, this.#settings.unreachableTtl * 1000, now);
    this.#limits = { timeout: this.#settings.timeout, maxBytes: this.#settings.maxResponseBytes };
    this.#statuses = new StatusCache(storage, now, this.#logger);
    this.#crls = new CrlStore(storage, this.#http, this.#limits, this.#logger, this.#settings.unreachableTtl * 1000, (hit) => this.#observer?.cacheLookup('crl', hit));
    this.#watchlist = new Watchlist(storage, now, this.#logger);
    this.#sweeper = new Sweeper({
      storage,
      logger: this.#logger,
      watchlist: this.#watchlist,
      now,
      due: (path, horizon) => this.#due(path, horizon),
      check: (path, horizon) => this.checkPath(path, { refreshBefore: horizon }),
    });
  }

  #now(): number {
    return this.#clock().getTime();
  }

  #context(): SourceContext {
    return { now: this.#now(), maxAge: this.#settings.maxAge };
  }

  /**
   * The status of `path` (leaf first, then intermediates, the trust anchor last): each certificate
   * but the anchor against the next one.
   */
  async checkPath(path: readonly X509Certificate[], options: CheckOptions = {}): Promise<PathStatus> {
    const checked = path.slice(0, -1);
    // Statuses this process keeps for the whole path (the usual case on a request) are read
    // without a promise per certificate; else each is read, or looked up, on its own.
    const kept = this.#statuses.allLocal(checked.map((certificate) => cachedThumbprint(certificate)), options.refreshBefore ?? this.#now());
    kept?.forEach((record) => this.#kept(record));
    const records = kept ?? await Promise.all(checked.map((certificate, index) => {
      const role: CertificateRole = index === 0 ? 'leaf' : 'intermediate';
      const issuers = index === 0 ? checked.slice(1).map((issuer) => cachedThumbprint(issuer)) : undefined;
      return this.#statusOf(certificate, path[index + 1] as X509Certificate, role, issuers, options);
    }));
    const result = (wanted: StatusRecord['status']) => {
      const index = records.findIndex((record) => record.status === wanted);
      if (index < 0) return undefined;
      const record = records[index] as StatusRecord;
      const role: CertificateRole = index === 0 ? 'leaf' : 'intermediate';
      return { record, role, thumbprint: cachedThumbprint(checked[index] as X509Certificate) };
    };
    const revoked = result('revoked');
    if (revoked) {
      const { record, role, thumbprint } = revoked;
      return {
        status: 'revoked',
        certificate: role,
        subject: record.subject,
        serial: record.serial,
        thumbprint,
        source: record.source ?? 'ocsp',
        ...(record.revokedAt === undefined ? {} : { revokedAt: new Date(record.revokedAt) }),
        ...(record.reason === undefined ? {} : { reason: record.reason }),
        description: describeRevocation(record, role),
      };
    }
    const unknown = result('unknown');
    if (unknown) {
      const { record, role, thumbprint } = unknown;
      const why = record.description ?? 'the status cannot be established';
      return {
        status: 'unknown',
        certificate: role,
        subject: record.subject,
        serial: record.serial,
        thumbprint,
        description: role === 'leaf' ? why : `for the intermediate CA certificate ${record.subject}, ${why}`,
      };
    }
    return { status: 'good' };
  }

  /** The status of one certificate: kept here, else stored, else looked up (once for concurrent callers). */
  async #statusOf(certificate: X509Certificate, issuer: X509Certificate, role: CertificateRole, issuers: readonly string[] | undefined, options: CheckOptions): Promise<StatusRecord> {
    const thumbprint = cachedThumbprint(certificate);
    const usable = (record: StatusRecord | undefined): record is StatusRecord => record !== undefined && record.expiresAt > (options.refreshBefore ?? this.#now());
    const local = this.#statuses.local(thumbprint);
    if (usable(local)) return this.#kept(local);
    let lookup = this.#lookups.get(thumbprint);
    if (!lookup) {
      lookup = (async () => {
        const stored = await this.#statuses.stored(thumbprint);
        if (usable(stored)) return this.#kept(stored);
        this.#observer?.cacheLookup('certificate_status', false);
        return this.#lookUp(certificate, issuer, role, issuers);
      })().finally(() => this.#lookups.delete(thumbprint));
      this.#lookups.set(thumbprint, lookup);
    }
    return lookup;
  }

  #kept(record: StatusRecord): StatusRecord {
    this.#observer?.cacheLookup('certificate_status', true);
    this.#observer?.lookup('cache', record.status);
    return record;
  }

  /** Asks one source, timing it for the observer. */
  async #ask(source: StatusSource, ask: () => Promise<SourceOutcome>): Promise<SourceOutcome> {
    const started = performance.now();
    const outcome = await ask();
    this.#observer?.lookup(source, outcome.kind === 'failed' ? 'unavailable' : outcome.kind, (performance.now() - started) / 1000);
    return outcome;
  }

  /** Asks the network, records the answer and audits what it finds. */
  async #lookUp(certificate: X509Certificate, issuer: X509Certificate, role: CertificateRole, issuers: readonly string[] | undefined): Promise<StatusRecord> {
    const thumbprint = cachedThumbprint(certificate);
    let subject: CertificateInfo;
    let issuerInfo: CertificateInfo;
    try {
      subject = infoOf(certificate);
      issuerInfo = infoOf(issuer);
    } catch {
      return this.#record(thumbprint, role, {
        status: 'unknown',
        description: 'the certificate cannot be read for its status pointers',
        subject: certificate.subject.replace(/\n/g, ', '),
        serial: certificate.serialNumber,
        checkedAt: this.#now(),
        expiresAt: this.#now() + this.#settings.unreachableTtl * 1000,
      });
    }
    const failures: string[] = [];
    let outcome: SourceOutcome | undefined;
    try {
      for (const url of subject.ocspUrls) {
        outcome = await this.#ask('ocsp', () => askOcsp(url, subject, issuerInfo, this.#http, this.#limits, () => this.#context()));
        if (outcome.kind !== 'failed') break;
        failures.push(outcome.description);
      }
      if (outcome?.kind !== 'good' && outcome?.kind !== 'revoked') {
        for (const url of subject.crlUrls) {
          outcome = await this.#ask('crl', () => this.#crls.answer(url, subject, issuerInfo, () => this.#context()));
          if (outcome.kind !== 'failed') break;
          failures.push(outcome.description);
        }
      }
    } catch (error) {
      // A fault of this code or of an injected client: the status is not established, the request goes on.
      this.#logger.error({ event: 'revocation.lookup_failed', thumbprint, err: error }, 'certificate status lookup failed');
      outcome = undefined;
      failures.push('the status lookup failed');
    }
    const now = this.#now();
    const base = { subject: subject.subject, serial: subject.serial, checkedAt: now, ...(role === 'leaf' && issuers ? { issuers } : {}) };
    const fresh = (nextUpdate: number | undefined) => Math.min(nextUpdate ?? Number.POSITIVE_INFINITY, now + this.#settings.maxAge * 1000);
    if (outcome?.kind === 'good') {
      return this.#record(thumbprint, role, { ...base, status: 'good', source: outcome.source, url: outcome.url, expiresAt: fresh(outcome.nextUpdate) });
    }
    if (outcome?.kind === 'revoked') {
      const record: StatusRecord = {
        ...base,
        status: 'revoked',
        source: outcome.source,
        url: outcome.url,
        ...(outcome.revokedAt === undefined ? {} : { revokedAt: outcome.revokedAt }),
        ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
        expiresAt: 0,
      };
      const expiresAt = permanent(record) ? Math.max(subject.notAfter, now + this.#settings.maxAge * 1000) : fresh(outcome.nextUpdate);
      return this.#record(thumbprint, role, { ...record, expiresAt });
    }
    let description: string;
    if (!subject.ocspUrls.length && !subject.crlUrls.length) {
      description = subject.unusablePointers.length
        ? `the certificate names only ${subject.unusablePointers.join(' and ')}, which this server cannot use, and neither an http OCSP responder nor an http CRL: its status cannot be established`
        : NOT_CONFORMING;
    } else {
      description = failures.join('; ');
      if (!subject.crlUrls.length) description += ' and no CRL is published';
    }
    return this.#record(thumbprint, role, { ...base, status: 'unknown', description, expiresAt: now + this.#settings.unreachableTtl * 1000 });
  }

  async #record(thumbprint: string, role: CertificateRole, record: StatusRecord): Promise<StatusRecord> {
    await this.#statuses.write(thumbprint, record);
    const about = { thumbprint, subject: record.subject, serial: record.serial, certificate: role };
    if (record.status === 'revoked') await this.#audit(record, about);
    if (record.status === 'unknown') {
      this.#logger.warn({ event: 'certificate.status_unknown', ...about, description: record.description }, 'certificate status could not be established');
    }
    return record;
  }

  /** Logs a revocation once, whichever instance found it first. */
  async #audit(record: StatusRecord, about: { thumbprint: string; subject: string; serial: string; certificate: CertificateRole }): Promise<void> {
    let first = true;
    try {
      const seconds = Math.max(1, Math.ceil((record.expiresAt - this.#now()) / 1000));
      first = (await this.#storage.incrementCounter(`revocation-audit:${about.thumbprint}`, seconds)) === 1;
    } catch {
      // Better twice than never.
    }
    if (!first) return;
    this.#logger.warn({
      event: 'certificate.revoked',
      ...about,
      source: record.source,
      ...(record.revokedAt === undefined ? {} : { revokedAt: new Date(record.revokedAt).toISOString() }),
      ...(record.reason === undefined ? {} : { reason: record.reason }),
    }, describeRevocation(record, about.certificate));
  }

  /**
   * Whether the storage knows the leaf `thumbprint` revoked, or a CA on the path it was last
   * checked with. Never asks the network (token introspection calls it).
   */
  async knownRevoked(thumbprint: string): Promise<boolean> {
    const revoked = (record: StatusRecord | undefined) => record?.status === 'revoked';
    const local = this.#statuses.local(thumbprint);
    if (revoked(local)) return true;
    const known = local?.issuers;
    const [leaf, ...above] = await Promise.all([thumbprint, ...(known ?? [])].map((id) => this.#statuses.stored(id)));
    if (revoked(leaf) || above.some(revoked)) return true;
    let issuers = known ? undefined : leaf?.issuers;
    if (!known && !issuers) {
      try {
        issuers = (await this.#watchlist.path(thumbprint))?.slice(1, -1).map((certificate) => cachedThumbprint(certificate));
      } catch {
        issuers = undefined;
      }
    }
    if (!issuers?.length) return false;
    const records = await Promise.all(issuers.map((id) => this.#statuses.stored(id)));
    return records.some(revoked);
  }

  /** Whether a status on `path` (the anchor aside) is missing or expires before `horizon`. */
  async #due(path: readonly X509Certificate[], horizon: number): Promise<boolean> {
    const records = await Promise.all(path.slice(0, -1).map((certificate) => this.#statuses.read(cachedThumbprint(certificate))));
    return records.some((record) => record === undefined || record.expiresAt <= horizon);
  }

  /**
   * Adds `path` (of a leaf that authenticated) to what the sweep re-checks, until the leaf expires.
   * Once listed by this instance, costs nothing more.
   */
  watch(path: readonly X509Certificate[]): Promise<void> {
    return this.#watchlist.watch(path);
  }

  /**
   * Re-checks every watched path with a status that expired or expires within `withinSeconds`
   * (default the sweep interval, or 0 before {@link startSweep}).
   */
  sweepNow(withinSeconds?: number): Promise<SweepResult> {
    return this.#sweeper.sweep(withinSeconds);
  }

  /** Sweeps every `intervalSeconds` on an unref'd timer, one sweep at a time. */
  startSweep(intervalSeconds: number): void {
    this.#sweeper.start(intervalSeconds);
  }

  /** Whether a timed sweep is scheduled (between {@link startSweep} and {@link close}). */
  get sweeping(): boolean {
    return this.#sweeper.scheduled;
  }

  /** Stops the sweep and waits for one under way to end. */
  close(): Promise<void> {
    return this.#sweeper.stop();
  }
}
