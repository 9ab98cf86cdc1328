import type { EnvironmentName } from '../certificates/identity.js';
import type { Psd2Role } from '../certificates/oids.js';
import type { ConsentRecord } from './authorization.js';
import { GRANTS_FOR_SCOPE, ROLE_FOR_SCOPE, isScope, type Scope } from './scopes.js';

/** Stable error descriptions deployed TPP clients match to decide to ask the PSU again (DESIGN 3.5). */
export const REFRESH_TOKEN_EXPIRED = 'Refresh token has expired';
export const INVALID_REFRESH_TOKEN = 'Invalid refresh token';

/**
 * How long grants and refresh tokens are kept after the consent ends, so that a late refresh is
 * told "expired" rather than "invalid".
 */
export const EXPIRED_CONSENT_RETENTION = 30 * 24 * 60 * 60;

export function scopeList(scope: unknown): string[] {
  return typeof scope === 'string' ? scope.split(' ').filter(Boolean) : [];
}

/** Access token lifetime of a token holding `scopes`: the shortest of its scopes' lifetimes. */
export function accessTokenLifetime(scopes: readonly string[], lifetimes: Readonly<Record<'aisp' | 'cbpii' | 'pisp', number>>): number {
  const of = (scope: string): number | undefined => {
    if (scope === 'aisp' || scope === 'extended_transaction_history') return lifetimes.aisp;
    if (scope === 'cbpii') return lifetimes.cbpii;
    if (scope === 'pisp') return lifetimes.pisp;
    return undefined;
  };
  const values = scopes.map(of).filter((value): value is number => value !== undefined);
  return values.length ? Math.min(...values) : Math.min(lifetimes.aisp, lifetimes.cbpii, lifetimes.pisp);
}

/**
 * End of a consent in seconds since the epoch: its environment's consent lifetime after the PSU's
 * SCA (the bank's when the environment is not known).
 */
export function consentEnd(
  consent: Pick<ConsentRecord, 'scaTime'> & { readonly environment?: EnvironmentName | undefined },
  consentLifetime: Readonly<Record<EnvironmentName, number>>,
): number {
  return consent.scaTime + consentLifetime[consent.environment ?? 'bank'];
}

/** Scopes a refresh cannot give: they need the PSU's strong authentication each time. */
export function unrenewableScopes(scopes: readonly string[]): string[] {
  return scopes.filter((scope) => !isScope(scope) || !GRANTS_FOR_SCOPE[scope].includes('refresh_token'));
}

/** Roles that `scopes` need and `roles` lack, each with the scopes it would allow. */
export function missingRoles(scopes: readonly string[], roles: readonly Psd2Role[]): { role: Psd2Role; scopes: Scope[] }[] {
  const missing = new Map<Psd2Role, Scope[]>();
  for (const scope of scopes) {
    if (!isScope(scope)) continue;
    const role = ROLE_FOR_SCOPE[scope];
    if (!roles.includes(role)) missing.set(role, [...(missing.get(role) ?? []), scope]);
  }
  return [...missing].map(([role, needing]) => ({ role, scopes: needing }));
}
