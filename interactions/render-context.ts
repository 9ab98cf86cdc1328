/**
 * What every PSU page is rendered with and sent with: its context (language, bank name, language
 * links) and its security headers.
 */
import type { Response } from 'express';

import { acceptLanguageTags, pickLanguage, type Language } from '../lib/language.js';
import { BoundedMemo } from '../lib/observability/bounded-memo.js';
import type { ResolvedOptions } from '../lib/options/index.js';
import type { Html } from './html.js';
import { translator } from './i18n.js';
import { contentSecurityPolicy, PAGE_HEADERS, type PageSecurity } from './security-headers.js';
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

/** Distinct `ui_locales` and Accept-Language values whose language is remembered, each. */
const LANGUAGES_KEPT = 256;
/** Longer values, which browsers do not send, are negotiated each time instead of kept. */
const REMEMBERED_LENGTH = 256;

/**
 * The language of a PSU who chose none on the pages: the first offered among the authorization's
 * `ui_locales` when it names any, else among the browser's Accept-Language, else the default. The
 * few values in use are negotiated once each.
 */
export function languageChoice(options: PageOptions): (uiLocales: string, acceptLanguage: string | undefined) => Language {
  const fromLocales = (uiLocales: string): Language | undefined => {
    const tags = uiLocales.split(' ').filter(Boolean);
    return tags.length ? languageFrom(options, tags) : undefined;
  };
  const fromHeader = (header: string): Language => languageFrom(options, acceptLanguageTags(header));
  const byLocales = new BoundedMemo(LANGUAGES_KEPT, fromLocales);
  const byHeader = new BoundedMemo(LANGUAGES_KEPT, fromHeader);
  // A client chooses both values: what it may make the server keep is bounded in count and length.
  const locales = (value: string) => (value.length <= REMEMBERED_LENGTH ? byLocales.get(value) : fromLocales(value));
  const header = (value: string) => (value.length <= REMEMBERED_LENGTH ? byHeader.get(value) : fromHeader(value));
  return (uiLocales, acceptLanguage) => (uiLocales ? locales(uiLocales) : undefined) ?? header(acceptLanguage ?? '');
}

/**
 * Sends a page with its headers straight through Node: Express's `send` would hash the body for an
 * ETag that `no-store` makes useless, look up the content type by name, and turn the text into a
 * buffer written apart from the headers; a text body leaves with its headers in one write.
 */
export function sendPage(res: Response, status: number, page: Html, security: PageSecurity = {}): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(security));
  for (const [name, value] of PAGE_HEADERS) res.setHeader(name, value);
  const body = page.value;
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Sends the PSU's browser on with `303 See Other`, an empty body, straight through Node. */
export function seeOther(res: Response, location: string): void {
  res.writeHead(303, { Location: location, 'Content-Length': 0 });
  res.end();
}
