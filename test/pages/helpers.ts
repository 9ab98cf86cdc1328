/**
 * Shared helpers of the PSU page tests: what every page must carry (security headers, no script),
 * a recorder of saved grants, and short ways to reach each step of the pages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { expect } from 'chai';

import {
  authorizationUrl,
  entryPath,
  openPages,
  requestParams,
  submit,
  type Pkce,
  type TestClient,
} from '../authorization/helpers.js';
import { PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import type { TestServer } from '../support/server.js';

export const TPP_ORIGIN = 'https://tpp.example';

export type Catalog = Record<string, string>;

/** The message catalogs as shipped, read from the JSON files themselves. */
export function catalogs(): Record<'de' | 'en' | 'fr', Catalog> {
  const read = (language: string) => JSON.parse(readFileSync(join(process.cwd(), 'interactions', 'locales', `${language}.json`), 'utf8')) as Catalog;
  return { de: read('de'), en: read('en'), fr: read('fr') };
}

/** `text` as it must appear in HTML text or in a quoted attribute. */
export function escaped(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').replace(/`/g, '&#96;');
}

/** A catalog message with `{placeholders}` filled, escaped as the page shows it. */
export function message(catalog: Catalog, key: string, params: Record<string, string | number> = {}): string {
  const value = catalog[key];
  expect(value, `catalog key ${key}`).to.be.a('string');
  return escaped(value!.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole)));
}

/** The directives of a Content-Security-Policy header, by name. */
export function cspOf(page: PageResponse): Map<string, string[]> {
  const header = page.headers['content-security-policy'];
  expect(header, `a Content-Security-Policy on ${page.status} ${page.url}`).to.be.a('string');
  return new Map(String(header).split(';').map((part) => part.trim()).filter(Boolean).map((part) => {
    const [name = '', ...values] = part.split(/\s+/);
    return [name.toLowerCase(), values];
  }));
}

/** The `lang` attribute of the page's `<html>` element. */
export function htmlLang(page: PageResponse): string | undefined {
  return /<html\b[^>]*\blang="([^"]*)"/.exec(page.text)?.[1];
}

/**
 * A stylesheet a page links to, fetched as a browser would: CSS, served for good (its name changes
 * with its text), never sniffed as anything else, for the server's own pages only.
 */
export async function expectStylesheet(url: string, where = url): Promise<string> {
  const sheet = await new PsuBrowser().get(url);
  expect(sheet.status, `${where}: ${url}`).to.equal(200);
  expect(sheet.headers['content-type'], `${where}: ${url}`).to.equal('text/css; charset=utf-8');
  expect(sheet.headers['cache-control'], `${where}: ${url}`).to.equal('public, max-age=31536000, immutable');
  expect(sheet.headers['x-content-type-options'], `${where}: ${url}`).to.equal('nosniff');
  expect(sheet.headers['cross-origin-resource-policy'], `${where}: ${url}`).to.equal('same-origin');
  expect(sheet.headers['content-length'], `${where}: ${url}`).to.equal(String(Buffer.byteLength(sheet.text)));
  expect(sheet.text, `${where}: ${url}`).not.to.equal('');
  return sheet.text;
}

/** The addresses of the stylesheets a page links to, resolved against its URL. */
export function stylesheetLinks(page: PageResponse): string[] {
  return [...page.text.matchAll(/<link rel="stylesheet" href="([^"]*)">/g)].map((match) => new URL((match[1] ?? '').replace(/&amp;/g, '&'), page.url).href);
}

/**
 * What every PSU page must carry: a CSP that allows no style but the server's own stylesheet files
 * (which the page links to, and which are served as CSS) and forms to itself (and to the TPP when
 * `formTarget` is given), no framing, no caching, no script, no inline style or event handler.
 */
export async function expectSecurePage(page: PageResponse, options: { formTarget?: string } = {}): Promise<void> {
  const where = `${page.status} ${page.url}`;
  expect(page.headers['content-type'], where).to.match(/^text\/html/);
  const csp = cspOf(page);
  expect(csp.get('default-src'), where).to.deep.equal(["'none'"]);
  expect(csp.get('frame-ancestors'), where).to.deep.equal(["'none'"]);
  expect(csp.has('script-src'), `${where}: no script source is allowed`).to.equal(false);
  expect(csp.get('style-src'), `${where}: styles from the server's files only`).to.deep.equal(["'self'"]);
  expect(page.text, `${where}: no inline stylesheet`).not.to.match(/<style/i);
  const stylesheets = stylesheetLinks(page);
  expect(stylesheets, `${where}: the page's stylesheet`).to.have.length.greaterThan(0);
  for (const href of stylesheets) {
    expect(new URL(href).origin, `${where}: stylesheets come from the server itself`).to.equal(new URL(page.url).origin);
    await expectStylesheet(href, where);
  }
  const formAction = csp.get('form-action') ?? [];
  expect(formAction, where).to.include("'self'");
  if (options.formTarget) expect(formAction, `${where}: form-action allows the TPP's redirect origin`).to.include(options.formTarget);
  expect(page.headers['x-frame-options'], where).to.equal('DENY');
  expect(String(page.headers['cache-control']), where).to.match(/\bno-store\b/);
  expect(page.headers['x-content-type-options'], where).to.equal('nosniff');
  expect(page.headers['referrer-policy'], where).to.equal('no-referrer');
  expect(page.text, `${where}: no script`).not.to.match(/<script/i);
  for (const [element] of page.text.matchAll(/<[a-zA-Z][^>]*>/g)) {
    // Attribute names only: quoted values are text (escaped by the page).
    const tag = element.replace(/"[^"]*"/g, '""');
    expect(tag, `${where}: no inline event handler`).not.to.match(/\son[a-z]+\s*=/i);
    expect(tag, `${where}: no inline style attribute (the CSP would block it)`).not.to.match(/\sstyle\s*=/i);
  }
  for (const [, action] of page.text.matchAll(/<form\b[^>]*\baction="([^"]*)"/g)) {
    expect(new URL((action ?? '').replace(/&amp;/g, '&'), page.url).origin, `${where}: forms post to the server itself`).to.equal(new URL(page.url).origin);
  }
}

/** Records the ids of the grants the server saves from now on. */
export function watchGrants(server: TestServer): { readonly ids: string[]; stop(): void } {
  const adapter = server.auth.storage.adapterFor('Grant');
  const original = adapter.upsert.bind(adapter);
  const ids: string[] = [];
  adapter.upsert = async (id, payload, expiresIn) => {
    ids.push(id);
    return original(id, payload, expiresIn);
  };
  return {
    ids,
    stop: () => {
      adapter.upsert = original;
    },
  };
}

/** Which step a page shows, by the form it posts. */
export function stepOf(page: PageResponse): 'signin' | 'second-factor' | 'consent' | 'other' {
  if (/<form method="post" action="[^"]*\/signin"/.test(page.text)) return 'signin';
  if (/<form method="post" action="[^"]*\/second-factor"/.test(page.text)) return 'second-factor';
  if (/<form method="post" action="[^"]*\/consent"/.test(page.text)) return 'consent';
  return 'other';
}

export interface Opened {
  readonly page: PageResponse;
  readonly params: Record<string, string | undefined>;
}

/** Opens the sign-in page of `client`'s environment through its entry page in `language`. */
export async function openSignIn(server: TestServer, browser: PsuBrowser, client: TestClient, options: {
  language?: string;
  params?: Record<string, string | undefined>;
  pair?: Pkce;
} = {}): Promise<Opened> {
  const params = requestParams(client, options.params, options.pair);
  const page = await openPages(server, browser, authorizationUrl(server, params, entryPath(client.environment, options.language ?? 'en')));
  return { page, params };
}

/** Opens the pages of a sandbox client and signs in as `psuId`: the consent page. */
export async function openSandboxConsent(server: TestServer, browser: PsuBrowser, client: TestClient, options: {
  language?: string;
  params?: Record<string, string | undefined>;
  psuId?: string;
  pair?: Pkce;
} = {}): Promise<Opened> {
  const { page: signIn, params } = await openSignIn(server, browser, client, options);
  const page = await submit(server, browser, signIn, '/signin', { psu: options.psuId ?? 'sandbox-anna' });
  expect(page.status, page.text).to.equal(200);
  expect(stepOf(page)).to.equal('consent');
  return { page, params };
}

/** Opens the pages of a bank client and signs in with `login`/`password` (and the code if asked). */
export async function openBankConsent(server: TestServer, browser: PsuBrowser, client: TestClient, options: {
  language?: string;
  params?: Record<string, string | undefined>;
  login?: string;
  password?: string;
  code?: string;
  pair?: Pkce;
} = {}): Promise<Opened> {
  const { page: signIn, params } = await openSignIn(server, browser, client, options);
  let page = await submit(server, browser, signIn, '/signin', { login: options.login ?? 'marie', password: options.password ?? 'correct horse' });
  if (stepOf(page) === 'second-factor') page = await submit(server, browser, page, '/second-factor', { code: options.code ?? '123456' });
  expect(page.status, page.text).to.equal(200);
  expect(stepOf(page)).to.equal('consent');
  return { page, params };
}
