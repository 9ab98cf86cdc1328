/**
 * Text the PSU pages show as a TPP or a payment API wrote it: a single printable line. Control
 * characters (`\p{Cc}`) and line or paragraph separators would break the line; format characters
 * (`\p{Cf}`: bidirectional overrides and isolates, zero-width spaces and joiners, soft hyphens)
 * are invisible and can make a name or a creditor read as another one.
 */
export const SINGLE_LINE_TEXT = /^[^\p{Cc}\p{Cf}\u2028\u2029]*$/u;

/** Characters that break a line: control characters and the Unicode line and paragraph separators. */
const LINE_BREAKING = /[\p{Cc}\u2028\u2029]/u;

/** Invisible characters that change how the text around them is read (`\p{Cf}`). */
const FORMAT_CHARACTER = /\p{Cf}/u;

/** What keeps `value` from being a single line of printable text, if anything. */
export function textProblem(value: string): 'control' | 'format' | undefined {
  if (LINE_BREAKING.test(value)) return 'control';
  if (FORMAT_CHARACTER.test(value)) return 'format';
  return undefined;
}
