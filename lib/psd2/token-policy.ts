/**
 * The token endpoint's PSD2 rules (DESIGN 3.2, 3.3), as pure functions: which scopes a refresh
 * gives, when it is refused, what the client_credentials grant gives, which grants get a refresh
 * token, and that the certificate presented now must still hold the roles a scope needs.
 */
import type { Psd2Role } from '../certificates/oids.js';
import type { Refusal } from './refusal.js';
import { GRANTS_FOR_SCOPE, SCOPES } from './scopes.js';
import { REFRESH_TOKEN_EXPIRED, missingRoles, scopeList, unrenewableScopes } from './tokens.js';

/** RFC 6749 §3.3 default of a client_credentials request without `scope`: its one scope. */
export const CLIENT_CREDENTIALS_DEFAULT_SCOPE = 'pisp';

const REFRESHABLE_SCOPES = new Set<string>(SCOPES.filter((scope) => GRANTS_FOR_SCOPE[scope].includes('refresh_token')));

const CLIENT_CREDENTIALS_SCOPES = new Set<string>(SCOPES.filter((scope) => GRANTS_FOR_SCOPE[scope].includes('client_credentials')));

/** Roles are those of the certificate presented now: a renewed one may have lost some (DESIGN 3.2). */
export function missingRolesRefusal(scopes: readonly string[], roles: readonly Psd2Role[]): Refusal | undefined {
  const missing = missingRoles(scopes, roles);
  if (!missing.length) return undefined;
  return {
    error: 'unauthorized_client',
    description: `the client certificate no longer holds ${missing.map((m) => `the ${m.role} role needed for ${m.scopes.join(' ')}`).join(', nor ')}`,
  };
}

/** What a refresh asks and holds: the consent's end, the scope parameter, the refresh token's scope. */
export interface RefreshRequest {
  /** End of the consent, in seconds since the epoch. */
  readonly consentEnd: number;
  /** Now, in seconds since the epoch. */
  readonly now: number;
  /** The `scope` parameter of the request, if any. */
  readonly requested: unknown;
  /** The scope of the refresh token. */
  readonly held: unknown;
  /** The roles of the certificate presented now. */
  readonly roles: readonly Psd2Role[];
}

/**
 * The scopes a refresh gives, or why it is refused. Without a scope parameter a refresh gives what
 * can be renewed: the history older than 90 days was given once, with the code (DESIGN 3.3).
 */
export function refreshDecision(request: RefreshRequest): { readonly scopes: string[] } | { readonly refusal: Refusal } {
  if (request.consentEnd <= request.now) return { refusal: { error: 'invalid_grant', description: REFRESH_TOKEN_EXPIRED } };
  const requested = scopeList(request.requested);
  const unrenewable = unrenewableScopes(requested);
  if (unrenewable.length) {
    return {
      refusal: {
        error: 'invalid_scope',
        description: `${unrenewable.join(' ')} cannot be renewed by a refresh: it needs the PSU's strong customer authentication again (authorization code)`,
        scope: unrenewable.join(' '),
      },
    };
  }
  const scopes = requested.length ? requested : scopeList(request.held).filter((scope) => !unrenewableScopes([scope]).length);
  const refusal = missingRolesRefusal(scopes, request.roles);
  return refusal ? { refusal } : { scopes };
}

/**
 * Payment initiators use client_credentials for pisp only; account access always needs a PSU's
 * consent through the authorization code flow (DESIGN 3.2).
 */
export function clientCredentialsRefusal(scope: unknown): Refusal | undefined {
  const scopes = scopeList(scope);
  const refused = scopes.filter((candidate) => !CLIENT_CREDENTIALS_SCOPES.has(candidate));
  if (refused.length) {
    return {
      error: 'invalid_scope',
      description: `the client_credentials grant gives only the pisp scope; ${refused.join(' ')} needs the PSU's consent (authorization code)`,
      scope: refused.join(' '),
    };
  }
  if (!scopes.length) return { error: 'invalid_scope', description: 'the client_credentials grant needs scope=pisp', scope: '' };
  return undefined;
}

/** A refresh token only for account access (aisp, cbpii), never for payment initiation (DESIGN 3.2). */
export function issuesRefreshToken(refreshGrantAllowed: boolean, scopes: Iterable<string>): boolean {
  return refreshGrantAllowed && [...scopes].some((scope) => REFRESHABLE_SCOPES.has(scope));
}
