/**
 * CRLs by URL: fetched once, kept in the storage (shared by the instances) until their nextUpdate,
 * and read once per instance. A CRL past its nextUpdate is fetched again; when that gives nothing
 * fresher, it answers nothing.
 */
import { createHash } from 'node:crypto';

import { recordsOf, type Records, type Storage } from '../../storage.js';
import type { Logger } from '../../logger.js';
import type { CertificateInfo } from './certificate.js';
import { crlAnswer, crlMismatch, crlStaleness, CrlReadError, parseCrl, type ParsedCrl } from './crl.js';
import { HttpFailure, type HttpClient, type HttpLimits } from './fetch.js';
import { Lru } from './lru.js';
import { failed, type SourceContext, type SourceOutcome } from './outcome.js';

export const CRL_MODEL = 'RevocationList';

/** CRLs kept parsed in this process (each may hold many thousand entries). */
const LOCAL_CRLS = 64;

type StoredCrl = {
  readonly url: string;
  /** base64 DER. */
  readonly der: string;
};

function isStoredCrl(stored: unknown): stored is StoredCrl {
  return typeof stored === 'object' && stored !== null && 'url' in stored && typeof stored.url === 'string' && 'der' in stored && typeof stored.der === 'string';
}

function idOf(url: string): string {
  return createHash('sha256').update(url).digest('base64url');
}

export class CrlStore {
  readonly #parsed = new Lru<ParsedCrl>(LOCAL_CRLS);
  readonly #fetching = new Map<string, Promise<ParsedCrl | string>>();
  /** URLs that gave nothing fresh or nothing usable, not fetched again until the time given (epoch ms). */
  readonly #fruitless = new Lru<{ readonly until: number; readonly description: string }>(LOCAL_CRLS * 4);
  readonly #records: Records<StoredCrl>;

  constructor(
    storage: Storage,
    private readonly http: HttpClient,
    private readonly limits: HttpLimits,
    private readonly logger: Logger,
    /** Milliseconds a fruitless fetch is remembered (the checker's unreachableTtl). */
    private readonly retryAfter: number,
    /** Told whether each answer came from a CRL held and fresh (hit) or needed a fetch (miss). */
    private readonly onLookup?: (hit: boolean) => void,
  ) {
    this.#records = recordsOf(storage, CRL_MODEL, isStoredCrl);
  }

  /** What the CRL at `url` says of `subject`, issued by `issuer`. */
  async answer(url: string, subject: CertificateInfo, issuer: CertificateInfo, context: () => SourceContext): Promise<SourceOutcome> {
    const from = `the CRL ${url}`;
    let known = this.#parsed.get(url);
    if (!known || crlStaleness(known, context())) known = (await this.#stored(url)) ?? known;
    const fresh = known !== undefined && !crlStaleness(known, context());
    this.onLookup?.(fresh);
    if (known && fresh) {
      const mismatch = crlMismatch(known, subject, issuer);
      return mismatch ? failed(`${from} ${mismatch}`) : crlAnswer(known, subject, context());
    }
    const fruitless = this.#fruitless.get(url);
    if (fruitless && fruitless.until > context().now) return failed(fruitless.description);
    const fetched = await this.#fetch(url);
    if (typeof fetched === 'string') {
      return failed(known ? `${from} ${crlStaleness(known, context())} and could not be fetched again: it ${fetched}` : `${from} ${fetched}`);
    }
    const mismatch = crlMismatch(fetched, subject, issuer);
    if (mismatch) return failed(`${from} ${mismatch}`);
    const stale = crlStaleness(fetched, context());
    if (stale) {
      // Every certificate of this CRL would fetch it again for nothing: once per retryAfter is enough.
      const description = `${from} ${stale} and no fresher one is published`;
      this.#fruitless.set(url, { until: context().now + this.retryAfter, description });
      return failed(description);
    }
    this.#fruitless.delete(url);
    this.#parsed.set(url, fetched);
    await this.#store(fetched, context());
    return crlAnswer(fetched, subject, context());
  }

  async #stored(url: string): Promise<ParsedCrl | undefined> {
    let payload: StoredCrl | undefined;
    try {
      payload = await this.#records.find(idOf(url));
    } catch (error) {
      this.logger.warn({ event: 'revocation.storage_failed', err: error }, 'a CRL could not be read from the storage');
      return undefined;
    }
    if (payload?.url !== url) return undefined;
    try {
      const crl = parseCrl(Buffer.from(payload.der, 'base64'), url);
      this.#parsed.set(url, crl);
      return crl;
    } catch {
      return undefined;
    }
  }

  async #store(crl: ParsedCrl, context: SourceContext): Promise<void> {
    const until = crl.nextUpdate ?? crl.thisUpdate + context.maxAge * 1000;
    const seconds = Math.ceil((until - context.now) / 1000);
    if (seconds <= 0) return;
    const record: StoredCrl = { url: crl.url, der: crl.der.toString('base64') };
    try {
      await this.#records.upsert(idOf(crl.url), record, seconds);
    } catch (error) {
      this.logger.warn({ event: 'revocation.storage_failed', err: error }, 'a CRL could not be written to the storage');
    }
  }

  /** The CRL at `url`, fetched once for concurrent callers; a string says why there is none. */
  #fetch(url: string): Promise<ParsedCrl | string> {
    let fetching = this.#fetching.get(url);
    if (!fetching) {
      fetching = (async () => {
        try {
          const { body } = await this.http({ url, method: 'GET', accept: 'application/pkix-crl' }, this.limits);
          return parseCrl(body, url);
        } catch (error) {
          if (error instanceof HttpFailure || error instanceof CrlReadError) return error.message;
          throw error;
        }
      })().finally(() => this.#fetching.delete(url));
      this.#fetching.set(url, fetching);
    }
    return fetching;
  }
}
