import type { Psd2Role } from '../certificates/oids.js';

/** Scopes of the STET PSD2 API, in the order they are listed in metadata. */
export const SCOPES = ['aisp', 'extended_transaction_history', 'cbpii', 'pisp'] as const;
export type Scope = (typeof SCOPES)[number];

/** Grant types the server offers, each tied to the scopes that may use it (DESIGN 3.2). */
export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** The role a scope needs. `extended_transaction_history` only ever comes with `aisp`. */
export const ROLE_FOR_SCOPE: Readonly<Record<Scope, Psd2Role>> = {
  aisp: 'PSP_AI',
  extended_transaction_history: 'PSP_AI',
  cbpii: 'PSP_IC',
  pisp: 'PSP_PI',
};

/**
 * Grant types each scope is used with. `pisp` comes with an authorization code only when the PSU
 * confirms a payment that the bank's payment API opened (never on a TPP's own request).
 */
export const GRANTS_FOR_SCOPE: Readonly<Record<Scope, readonly GrantType[]>> = {
  aisp: ['authorization_code', 'refresh_token'],
  extended_transaction_history: ['authorization_code'],
  cbpii: ['authorization_code', 'refresh_token'],
  pisp: ['client_credentials', 'authorization_code'],
};

/** Grant types a client gets when it registers without `grant_types`: a PISP alone needs no redirect. */
const DEFAULT_GRANTS_FOR_SCOPE: Readonly<Record<Scope, readonly GrantType[]>> = { ...GRANTS_FOR_SCOPE, pisp: ['client_credentials'] };

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export function isGrantType(value: string): value is GrantType {
  return (GRANT_TYPES as readonly string[]).includes(value);
}

/** Every scope the roles allow, in {@link SCOPES} order. */
export function scopesForRoles(roles: readonly Psd2Role[]): Scope[] {
  return SCOPES.filter((scope) => roles.includes(ROLE_FOR_SCOPE[scope]));
}

/** Every grant type the scopes are used with, in {@link GRANT_TYPES} order. */
export function grantTypesForScopes(scopes: readonly Scope[]): GrantType[] {
  return GRANT_TYPES.filter((grant) => scopes.some((scope) => GRANTS_FOR_SCOPE[scope].includes(grant)));
}

/** The grant types of a client registered without `grant_types`, in {@link GRANT_TYPES} order. */
export function defaultGrantTypesForScopes(scopes: readonly Scope[]): GrantType[] {
  return GRANT_TYPES.filter((grant) => scopes.some((scope) => DEFAULT_GRANTS_FOR_SCOPE[scope].includes(grant)));
}

/** The roles that would allow a grant type, for error messages. */
export function rolesForGrantType(grant: GrantType): Psd2Role[] {
  const roles = new Set<Psd2Role>();
  for (const scope of SCOPES) {
    if (GRANTS_FOR_SCOPE[scope].includes(grant)) roles.add(ROLE_FOR_SCOPE[scope]);
  }
  return [...roles];
}
