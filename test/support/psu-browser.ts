/**
 * A PSU's browser without JavaScript, over real HTTPS: keeps cookies by path, follows nothing by
 * itself (tests look at every redirect), and posts forms the way a browser does.
 */
import { request } from 'node:https';

import { testPki } from './pki.js';

export interface PageResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The Location header, resolved against the request URL. */
  readonly location: string | undefined;
  readonly url: string;
}

interface Cookie {
  name: string;
  value: string;
  path: string;
}

export class PsuBrowser {
  readonly #cookies = new Map<string, Cookie>();

  /**
   * `ca`: the server's CA, when it is not the test PKI's (e.g. the example app's development PKI).
   * `localAddress`: the loopback address to connect from, when a test needs another peer address.
   */
  constructor(readonly acceptLanguage?: string, readonly ca?: string, readonly localAddress?: string) {}

  /** Cookie names the browser holds now. */
  get cookieNames(): string[] {
    return [...this.#cookies.values()].map((c) => c.name);
  }

  /** Forgets every cookie, as when the browser is closed (session cookies) or cleared. */
  clearCookies(): void {
    this.#cookies.clear();
  }

  get(url: string, headers: Record<string, string> = {}): Promise<PageResponse> {
    return this.#send('GET', url, undefined, headers);
  }

  /** Posts `fields` as application/x-www-form-urlencoded; repeated names as arrays. */
  post(url: string, fields: Record<string, string | readonly string[]>, headers: Record<string, string> = {}): Promise<PageResponse> {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) {
      for (const item of typeof value === 'string' ? [value] : value) body.append(name, item);
    }
    return this.#send('POST', url, body.toString(), { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin, ...headers });
  }

  /** Follows redirects from `response` while they stay on `origin`; returns the first response that is not one. */
  async follow(response: PageResponse, origin: string): Promise<PageResponse> {
    let current = response;
    for (let hops = 0; hops < 10 && current.location && current.location.startsWith(origin); hops += 1) {
      current = await this.get(current.location);
    }
    return current;
  }

  async #send(method: string, url: string, body: string | undefined, headers: Record<string, string>): Promise<PageResponse> {
    const ca = this.ca ?? (await testPki()).serverCa.certPem;
    const target = new URL(url);
    const cookie = [...this.#cookies.values()]
      .filter((c) => target.pathname === c.path || target.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    return new Promise((resolve, reject) => {
      const req = request(target, {
        method,
        ca,
        ...(this.localAddress ? { localAddress: this.localAddress } : {}),
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(this.acceptLanguage ? { 'accept-language': this.acceptLanguage } : {}),
          ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
          ...headers,
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          this.#store(res.headers['set-cookie'] ?? []);
          const location = res.headers.location ? new URL(res.headers.location, url).href : undefined;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), location, url });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  #store(setCookies: readonly string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attribute = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const path = attribute('path') ?? '/';
      const expires = attribute('expires');
      const maxAge = attribute('max-age');
      const gone = maxAge !== undefined ? Number(maxAge) <= 0 : expires !== undefined && Date.parse(expires) <= Date.now();
      const key = `${name} ${path}`;
      if (gone || !value) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }
}

/** The value of the hidden CSRF field of a page. */
export function csrfOf(page: PageResponse): string {
  const match = /name="csrf" value="([^"]+)"/.exec(page.text);
  if (!match?.[1]) throw new Error(`no CSRF field on the page (${page.status} ${page.url})`);
  return match[1];
}

/** The action of the form whose action ends with `suffix`. */
export function formAction(page: PageResponse, suffix: string): string {
  const actions = [...page.text.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => m[1] ?? '');
  const action = actions.find((a) => a.endsWith(suffix));
  if (!action) throw new Error(`no form posting to …${suffix} on the page; forms: ${actions.join(', ')}`);
  return new URL(action.replace(/&amp;/g, '&'), page.url).href;
}
