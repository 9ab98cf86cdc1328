/**
 * The EBA PSD2 register (the EBA's central register of payment and e-money institutions, Art. 15
 * PSD2): its nightly golden copy, a ZIP holding the JSON and its SHA-256, read as a stream,
 * checked against that digest, and indexed in memory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { EbaSnapshot } from './snapshot.js';
import { announcement, kindOf, localFile, sha256Of, type Announcement } from './source.js';
import { readEntities } from './stream-json.js';
import type { RegisterNotice, TppRegister, TppRegisterSnapshot } from './types.js';
import { goldenCopyIn } from './zip.js';

/** Options of {@link EbaRegister}. */
export interface EbaRegisterOptions {
  /**
   * Where the register is: an `https:`, `http:` or `file:` URL of the ZIP the EBA publishes, of
   * its JSON golden copy alone (read without a checksum to check), or of the metadata document
   * that announces the latest ZIP. `http:` proves nothing of the file's origin (the SHA-256 in the
   * ZIP only proves it intact): each load over it logs a warning.
   */
  url: string | URL;
  /**
   * Competent authorities whose `CA_OwnerID` in the register is not the one the product's table
   * gives (lib/tpp-register/nca-ids.ts), or that it lacks: `nCAId` → `CA_OwnerID`, e.g.
   * `{ 'XX-NCA': 'XX_AUTH' }` (compared upper-cased).
   */
  ncaOwnerIds?: Record<string, string>;
  /** Largest download, in bytes (the EBA's ZIP is about 19 MB). Default 200 MiB. */
  maxDownloadBytes?: number;
  /** Largest golden copy once inflated, in bytes (about 220 MB). Default 1 GiB. */
  maxInflatedBytes?: number;
  /** Most entities (of every type) a golden copy may hold (about 330,000). Default 5,000,000. */
  maxEntities?: number;
  /** Milliseconds a load may take, download included. Default 900000 (15 minutes). */
  timeout?: number;
  /**
   * Directory for downloads while they are read, and where the last file that loaded is kept
   * (`eba-register-last-good`), to be read at start-up when the register cannot be reached.
   * Without it, downloads go to the system's temporary directory and nothing is kept.
   */
  directory?: string;
}

/** How many metadata documents a load follows before the ZIP. */
const MAX_ANNOUNCEMENTS = 1;
const LAST_GOOD = 'eba-register-last-good';

/** Passes `source` through, hashing it and counting its bytes. */
function hashing(hash: ReturnType<typeof createHash>, maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        callback(new Error(`the golden copy inflates to more than ${maxBytes} bytes`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
}

type Limits = Required<Pick<EbaRegisterOptions, 'maxDownloadBytes' | 'maxInflatedBytes' | 'maxEntities' | 'timeout'>>;

export class EbaRegister implements TppRegister {
  readonly name = 'EBA PSD2 register';
  readonly #url: URL;
  readonly #options: Limits & EbaRegisterOptions;

  constructor(options: EbaRegisterOptions) {
    this.#url = new URL(options.url);
    if (!['https:', 'http:', 'file:'].includes(this.#url.protocol)) throw new TypeError(`the EBA register URL must be https:, http: or file:, not ${this.#url.protocol}`);
    this.#options = { maxDownloadBytes: 200 * 1024 ** 2, maxInflatedBytes: 1024 ** 3, maxEntities: 5_000_000, timeout: 900_000, ...options };
  }

  async load(signal: AbortSignal): Promise<TppRegisterSnapshot> {
    return this.#loadFrom({ url: this.#url }, AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeout)]), 0);
  }

  /** The file kept by the last load the server accepted, read again; undefined when none is kept. */
  async loadSaved(signal: AbortSignal): Promise<{ readonly snapshot: TppRegisterSnapshot; readonly savedAt: Date } | undefined> {
    const { directory } = this.#options;
    if (!directory) return undefined;
    const path = join(directory, LAST_GOOD);
    const saved = await stat(path).catch(() => undefined);
    if (!saved) return undefined;
    const snapshot = await this.#readFile(path, AbortSignal.any([signal, AbortSignal.timeout(this.#options.timeout)]), [{
      event: 'tpp_register.saved_copy', message: 'the register could not be reached: the copy kept by the last good load is in use', fields: { path },
    }]);
    return { snapshot, savedAt: saved.mtime };
  }

  async #loadFrom(source: Announcement, signal: AbortSignal, announcements: number): Promise<TppRegisterSnapshot> {
    const { url } = source;
    const maxBytes = Math.min(this.#options.maxDownloadBytes, source.size ?? Infinity);
    const file = await localFile(url, { maxBytes, signal, directory: this.#options.directory });
    try {
      const notices: RegisterNotice[] = file.plainHttp ? [{
        event: 'tpp_register.insecure_source', message: 'the register is read over http: its origin is unproven', fields: { url: `${url.origin}${url.pathname}` },
      }] : [];
      if (source.sha256 && await sha256Of(file.path) !== source.sha256) {
        throw new Error(`the ZIP does not match the SHA-256 its metadata document announces (${source.sha256.slice(0, 12)}…)`);
      }
      if (await kindOf(file.path) === 'metadata') {
        if (announcements >= MAX_ANNOUNCEMENTS) throw new Error('the metadata document announces another metadata document');
        return await this.#loadFrom(await announcement(file.path, url), signal, announcements + 1);
      }
      const snapshot = await this.#readFile(file.path, signal, notices);
      return await this.#keepable(snapshot, file.path);
    } finally {
      await file.dispose();
    }
  }

  /** A ZIP (checked against its SHA-256) or a JSON golden copy (unverified) at `path`. */
  async #readFile(path: string, signal: AbortSignal, notices: readonly RegisterNotice[]): Promise<EbaSnapshot> {
    switch (await kindOf(path)) {
      case 'zip': return (await this.#fromZip(path, signal)).withNotices(notices);
      case 'json': return (await this.#read(createReadStream(path), signal)).withNotices([...notices, {
        event: 'tpp_register.unverified', message: 'the register is a JSON file without a checksum to check: its SHA-256 only tells copies apart',
      }]);
      default: throw new Error('the register file is neither a ZIP nor JSON');
    }
  }

  /** Stages a copy of the file beside the kept one; the server keeps it once it accepts the snapshot. */
  async #keepable(snapshot: EbaSnapshot, path: string): Promise<EbaSnapshot> {
    const { directory } = this.#options;
    if (!directory) return snapshot;
    const staged = join(directory, `${LAST_GOOD}.${randomUUID()}`);
    await copyFile(path, staged);
    return snapshot.keptBy({
      keep: () => rename(staged, join(directory, LAST_GOOD)),
      discard: () => rm(staged, { force: true }),
    });
  }

  async #fromZip(path: string, signal: AbortSignal): Promise<EbaSnapshot> {
    const copy = await goldenCopyIn(path, this.#options.maxInflatedBytes);
    try {
      const snapshot = await this.#read(await copy.open(), signal);
      if (snapshot.digest !== copy.sha256) {
        throw new Error(`the golden copy ${copy.name} does not match its SHA-256 (${copy.sha256.slice(0, 12)}…, read ${snapshot.digest?.slice(0, 12)}…)`);
      }
      return snapshot.verify();
    } finally {
      copy.close();
    }
  }

  /** Reads the golden copy's text into a snapshot, sealed with the text's SHA-256. */
  async #read(text: Readable, signal: AbortSignal): Promise<EbaSnapshot> {
    const hash = createHash('sha256');
    const snapshot = new EbaSnapshot(this.#options.ncaOwnerIds);
    const hashed = hashing(hash, this.#options.maxInflatedBytes);
    let entities = 0;
    const { maxEntities } = this.#options;
    // Either side failing (a read error, a parse error, an abort) ends both, and the file with them.
    await Promise.all([
      pipeline(text, hashed, { signal }),
      readEntities(hashed, (entity) => {
        if (++entities > maxEntities) throw new RangeError(`the golden copy holds more than ${maxEntities} entities`);
        snapshot.add(entity);
      }),
    ]);
    return snapshot.seal(hash.digest('hex'));
  }
}
