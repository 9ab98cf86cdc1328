/**
 * Where a register file comes from: a local file as it is, or an `http(s)` download written to a
 * temporary file first (a ZIP is read from its end; a download is never held in memory).
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

/** A file to read, and how to dispose of it. */
export interface LocalFile {
  readonly path: string;
  /** Whether it came over plain `http:` (its origin unproven). */
  readonly plainHttp: boolean;
  dispose(): Promise<void>;
}

/** What a metadata document announces: the ZIP's URL, and its SHA-256 and size when given. */
export interface Announcement {
  readonly url: URL;
  readonly sha256?: string;
  readonly size?: number;
}

export type FileKind = 'zip' | 'json' | 'metadata' | 'unknown';

/** Fails the stream once more than `maxBytes` went through. */
function sizeLimit(maxBytes: number, what: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > maxBytes ? new Error(`${what} is larger than ${maxBytes} bytes`) : null, chunk);
    },
  });
}

/** Why a download asked over `requested` may not be read from `landed` after redirects: https: stays https:. */
export function downgradeOf(requested: URL, landed: URL): string | undefined {
  if (requested.protocol !== 'https:' || landed.protocol === 'https:') return undefined;
  return `${requested.origin}${requested.pathname} redirected to ${landed.protocol} (refused: a download started over https: stays on https:)`;
}

/** The file at `url`: a `file:` URL's own, or an `http(s)` download into a temporary directory. */
export async function localFile(url: URL, options: { readonly maxBytes: number; readonly signal: AbortSignal; readonly directory?: string }): Promise<LocalFile> {
  if (url.protocol === 'file:') return { path: fileURLToPath(url), plainHttp: false, dispose: async () => undefined };
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${url.protocol} URLs are not read`);
  const response = await fetch(url, { signal: options.signal, redirect: 'follow' });
  const landed = new URL(response.url || url.href);
  const downgrade = downgradeOf(url, landed);
  if (downgrade) {
    await response.body?.cancel();
    throw new Error(downgrade);
  }
  if (!response.ok || !response.body) throw new Error(`${url.origin}${url.pathname} answered ${response.status}`);
  const directory = await mkdtemp(join(options.directory ?? tmpdir(), 'tpp-register-'));
  const dispose = () => rm(directory, { recursive: true, force: true });
  const path = join(directory, 'download');
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), sizeLimit(options.maxBytes, 'the download'), createWriteStream(path), { signal: options.signal });
  } catch (error) {
    await dispose();
    throw error;
  }
  return { path, plainHttp: landed.protocol === 'http:', dispose };
}

/** The SHA-256 (hex) of the file at `path`, read as a stream. */
export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What a file holds, by its first bytes: a ZIP, a JSON array (the golden copy) or a JSON object (a metadata document). */
export async function kindOf(path: string): Promise<FileKind> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) return 'zip';
    const first = head.toString('utf8').replace(/^\uFEFF/, '').trimStart()[0];
    return first === '[' ? 'json' : first === '{' ? 'metadata' : 'unknown';
  } finally {
    await handle.close();
  }
}

/** Largest metadata document read. */
const MAX_METADATA_BYTES = 64 * 1024;

const SHA256 = /^[0-9a-f]{64}$/i;

/**
 * The ZIP a metadata document announces (the EBA's `golden_copy_path_context` followed by
 * `latest_version_relative_zip_path`), with its `sha256_hash` and `latest_version_relative_zip_size`
 * when given. An `http(s)` document may announce only `http(s)` URLs.
 */
export async function announcement(path: string, documentUrl: URL): Promise<Announcement> {
  if ((await stat(path)).size > MAX_METADATA_BYTES) throw new Error(`the metadata document is larger than ${MAX_METADATA_BYTES} bytes`);
  const document: unknown = JSON.parse(await readFile(path, 'utf8'));
  const field = (name: string) => (typeof document === 'object' && document !== null && name in document ? (document as Record<string, unknown>)[name] : undefined);
  const context = field('golden_copy_path_context');
  const relative = field('latest_version_relative_zip_path');
  if (typeof relative !== 'string') throw new Error('the metadata document announces no latest_version_relative_zip_path');
  const url = typeof context === 'string' ? new URL(context + relative) : new URL(relative, documentUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && !(url.protocol === 'file:' && documentUrl.protocol === 'file:')) {
    throw new Error(`the metadata document announces a ${url.protocol} URL`);
  }
  const hash = field('sha256_hash');
  if (hash !== undefined && (typeof hash !== 'string' || !SHA256.test(hash))) throw new Error('the metadata document\'s sha256_hash is not a SHA-256');
  const size = Number(field('latest_version_relative_zip_size'));
  return {
    url,
    ...(typeof hash === 'string' ? { sha256: hash.toLowerCase() } : {}),
    ...(Number.isSafeInteger(size) && size > 0 ? { size } : {}),
  };
}
