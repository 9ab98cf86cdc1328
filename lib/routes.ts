/** Paths of the endpoints, relative to the mount path. */
export const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  revocation: '/revoke',
  registration: '/register',
  jwks: '/jwks',
} as const;

/** Path prefix of the PSU pages, relative to the mount path. */
export const INTERACTION_PATH = '/interaction';

/** Paths an entry page alias must not shadow. */
export const RESERVED_PATHS: readonly string[] = [...Object.values(ROUTES), INTERACTION_PATH, '/.well-known'];
