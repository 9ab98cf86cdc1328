/**
 * The pages' stylesheets as files: the package's own and the bank's (`pages.stylesheet`), each
 * served under the pages' path with a hash of its text in its name. A browser fetches each once
 * and keeps it; every page carries only links to them, and its CSP allows no style but the
 * server's own files.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

import type { ResolvedOptions } from '../lib/options/index.js';
import { PAGE_ASSETS_PATH } from '../lib/routes.js';
import { STYLESHEET } from './views/style.js';

type StylesheetOptions = Pick<ResolvedOptions, 'mountPath' | 'pages'>;

export interface PageStylesheets {
  /** The links every page carries, in cascade order: the package's stylesheet, then the bank's. */
  readonly hrefs: readonly string[];
  /** The file named `name` (`{hash}.css`), if it is one of them. */
  file(name: string): Buffer | undefined;
}

/**
 * A name changes with the text, so a browser may keep a file for good: a new stylesheet (another
 * package version, or the bank's changed) has a new name that the pages link to.
 */
const HEADERS = {
  'Content-Type': 'text/css; charset=utf-8',
  'Cache-Control': 'public, max-age=31536000, immutable',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const made = new WeakMap<StylesheetOptions, PageStylesheets>();

/** The stylesheets of the pages of `options`, made the first time they are asked for. */
export function stylesheetsOf(options: StylesheetOptions): PageStylesheets {
  let stylesheets = made.get(options);
  if (!stylesheets) {
    const files = new Map<string, Buffer>();
    for (const css of options.pages.stylesheet ? [STYLESHEET, options.pages.stylesheet] : [STYLESHEET]) {
      const body = Buffer.from(css, 'utf8');
      files.set(`${createHash('sha256').update(body).digest('hex').slice(0, 20)}.css`, body);
    }
    const hrefs = [...files.keys()].map((name) => `${options.mountPath}${PAGE_ASSETS_PATH}/${name}`);
    stylesheets = { hrefs, file: (name) => files.get(name) };
    made.set(options, stylesheets);
  }
  return stylesheets;
}

/** Sends a stylesheet's file (to GET or HEAD) straight through Node, as the pages are sent. */
export function sendStylesheet(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, { ...HEADERS, 'Content-Length': body.length });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
