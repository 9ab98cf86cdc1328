/**
 * What every PSU page is rendered with and sent with: its context (language, bank name, language
 * links) and its security headers.
 */
import type { Response } from 'express';

import { pickLanguage, type Language } from '../lib/language.js';
import type { ResolvedOptions } from '../lib/options/index.js';
import type { Html } from './html.js';
import { translator } from './i18n.js';
import { pageSecurityHeaders, type PageSecurity } from './security-headers.js';
import { stylesheetsOf } from './stylesheets.js';
import type { PageContext } from './views/layout.js';

type PageOptions = Pick<ResolvedOptions, 'mountPath' | 'pages'>;

/** Page context for a language; `links` builds the language switch links. */
export function pageContext(options: PageOptions, language: Language, sandbox: boolean, links?: (language: Language) => string): PageContext {
  const t = translator(language);
  const { pages } = options;
  return {
    t,
    language,
    languageLinks: links ? pages.languages.map((lang) => ({ language: lang, href: links(lang) })) : [],
    bankName: pages.bankName ?? t('page.bankName'),
    sandbox,
    stylesheets: stylesheetsOf(options).hrefs,
  };
}

/** The first offered language among `tags`, else the default. */
export function languageFrom(options: PageOptions, tags: readonly string[]): Language {
  return pickLanguage(tags, options.pages.languages, options.pages.defaultLanguage);
}

/**
 * Sends a page with its headers straight through Node: Express's `send` would hash the body for an
 * ETag that `no-store` makes useless, look up the content type by name, and turn the text into a
 * buffer written apart from the headers; a text body leaves with its headers in one write.
 */
export function sendPage(res: Response, status: number, page: Html, security: PageSecurity = {}): void {
  const headers = pageSecurityHeaders(security);
  for (const name in headers) res.setHeader(name, headers[name]!);
  const body = page.value;
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Sends the PSU's browser on with `303 See Other`, an empty body, straight through Node. */
export function seeOther(res: Response, location: string): void {
  res.writeHead(303, { Location: location, 'Content-Length': 0 });
  res.end();
}
