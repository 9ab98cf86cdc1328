import { LANGUAGES, type Language } from '../language.js';

/**
 * Client metadata a TPP may register per language (RFC 7591 §2.2), e.g. `client_name#fr`. The
 * pages show the PSU's language version and fall back to the untagged value.
 */
export const LOCALIZABLE_FIELDS = ['client_name', 'logo_uri'] as const;
export type LocalizableField = (typeof LOCALIZABLE_FIELDS)[number];

/** Regions kept per language, besides the bare language tag. */
const REGIONS: Readonly<Record<Language, readonly string[]>> = {
  de: ['DE', 'AT', 'CH', 'LU', 'BE', 'LI'],
  en: ['GB', 'IE', 'US', 'MT'],
  fr: ['FR', 'BE', 'CH', 'LU', 'MC', 'CA'],
};

/** Language tags kept per field, most general first: `fr`, `fr-FR`, `fr-BE`, … */
export function languageTags(language: Language): string[] {
  return [language, ...REGIONS[language].map((region) => `${language}-${region}`)];
}

/** Every `field#tag` property kept at registration (others are ignored, as RFC 7591 §2.2 allows). */
export const LOCALIZED_METADATA: readonly string[] = LOCALIZABLE_FIELDS.flatMap(
  (field) => LANGUAGES.flatMap((language) => languageTags(language).map((tag) => `${field}#${tag}`)),
);

/** The `field#tag` names looked up per field and language, most general first: built once. */
const LOOKUPS: ReadonlyMap<LocalizableField, ReadonlyMap<Language, readonly string[]>> = new Map(LOCALIZABLE_FIELDS.map((field) => [
  field,
  new Map(LANGUAGES.map((language) => [language, languageTags(language).map((tag) => `${field}#${tag}`)])),
]));

/** The value of `field` for `language`: `field#fr`, else a regional `field#fr-XX`, else `field`. */
export function localizedValue(metadata: Readonly<Record<string, unknown>>, field: LocalizableField, language: Language): string | undefined {
  for (const name of LOOKUPS.get(field)?.get(language) ?? []) {
    const value = metadata[name];
    if (typeof value === 'string' && value) return value;
  }
  const value = metadata[field];
  return typeof value === 'string' && value ? value : undefined;
}
