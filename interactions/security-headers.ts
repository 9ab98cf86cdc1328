/** Headers of every PSU page: no caching, no framing, nothing loaded but what the page names. */
export interface PageSecurity {
  /** Origins forms may post to or be redirected to (the TPP's redirect URI), besides 'self'. */
  readonly formTargets?: readonly string[];
  /** Origins images may come from (the TPP's logo), besides 'self'. */
  readonly imageOrigins?: readonly string[];
}

function parsedOrigin(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    // Only plain host names and IP literals: anything else could smuggle CSP syntax (; ,).
    const plainHost = /^(?:[a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/i.test(url.hostname);
    return (url.protocol === 'https:' || url.protocol === 'http:') && plainHost ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** Origins of the URIs seen lately (a few TPPs' redirect URIs and logos): parsed once, not per page. */
const origins = new Map<string, string | undefined>();
const ORIGINS_KEPT = 1000;

/** A CSP source expression for an origin; undefined for anything that is not http(s). */
export function originOf(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  if (origins.has(uri)) return origins.get(uri);
  const origin = parsedOrigin(uri);
  if (origins.size >= ORIGINS_KEPT) origins.clear();
  origins.set(uri, origin);
  return origin;
}

/** ` origin origin…` after a source list's 'self', nothing when there is none. */
function sources(origins: readonly string[] | undefined): string {
  return origins?.length ? ` ${origins.join(' ')}` : '';
}

/** The page's Content-Security-Policy, with what else it may load or post to. Its styles are the server's own files only. */
export function contentSecurityPolicy(security: PageSecurity = {}): string {
  return `default-src 'none'; style-src 'self'; img-src 'self'${sources(security.imageOrigins)}; form-action 'self'${sources(security.formTargets)}; frame-ancestors 'none'; base-uri 'none'`;
}

/** The headers every page has, after its Content-Security-Policy, in the order they are sent. */
export const PAGE_HEADERS: readonly (readonly [string, string])[] = [
  ['X-Frame-Options', 'DENY'],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cache-Control', 'no-store'],
  ['Pragma', 'no-cache'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=()'],
];

/** The headers of a page, with what else it may load or post to. */
export function pageSecurityHeaders(security: PageSecurity = {}): Record<string, string> {
  return { 'Content-Security-Policy': contentSecurityPolicy(security), ...Object.fromEntries(PAGE_HEADERS) };
}
