/**
 * Where a page's language links lead: the same page in the other language (`lang`), built from
 * the server's own paths only, so that no link can leave the server whatever the request held.
 */
import type { Language } from '../lib/language.js';

/** Interaction ids as oidc-provider makes them; anything else gets no link. */
export const INTERACTION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The page of the interaction that `path` (under the pages' path `base`) names first, if it names one. */
export function interactionPageOf(base: string, path: string): string | undefined {
  const uid = path.split('/')[1] ?? '';
  return INTERACTION_ID.test(uid) ? `${base}/${uid}` : undefined;
}

/** Links to `page` (a path without query) in each language. */
export function languageLinksTo(page: string): (language: Language) => string {
  return (language) => `${page}?lang=${language}`;
}
