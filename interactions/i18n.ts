import type { Language } from '../lib/language.js';
import de from './locales/de.json' with { type: 'json' };
import en from './locales/en.json' with { type: 'json' };
import fr from './locales/fr.json' with { type: 'json' };

export type MessageKey = keyof typeof en;

/** Message catalogs; the type makes a key missing from a catalog a compile error. */
export const CATALOGS: Readonly<Record<Language, Readonly<Record<MessageKey, string>>>> = { de, en, fr };

/** Translates a key, replacing `{name}` placeholders; the result is text, escaped when rendered. */
export type Translate = (key: MessageKey, params?: Readonly<Record<string, string | number>>) => string;

/** A message cut at its `{name}` placeholders: literal text at even places, names at odd ones. */
type Template = readonly string[];

function makeTranslator(language: Language): Translate {
  const catalog = CATALOGS[language];
  const templates = new Map<MessageKey, Template>();
  return (key, params) => {
    const text = catalog[key];
    // Most messages take no parameter: they are returned as written.
    if (!params) return text;
    let template = templates.get(key);
    if (!template) {
      template = text.split(/\{(\w+)\}/);
      templates.set(key, template);
    }
    let out = template[0]!;
    for (let i = 1; i < template.length; i += 2) {
      const name = template[i]!;
      out += (name in params ? String(params[name]) : `{${name}}`) + template[i + 1]!;
    }
    return out;
  };
}

/** One translator per language, made once. */
const TRANSLATORS: Readonly<Record<Language, Translate>> = { de: makeTranslator('de'), en: makeTranslator('en'), fr: makeTranslator('fr') };

export function translator(language: Language): Translate {
  return TRANSLATORS[language];
}
