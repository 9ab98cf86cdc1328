/**
 * Certificate statuses, kept in the storage so every instance shares them, and a copy in this
 * process of each status read or written, until the status's own expiry: a cached status costs no
 * storage round trip on the request path.
 */
import { recordsOf, type Records, type Storage } from '../../storage.js';
import type { Logger } from '../../logger.js';
import { Lru } from './lru.js';
import type { StatusSource } from './outcome.js';

export const STATUS_MODEL = 'CertificateStatus';

/** The status of one certificate, by its `x5t#S256`. */
export type StatusRecord = {
  readonly status: 'good' | 'revoked' | 'unknown';
  readonly source?: StatusSource;
  /** The responder or CRL that answered. */
  readonly url?: string;
  /** Epoch ms. */
  readonly revokedAt?: number;
  readonly reason?: string;
  /** Why the status is unknown. */
  readonly description?: string;
  readonly subject: string;
  readonly serial: string;
  /** Epoch ms of the lookup. */
  readonly checkedAt: number;
  /** Epoch ms until which the status holds. */
  readonly expiresAt: number;
  /** Of a leaf: the thumbprints of the CAs above it (the anchor aside) on the path it was checked with. */
  readonly issuers?: readonly string[];
};

function isRecord(payload: unknown): payload is StatusRecord {
  const record = payload as Partial<StatusRecord> | undefined;
  return typeof record === 'object' && record !== null
    && (record.status === 'good' || record.status === 'revoked' || record.status === 'unknown')
    && typeof record.expiresAt === 'number';
}

export class StatusCache {
  readonly #local: Lru<StatusRecord>;
  readonly #shared: Records<StatusRecord>;

  constructor(
    storage: Storage,
    private readonly now: () => number,
    private readonly logger: Logger,
    maxEntries = 10_000,
  ) {
    this.#local = new Lru(maxEntries);
    this.#shared = recordsOf(storage, STATUS_MODEL, isRecord);
  }

  /** The status kept in this process, while it holds. */
  local(thumbprint: string): StatusRecord | undefined {
    const record = this.#local.get(thumbprint);
    if (record && record.expiresAt <= this.now()) {
      this.#local.delete(thumbprint);
      return undefined;
    }
    return record;
  }

  /** The statuses kept in this process for each of `thumbprints`, each holding after `after`; undefined when one is not. */
  allLocal(thumbprints: readonly string[], after: number): StatusRecord[] | undefined {
    const records: StatusRecord[] = [];
    for (const thumbprint of thumbprints) {
      const record = this.local(thumbprint);
      if (record === undefined || record.expiresAt <= after) return undefined;
      records.push(record);
    }
    return records;
  }

  /** The status in the storage, while it holds; kept in this process too. Undefined when the storage fails. */
  async stored(thumbprint: string): Promise<StatusRecord | undefined> {
    let payload: StatusRecord | undefined;
    try {
      payload = await this.#shared.find(thumbprint);
    } catch (error) {
      this.logger.warn({ event: 'revocation.storage_failed', err: error }, 'certificate status could not be read from the storage');
      return undefined;
    }
    if (!payload || payload.expiresAt <= this.now()) return undefined;
    this.#local.set(thumbprint, payload);
    return payload;
  }

  /** The status kept here, else the stored one. */
  async read(thumbprint: string): Promise<StatusRecord | undefined> {
    return this.local(thumbprint) ?? this.stored(thumbprint);
  }

  /** Keeps `record` here and in the storage (a storage failure is logged: the status still holds here). */
  async write(thumbprint: string, record: StatusRecord): Promise<void> {
    this.#local.set(thumbprint, record);
    const seconds = Math.max(1, Math.ceil((record.expiresAt - this.now()) / 1000));
    try {
      await this.#shared.upsert(thumbprint, record, seconds);
    } catch (error) {
      this.logger.warn({ event: 'revocation.storage_failed', err: error }, 'certificate status could not be written to the storage');
    }
  }
}
