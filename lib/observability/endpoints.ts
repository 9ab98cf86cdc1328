/**
 * Which endpoint a request is for, from its method and path alone: the `endpoint` label of the
 * request metrics, one of a closed set whatever the path holds.
 */
import { DOCUMENT_PATHS, INTERACTION_PATH, ROUTES, entryPattern } from '../routes.js';
import { OTHER, type Endpoint } from './labels.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
const WELL_KNOWN = '/.well-known/';

/** Exact paths under the mount path and their endpoint. */
const EXACT: ReadonlyMap<string, Endpoint> = new Map<string, Endpoint>([
  [ROUTES.registration, 'registration'],
  [ROUTES.authorization, 'authorization'],
  [ROUTES.token, 'token'],
  [ROUTES.revocation, 'revocation'],
  [ROUTES.introspection, 'introspection'],
  [ROUTES.jwks, 'jwks'],
  ...Object.values(DOCUMENT_PATHS).map((path): [string, Endpoint] => [path, 'docs']),
]);

/** Path prefixes (`/prefix/…`) under the mount path and their endpoint. */
const PREFIXES: readonly (readonly [string, Endpoint])[] = [
  [`${ROUTES.registration}/`, 'management'],
  // The PSU's return to the authorization endpoint after the pages (`/authorize/{uid}`).
  [`${ROUTES.authorization}/`, 'authorization'],
  [`${INTERACTION_PATH}/`, 'interaction'],
  [WELL_KNOWN, 'metadata'],
];

export interface EndpointClassifierOptions {
  /** Where the host mounts the server's router, e.g. `/oauth2`; default `''` (the root). */
  readonly mountPath?: string;
  /**
   * The entry page paths of the environments (`environments.sandbox.entryPath`, …), e.g.
   * `/{lang}/sandbox/signin.html`: requests for them count as `authorization`. Default none.
   */
  readonly entryPaths?: readonly string[];
}

/** The path without query or fragment, and without one trailing slash (Express routes ignore it). */
function pathOnly(path: string): string {
  let end = 0;
  while (end < path.length) {
    const code = path.charCodeAt(end);
    if (code === 0x3f /* ? */ || code === 0x23 /* # */) break;
    end += 1;
  }
  if (end > 1 && path.charCodeAt(end - 1) === 0x2f /* / */) end -= 1;
  return end === path.length ? path : path.slice(0, end);
}

function mountOf(mountPath: string | undefined): string {
  const mount = mountPath ?? '';
  return mount.endsWith('/') ? mount.slice(0, -1) : mount;
}

/**
 * A classifier of requests for a server mounted at `mountPath`: `(method, path) => endpoint`,
 * where `path` is the request's full path (Express `req.originalUrl`, Node `req.url`), its query
 * ignored. Registration is `POST /register`, management (RFC 7592) `/register/{client_id}`; the
 * authorization endpoint (the PSU's return to it after the pages, `/authorize/{uid}`, too) and the
 * entry pages are `authorization`, the PSU pages `interaction`, RFC 8414 metadata (also at the
 * root, with the mount path appended) `metadata`, the OpenAPI document and its page `docs`;
 * anything else, and any method but the usual ones, `other`.
 */
export function endpointClassifier(options: EndpointClassifierOptions = {}): (method: string, path: string) => Endpoint {
  const mount = mountOf(options.mountPath);
  const under = `${mount}/`;
  const entries = (options.entryPaths ?? []).map(entryPattern);
  return (method, path) => {
    if (typeof method !== 'string' || typeof path !== 'string' || !(METHODS.has(method) || METHODS.has(method.toUpperCase()))) return OTHER;
    const full = pathOnly(path);
    if (mount && full.startsWith(WELL_KNOWN) && full.endsWith(mount)) return 'metadata';
    if (mount && full !== mount && !full.startsWith(under)) return OTHER;
    const local = full.length === mount.length ? '/' : full.slice(mount.length);
    const exact = EXACT.get(local);
    if (exact) return exact;
    for (const [prefix, endpoint] of PREFIXES) {
      if (local.startsWith(prefix)) return endpoint;
    }
    for (const pattern of entries) {
      if (pattern.test(local)) return 'authorization';
    }
    return OTHER;
  };
}

/** {@link endpointClassifier} for one request; build a classifier once when classifying many. */
export function endpointOf(method: string, path: string, mountPath = '', entryPaths: readonly string[] = []): Endpoint {
  return endpointClassifier({ mountPath, entryPaths })(method, path);
}
