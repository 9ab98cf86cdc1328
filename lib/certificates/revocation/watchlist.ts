/**
 * The certificate paths of leaves that authenticated, kept in the storage until each leaf expires,
 * so that the sweep re-checks them on every instance and after a restart. The storage lists no
 * keys, so the thumbprints are listed in a few index records updated by read-modify-write; an
 * update lost to a concurrent one is written again by the instance that made it, at its next sweep.
 */
import { X509Certificate } from 'node:crypto';

import { recordsOf, type Records, type Storage } from '../../storage.js';
import type { Logger } from '../../logger.js';
import { cachedThumbprint, infoOf } from './certificate.js';

export const WATCHED_MODEL = 'WatchedCertificate';
export const WATCH_INDEX_MODEL = 'WatchedCertificateIndex';

/** Index records: few enough to read at each sweep, enough to keep concurrent updates apart. */
const BUCKETS = 16;

type WatchedRecord = {
  /** base64 DER, leaf first, the anchor last. */
  readonly path: readonly string[];
  readonly notAfter: number;
};

type IndexRecord = {
  /** Thumbprint → the leaf's notAfter (epoch ms). */
  readonly entries: Record<string, number>;
};

function isWatchedRecord(stored: unknown): stored is WatchedRecord {
  return typeof stored === 'object' && stored !== null && 'path' in stored && Array.isArray(stored.path) && stored.path.every((der) => typeof der === 'string')
    && 'notAfter' in stored && typeof stored.notAfter === 'number';
}

function isIndexRecord(stored: unknown): stored is IndexRecord {
  return typeof stored === 'object' && stored !== null && 'entries' in stored && typeof stored.entries === 'object' && stored.entries !== null
    && Object.values(stored.entries).every((notAfter) => typeof notAfter === 'number');
}

function bucketOf(thumbprint: string): string {
  return String(thumbprint.charCodeAt(0) % BUCKETS);
}

export class Watchlist {
  /** Leaves this instance listed (thumbprint → notAfter): not written again, and re-listed when lost. */
  readonly #mine = new Map<string, number>();
  readonly #pending = new Set<string>();
  readonly #watched: Records<WatchedRecord>;
  readonly #index: Records<IndexRecord>;

  constructor(
    storage: Storage,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {
    this.#watched = recordsOf(storage, WATCHED_MODEL, isWatchedRecord);
    this.#index = recordsOf(storage, WATCH_INDEX_MODEL, isIndexRecord);
  }

  /** Remembers `path` until its leaf expires; a leaf this instance already listed costs nothing. */
  async watch(path: readonly X509Certificate[]): Promise<void> {
    const leaf = path[0];
    if (!leaf) return;
    const thumbprint = cachedThumbprint(leaf);
    if (this.#mine.has(thumbprint) || this.#pending.has(thumbprint)) return;
    const notAfter = infoOf(leaf).notAfter;
    const seconds = Math.ceil((notAfter - this.now()) / 1000);
    if (seconds <= 0) return;
    this.#pending.add(thumbprint);
    try {
      const record: WatchedRecord = { path: path.map((certificate) => certificate.raw.toString('base64')), notAfter };
      await this.#watched.upsert(thumbprint, record, seconds);
      await this.#list(bucketOf(thumbprint), { [thumbprint]: notAfter });
      this.#mine.set(thumbprint, notAfter);
    } catch (error) {
      this.logger.warn({ event: 'revocation.storage_failed', err: error, thumbprint }, 'a certificate could not be added to the revocation sweep');
    } finally {
      this.#pending.delete(thumbprint);
    }
  }

  /** Adds `additions` to an index record, dropping expired entries. */
  async #list(bucket: string, additions: Record<string, number>): Promise<void> {
    const current = await this.#index.find(bucket);
    const now = this.now();
    const entries = Object.fromEntries(Object.entries({ ...current?.entries, ...additions }).filter(([, notAfter]) => notAfter > now));
    await this.#index.upsert(bucket, { entries });
  }

  /**
   * Every listed leaf (thumbprint → notAfter), after writing again those this instance listed and
   * that a concurrent update lost.
   */
  async listed(): Promise<Map<string, number>> {
    const now = this.now();
    for (const [thumbprint, notAfter] of this.#mine) if (notAfter <= now) this.#mine.delete(thumbprint);
    const all = new Map<string, number>();
    await Promise.all(Array.from({ length: BUCKETS }, async (_, index) => {
      const bucket = String(index);
      const current = await this.#index.find(bucket);
      const entries = current?.entries ?? {};
      const lost = Object.fromEntries([...this.#mine].filter(([thumbprint]) => bucketOf(thumbprint) === bucket && !(thumbprint in entries)));
      if (Object.keys(lost).length) await this.#list(bucket, lost);
      for (const [thumbprint, notAfter] of Object.entries({ ...entries, ...lost })) if (notAfter > now) all.set(thumbprint, notAfter);
    }));
    return all;
  }

  /** The path a leaf was listed with; undefined when it expired or cannot be read. */
  async path(thumbprint: string): Promise<X509Certificate[] | undefined> {
    const record = await this.#watched.find(thumbprint);
    if (!record?.path.length) return undefined;
    try {
      return record.path.map((der) => new X509Certificate(Buffer.from(der, 'base64')));
    } catch {
      return undefined;
    }
  }

  /** Stops sweeping a leaf (e.g. its record expired). */
  async forget(thumbprint: string): Promise<void> {
    this.#mine.delete(thumbprint);
    const bucket = bucketOf(thumbprint);
    const current = await this.#index.find(bucket);
    if (!current || !(thumbprint in current.entries)) return;
    const { [thumbprint]: _gone, ...entries } = current.entries;
    await this.#index.upsert(bucket, { entries });
  }
}
