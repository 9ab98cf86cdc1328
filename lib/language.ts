/** Languages of the PSU pages. */
export const LANGUAGES = ['de', 'en', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: string): value is Language {
  return (LANGUAGES as readonly string[]).includes(value);
}

/**
 * The first offered language among `tags` (BCP 47 tags, most preferred first, e.g. from
 * `ui_locales`, the entry URL or Accept-Language), matched on the primary subtag; `fallback` when
 * none is offered. Never fails: clients send languages the bank may not have (DESIGN 3.5).
 */
export function pickLanguage(tags: readonly string[], offered: readonly Language[], fallback: Language): Language {
  for (const tag of tags) {
    const primary = tag.trim().split(/[-_]/)[0]?.toLowerCase() ?? '';
    if (isLanguage(primary) && offered.includes(primary)) return primary;
  }
  return fallback;
}

/** Language tags of an Accept-Language header, by decreasing weight (RFC 9110 §12.5.4). */
export function acceptLanguageTags(header: string | undefined): string[] {
  if (!header) return [];
  return header.split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { tag: tag.trim(), weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((entry) => entry.tag && entry.tag !== '*' && entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index)
    .map((entry) => entry.tag);
}
