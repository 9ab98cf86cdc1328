/**
 * The last verified lists in the storage, for the next start: the set (what was kept of each list,
 * and when it was verified) and the signed text of each list, which is verified again against the
 * pins when it is read back, so that the stored record proves nothing by itself.
 */
import type { X509Certificate } from 'node:crypto';

import type { Logger } from '../logger.js';
import { errorForLog } from '../observability/errors-for-log.js';
import { recordsOf, type Records, type Storage } from '../storage.js';
import { isStoredTrustedSet, type StoredTrustedSet } from './anchors.js';
import { LOTL_KEY, pinsOf } from './load.js';

const MODEL = 'TrustedList';
const TEXT_MODEL = 'TrustedListText';
const RECORD_ID = 'eu-lotl';

type StoredText = { readonly sequenceNumber: number; readonly text: string };

function isStoredText(value: unknown): value is StoredText {
  const record = value as Partial<StoredText> | undefined;
  return typeof record === 'object' && record !== null && typeof record.text === 'string' && typeof record.sequenceNumber === 'number';
}

/** The stored set and the texts of its lists. */
export interface StoredLists {
  readonly set: StoredTrustedSet;
  readonly texts: Readonly<Record<string, string>>;
}

export class TrustedListStore {
  readonly #sets: Records<StoredTrustedSet>;
  readonly #texts: Records<StoredText>;
  /** The sequence number of each list whose text is known to be stored: a list read again unchanged is not written again. */
  readonly #written = new Map<string, number>();

  constructor(storage: Storage, private readonly logger: Logger) {
    this.#sets = recordsOf(storage, MODEL, isStoredTrustedSet);
    this.#texts = recordsOf(storage, TEXT_MODEL, isStoredText);
  }

  /** What is stored for the LOTL at `url` verified against `signers`; undefined when nothing is, or it was verified otherwise. */
  async read(url: string, signers: readonly X509Certificate[]): Promise<StoredLists | undefined> {
    try {
      const set = await this.#sets.find(RECORD_ID);
      if (!set) return undefined;
      // A set verified against other pins, or read from elsewhere, proves nothing about this configuration.
      if (set.url !== url || set.pins.join() !== pinsOf(signers).join()) {
        this.logger.warn({ event: 'trusted_list.stored_discarded' }, 'the stored EU trusted lists were verified against other pins or another URL: not used');
        return undefined;
      }
      const versions = { [LOTL_KEY]: set.lotl, ...set.territories };
      const texts: Record<string, string> = {};
      for (const [key, version] of Object.entries(versions)) {
        const stored = await this.#texts.find(key);
        if (stored?.sequenceNumber !== version.sequenceNumber) continue;
        texts[key] = stored.text;
        this.#written.set(key, stored.sequenceNumber);
      }
      return { set, texts };
    } catch (error) {
      this.logger.error({ event: 'trusted_list.storage_failed', err: errorForLog(error) }, 'the stored EU trusted lists could not be read');
      return undefined;
    }
  }

  /** Stores the texts of the lists just verified, then the set. */
  async write(set: StoredTrustedSet, texts: Readonly<Record<string, string>>): Promise<void> {
    const versions: Record<string, { readonly sequenceNumber: number }> = { [LOTL_KEY]: set.lotl, ...set.territories };
    try {
      for (const [key, text] of Object.entries(texts)) {
        const sequenceNumber = versions[key]?.sequenceNumber;
        if (sequenceNumber === undefined || this.#written.get(key) === sequenceNumber) continue;
        await this.#texts.upsert(key, { sequenceNumber, text });
        this.#written.set(key, sequenceNumber);
      }
      await this.#sets.upsert(RECORD_ID, set);
    } catch (error) {
      this.logger.error({ event: 'trusted_list.storage_failed', err: errorForLog(error) }, 'the verified EU trusted lists could not be stored');
    }
  }
}
