/**
 * The EBA PSD2 register (the EBA's central register of payment and e-money institutions, Art. 15
 * PSD2): its nightly golden copy, a ZIP holding the JSON and its SHA-256, read as a stream,
 * checked against that digest, and indexed in memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { EbaSnapshot } from './snapshot.js';
import { announcedUrl, kindOf, localFile } from './source.js';
import { readEntities } from './stream-json.js';
import type { TppRegister, TppRegisterSnapshot } from './types.js';
import { goldenCopyIn } from './zip.js';

/** Options of {@link EbaRegister}. */
export interface EbaRegisterOptions {
  /**
   * Where the register is: an `https:`, `http:` or `file:` URL of the ZIP the EBA publishes, of
   * its JSON golden copy alone (read without a checksum to check), or of the metadata document
   * that announces the latest ZIP.
   */
  url: string | URL;
  /**
   * Competent authorities whose `CA_OwnerID` in the register is not the certificate's `nCAId`
   * with `_` for `-`, beyond those the product knows: `nCAId` → `CA_OwnerID`, e.g.
   * `{ 'XX-NCA': 'XX_AUTH' }`.
   */
  ncaOwnerIds?: Record<string, string>;
  /** Largest download, and largest inflated golden copy, in bytes. Default 2 GiB. */
  maxBytes?: number;
  /** Milliseconds a load may take, download included. Default 900000 (15 minutes). */
  timeout?: number;
  /** Directory for downloads while they are read. Default the system's temporary directory. */
  directory?: string;
}

/** How many metadata documents a load follows before the ZIP. */
const MAX_ANNOUNCEMENTS = 1;

/** Passes `source` through, hashing it. */
function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

export class EbaRegister implements TppRegister {
  readonly name = 'EBA PSD2 register';
  readonly #url: URL;
  readonly #options: Required<Pick<EbaRegisterOptions, 'maxBytes' | 'timeout'>> & EbaRegisterOptions;

  constructor(options: EbaRegisterOptions) {
    this.#url = new URL(options.url);
    if (!['https:', 'http:', 'file:'].includes(this.#url.protocol)) throw new TypeError(`the EBA register URL must be https:, http: or file:, not ${this.#url.protocol}`);
    this.#options = { maxBytes: 2 * 1024 ** 3, timeout: 900_000, ...options };
  }

  async load(signal: AbortSignal): Promise<TppRegisterSnapshot> {
    return this.#loadFrom(this.#url, AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeout)]), 0);
  }

  async #loadFrom(url: URL, signal: AbortSignal, announcements: number): Promise<TppRegisterSnapshot> {
    const file = await localFile(url, { maxBytes: this.#options.maxBytes, signal, directory: this.#options.directory });
    try {
      switch (await kindOf(file.path)) {
        case 'zip': return await this.#fromZip(file.path, signal);
        case 'json': return await this.#read(createReadStream(file.path), signal);
        case 'metadata':
          if (announcements >= MAX_ANNOUNCEMENTS) throw new Error('the metadata document announces another metadata document');
          return await this.#loadFrom(await announcedUrl(file.path, url), signal, announcements + 1);
        default: throw new Error('the register file is neither a ZIP nor JSON');
      }
    } finally {
      await file.dispose();
    }
  }

  async #fromZip(path: string, signal: AbortSignal): Promise<TppRegisterSnapshot> {
    const copy = await goldenCopyIn(path, this.#options.maxBytes);
    try {
      const snapshot = await this.#read(await copy.open(), signal);
      if (snapshot.digest !== copy.sha256) {
        throw new Error(`the golden copy ${copy.name} does not match its SHA-256 (${copy.sha256.slice(0, 12)}…, read ${snapshot.digest?.slice(0, 12)}…)`);
      }
      return snapshot;
    } finally {
      copy.close();
    }
  }

  /** Reads the golden copy's text into a snapshot, sealed with the text's SHA-256. */
  async #read(text: Readable, signal: AbortSignal): Promise<EbaSnapshot> {
    const hash = createHash('sha256');
    const snapshot = new EbaSnapshot(this.#options.ncaOwnerIds);
    const hashed = hashing(hash);
    // Either side failing (a read error, a parse error, an abort) ends both, and the file with them.
    await Promise.all([
      pipeline(text, hashed, { signal }),
      readEntities(hashed, (entity) => snapshot.add(entity)),
    ]);
    return snapshot.seal(hash.digest('hex'));
  }
}
