/**
 * Rendered pages kept as templates: the same step in the same language for the same TPP (and, on
 * the consent page, the same accounts) differs from one PSU to the next only by the interaction in
 * its addresses and by its form token. Such a page is rendered once with placeholders for those
 * two, and filled in for each PSU.
 */
import { randomBytes } from 'node:crypto';

import { escapeHtml } from './html.js';

/** Pages kept at most; past it the cache starts over (a bank's TPPs × languages × steps stay well below). */
const KEPT = 500;

/** A rendered page cut at its placeholders: text at even places, placeholders at odd ones. */
export type PageTemplate = readonly string[];

export class PageTemplates {
  readonly #templates = new Map<string, PageTemplate>();
  /** Placeholders of the interaction id and the form token, unguessable: no TPP name or bank data can hold one. */
  readonly uid: string;
  readonly csrf: string;
  readonly #placeholders: RegExp;

  constructor() {
    const nonce = randomBytes(12).toString('hex');
    this.uid = `[uid-${nonce}]`;
    this.csrf = `[csrf-${nonce}]`;
    this.#placeholders = new RegExp(`(\\[uid-${nonce}\\]|\\[csrf-${nonce}\\])`);
  }

  /** The template of `key`, rendered by `render` (given the placeholders) the first time. */
  template(key: string, render: (uid: string, csrf: string) => string): PageTemplate {
    let template = this.#templates.get(key);
    if (!template) {
      template = render(this.uid, this.csrf).split(this.#placeholders);
      if (this.#templates.size >= KEPT) this.#templates.clear();
      this.#templates.set(key, template);
    }
    return template;
  }

  /** The page of one PSU: the template with their interaction id and form token, escaped as any value is. */
  fill(template: PageTemplate, uid: string, csrf: string): string {
    const id = escapeHtml(uid);
    const token = escapeHtml(csrf);
    let out = template[0] ?? '';
    for (let i = 1; i < template.length; i += 2) out += (template[i] === this.uid ? id : token) + (template[i + 1] ?? '');
    return out;
  }
}
