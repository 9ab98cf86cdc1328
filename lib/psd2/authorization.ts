import type { EnvironmentName } from '../certificates/identity.js';

/**
 * The scope sets a PSU can grant at the authorization endpoint (DESIGN 3.2): account information,
 * with or without the history older than 90 days, or the funds confirmation of a CBPII. `pisp` is
 * granted here only in a payment authorization that the bank's payment API opened (request_uri),
 * which is checked apart; payment initiators otherwise use client_credentials.
 */
export const AUTHORIZATION_SCOPE_SETS = ['aisp', 'aisp extended_transaction_history', 'cbpii'] as const;
export type AuthorizationScopeSet = (typeof AUTHORIZATION_SCOPE_SETS)[number];

/**
 * The allowed scope set `scope` spells (in any order, without duplicates), or a description of
 * why it is not one.
 */
export function authorizationScopeSet(scope: string | undefined): { set: AuthorizationScopeSet } | { problem: string } {
  const words = (scope ?? '').split(' ').filter(Boolean);
  if (!words.length) return { problem: `scope is required: one of ${AUTHORIZATION_SCOPE_SETS.map((s) => `"${s}"`).join(', ')}` };
  if (words.includes('pisp')) {
    return { problem: 'pisp is granted at the authorization endpoint only for a payment the bank\'s payment API opened (request_uri); payment initiators otherwise use the client_credentials grant' };
  }
  const sorted = [...new Set(words)].sort().join(' ');
  const set = AUTHORIZATION_SCOPE_SETS.find((candidate) => candidate.split(' ').sort().join(' ') === sorted);
  if (set && words.length === set.split(' ').length) return { set };
  return { problem: `scope must be exactly one of ${AUTHORIZATION_SCOPE_SETS.map((s) => `"${s}"`).join(', ')}` };
}

/** What the grant of an authorization records besides the PSU and the scope. */
export interface ConsentRecord {
  /** Environment of the client and of the page the PSU used. */
  readonly environment: EnvironmentName;
  /** Accounts the PSU chose to share: the bank's ids (and IBANs when known). */
  readonly accounts: readonly { readonly id: string; readonly iban?: string }[];
  /** Time of the strong customer authentication, in seconds since the epoch. */
  readonly scaTime: number;
  /** Authentication methods used (RFC 8176), e.g. `pwd`, `otp`. */
  readonly amr: readonly string[];
}
