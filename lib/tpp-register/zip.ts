/**
 * The EBA's ZIP: its JSON golden copy, read as a stream, and the SHA-256 published beside it in the
 * archive. The archive is read from a file (its central directory is at the end), with yauzl,
 * which also checks that no entry inflates beyond the size it declares.
 */
import type { Readable } from 'node:stream';

import yauzl, { type Entry, type ZipFile } from 'yauzl';

/** Largest checksum entry read: a digest and perhaps a file name. */
const MAX_CHECKSUM_BYTES = 4096;
const SHA256 = /\b([0-9a-fA-F]{64})\b/;
/** Most entries an archive may list: the EBA's holds two. */
const MAX_ENTRIES = 16;

export interface GoldenCopy {
  /** Name of the JSON entry. */
  readonly name: string;
  /** The SHA-256 (lower-case hex) the archive gives for it. */
  readonly sha256: string;
  /** Opens the JSON entry's inflated text as a stream. */
  open(): Promise<Readable>;
  close(): void;
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, zip) => (error ? reject(error) : resolve(zip)));
  });
}

function entriesOf(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (entry: Entry) => {
      entries.push(entry);
      if (entries.length > MAX_ENTRIES) reject(new Error(`the archive lists more than ${MAX_ENTRIES} entries`));
      else zip.readEntry();
    });
    zip.once('end', () => resolve(entries));
    zip.once('error', reject);
    zip.readEntry();
  });
}

async function readSmall(zip: ZipFile, entry: Entry): Promise<string> {
  if (entry.uncompressedSize > MAX_CHECKSUM_BYTES) throw new Error(`the checksum entry ${entry.fileName} is larger than ${MAX_CHECKSUM_BYTES} bytes`);
  const chunks: Buffer[] = [];
  for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const isChecksum = (name: string) => /sha-?256|checksum/i.test(name);

/**
 * The golden copy in the archive at `path`: its one `.json` entry and the entry holding its
 * SHA-256 (a name with `sha256` or `checksum` in it). Rejects an archive without either, or
 * whose JSON would inflate beyond `maxBytes`.
 */
export async function goldenCopyIn(path: string, maxBytes: number): Promise<GoldenCopy> {
  const zip = await openZip(path);
  try {
    const entries = (await entriesOf(zip)).filter((entry) => !entry.fileName.endsWith('/'));
    const json = entries.filter((entry) => entry.fileName.toLowerCase().endsWith('.json') && !isChecksum(entry.fileName));
    if (json.length !== 1) throw new Error(`the archive holds ${json.length} JSON files, not one`);
    const [data] = json as [Entry];
    if (data.uncompressedSize > maxBytes) throw new Error(`the golden copy inflates to ${data.uncompressedSize} bytes, more than ${maxBytes}`);
    const sidecar = entries.find((entry) => entry !== data && isChecksum(entry.fileName));
    if (!sidecar) throw new Error('the archive holds no SHA-256 of its golden copy');
    const sha256 = SHA256.exec(await readSmall(zip, sidecar))?.[1]?.toLowerCase();
    if (!sha256) throw new Error(`the checksum entry ${sidecar.fileName} holds no SHA-256`);
    return { name: data.fileName, sha256, open: () => zip.openReadStreamPromise(data), close: () => zip.close() };
  } catch (error) {
    zip.close();
    throw error;
  }
}
