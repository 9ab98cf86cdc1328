/**
 * The `scope` parameter of an authorization request's query string, read on every request for the
 * authorization endpoint and the entry pages, before any route has parsed the query.
 */

/** The whole query parsed, as the WHATWG URL standard does: for what the quick reading leaves. */
const parsed = (url: string, query: number): string | undefined => new URLSearchParams(url.slice(query + 1)).get('scope') ?? undefined;

/** `value` decoded as application/x-www-form-urlencoded does, or undefined when that needs the full parser. */
function decoded(value: string): string | undefined {
  if (!value.includes('%')) return value.includes('+') ? value.replaceAll('+', ' ') : value;
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    // Malformed escapes or UTF-8: the form decoding keeps or replaces them where this throws.
    return undefined;
  }
}

/** Whether `url` holds a `%` or `+` from `from` to before `to`. */
function hasEscape(url: string, from: number, to: number): boolean {
  for (let index = from; index < to; index += 1) {
    const code = url.charCodeAt(index);
    if (code === 0x25 || code === 0x2b) return true;
  }
  return false;
}

/**
 * The scope of a request URL's query string, as `new URLSearchParams(query).get('scope')` reads
 * it (the first `scope` parameter): found without parsing every parameter, and decoded alone.
 */
export function queryScope(url: string): string | undefined {
  const query = url.indexOf('?');
  if (query < 0) return undefined;
  for (let start = query + 1; start <= url.length;) {
    let end = url.indexOf('&', start);
    if (end < 0) end = url.length;
    let equals = url.indexOf('=', start);
    if (equals < 0 || equals > end) equals = end;
    if (equals - start === 5 && url.startsWith('scope', start)) {
      return decoded(url.slice(Math.min(equals + 1, end), end)) ?? parsed(url, query);
    }
    // A name written with escapes may decode to `scope`.
    if (hasEscape(url, start, equals)) return parsed(url, query);
    start = end + 1;
  }
  return undefined;
}
