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
import { stylesOf, type PageContext } from './views/layout.js';

type PageOptions = Pick<ResolvedOptions, 'pages'>;

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
    stylesheet: pages.stylesheet,
  };
}

/** The first offered language among `tags`, else the default. */
export function languageFrom(options: PageOptions, tags: readonly string[]): Language {
  return pickLanguage(tags, options.pages.languages, options.pages.defaultLanguage);
}

/** The headers of a page of the bank's styles, with what else it may load or post to. */
export function pageHeaders(options: PageOptions, security: Omit<PageSecurity, 'styles'> = {}): Record<string, string> {
  return pageSecurityHeaders({ styles: stylesOf({ stylesheet: options.pages.stylesheet }), ...security });
}

/**
 * Sends a page with its headers straight through Node: Express's `send` would hash the body for an
 * ETag that `no-store` makes useless, look up the content type by name, and turn the text into a
 * buffer written apart from the headers; a text body leaves with its headers in one write.
 */
export function sendPage(options: PageOptions, res: Response, status: number, page: Html, security: Omit<PageSecurity, 'styles'> = {}): void {
  const headers = pageHeaders(options, security);
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
