import type { Language } from '../lib/language.js';
import de from './locales/de.json' with { type: 'json' };
import en from './locales/en.json' with { type: 'json' };
import fr from './locales/fr.json' with { type: 'json' };

export type MessageKey = keyof typeof en;

/** Message catalogs; the type makes a key missing from a catalog a compile error. */
export const CATALOGS: Readonly<Record<Language, Readonly<Record<MessageKey, string>>>> = { de, en, fr };

/** Translates a key, replacing `{name}` placeholders; the result is text, escaped when rendered. */
export type Translate = (key: MessageKey, params?: Readonly<Record<string, string | number>>) => string;

const PLACEHOLDER = /\{(\w+)\}/g;

function makeTranslator(language: Language): Translate {
  const catalog = CATALOGS[language];
  return (key, params) => {
    const text = catalog[key];
    // Most messages take no parameter: they are returned as written.
    if (!params) return text;
    return text.replace(PLACEHOLDER, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}

/** One translator per language, made once. */
const TRANSLATORS: Readonly<Record<Language, Translate>> = { de: makeTranslator('de'), en: makeTranslator('en'), fr: makeTranslator('fr') };

export function translator(language: Language): Translate {
  return TRANSLATORS[language];
}
