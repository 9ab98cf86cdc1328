/** Paths of the endpoints, relative to the mount path. */
export const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  revocation: '/revoke',
  registration: '/register',
  jwks: '/jwks',
  introspection: '/introspect',
} as const;

/**
 * Where oidc-provider would take pushed authorization requests (RFC 9126). Only the bank's payment
 * API pushes requests, in process: over HTTP this path answers 404.
 */
export const PUSHED_REQUEST_PATH = '/request';

/** Path prefix of the PSU pages, relative to the mount path. */
export const INTERACTION_PATH = '/interaction';

/**
 * Where the pages' stylesheets are served, `{hash}.css` under it. No page is at a path of two
 * segments whose last one holds a dot: interaction ids and step names have none.
 */
export const PAGE_ASSETS_PATH = `${INTERACTION_PATH}/assets`;

/** Paths of the OpenAPI document and its human view, relative to the mount path. */
export const DOCUMENT_PATHS = { json: '/openapi.json', yaml: '/openapi.yaml', view: '/docs' } as const;

/** Paths an entry page alias must not shadow. */
export const RESERVED_PATHS: readonly string[] = [...Object.values(ROUTES), ...Object.values(DOCUMENT_PATHS), INTERACTION_PATH, PUSHED_REQUEST_PATH, '/.well-known', '/session'];

const RESERVED_PREFIXES: readonly string[] = RESERVED_PATHS.map((reserved) => `${reserved}/`);

/** Whether `path` is an endpoint path or lies under one. */
export function isReservedPath(path: string): boolean {
  for (let i = 0; i < RESERVED_PATHS.length; i += 1) {
    if (path === RESERVED_PATHS[i] || path.startsWith(RESERVED_PREFIXES[i]!)) return true;
  }
  return false;
}

/**
 * A matcher for an entry page path such as `/{lang}/sandbox/signin.html`; the first group is the
 * language. Entry paths hold only letters, digits, `. _ ~ -` and `{lang}` (checked by the options).
 */
export function entryPattern(path: string): RegExp {
  const escaped = path.replace(/\./g, '\\.').replace('{lang}', '([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*)');
  return new RegExp(`^${escaped}$`);
}
