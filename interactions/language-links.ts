/**
 * Where a page's language links lead: the same page in the other language (`lang`), built from
 * the server's own paths only, so that no link can leave the server whatever the request held.
 */
import type { Language } from '../lib/language.js';

/** Interaction ids as oidc-provider makes them; anything else gets no link. */
export const INTERACTION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A path of plain segments: never `//` (another host) nor a backslash, which browsers read as `/`. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9._~-]+)+$/;

/** The page of the interaction that `path` (under the pages' path `base`) names first, if it names one. */
export function interactionPageOf(base: string, path: string): string | undefined {
  const uid = path.split('/')[1] ?? '';
  return INTERACTION_ID.test(uid) ? `${base}/${uid}` : undefined;
}

/** Links to `page` (a path without query) in each language. */
export function languageLinksTo(page: string): (language: Language) => string {
  return (language) => `${page}?lang=${language}`;
}

/**
 * Links to the same request (`path` under `mountPath`, its `query`) in each language; none when
 * the path is not a plain one.
 */
export function sameRequestIn(mountPath: string, path: string, query: string): ((language: Language) => string) | undefined {
  if (!PLAIN_PATH.test(path)) return undefined;
  return (language) => {
    const params = new URLSearchParams(query);
    params.set('lang', language);
    return `${mountPath}${path}?${params}`;
  };
}
