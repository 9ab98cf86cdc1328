/**
 * Reads a trusted list from where it is published: http or https (bounded in time and size, as
 * status lookups are), or a local `file:` URL for a list the operator mirrors.
 */
import { open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { HttpFailure, nodeHttpClient, type HttpClient, type HttpLimits } from '../certificates/revocation/fetch.js';
import { TrustedListError } from './xml.js';

const ACCEPT = 'application/vnd.etsi.tsl+xml, application/xml;q=0.9, text/xml;q=0.8';

async function readFileUrl(url: URL, maxBytes: number): Promise<string> {
  let file;
  try {
    file = await open(fileURLToPath(url), 'r');
  } catch (error) {
    throw new TrustedListError(`${url.href} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const { size } = await file.stat();
    if (size > maxBytes) throw new TrustedListError(`${url.href} is larger than ${maxBytes} bytes`);
    return await file.readFile('utf8');
  } finally {
    await file.close();
  }
}

/** The text of the list at `location`; `file:` only when `allowFile`. Throws {@link TrustedListError}. */
export async function fetchList(location: string, limits: HttpLimits, options: { readonly allowFile: boolean; readonly http?: HttpClient }): Promise<string> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    throw new TrustedListError(`"${location.slice(0, 200)}" is not a URL`);
  }
  if (url.protocol === 'file:' && options.allowFile) return readFileUrl(url, limits.maxBytes);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TrustedListError(`${url.protocol} URLs are not read (${url.href.slice(0, 200)})`);
  try {
    const answer = await (options.http ?? nodeHttpClient)({ url: url.href, method: 'GET', accept: ACCEPT }, limits);
    return answer.body.toString('utf8');
  } catch (error) {
    if (error instanceof HttpFailure) throw new TrustedListError(`${url.href} ${error.message}`);
    throw error;
  }
}
