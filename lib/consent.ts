/**
 * The PSU's answer on the consent page, decided apart from the page that asks: which accounts are
 * shared, whether the TPP may still receive them, and the consent its grant records.
 */
import type { EnvironmentName } from './certificates/identity.js';
import type { ConsentRecord } from './psd2/authorization.js';
import { SUSPENDED_TPP } from './psd2/authorization-request.js';
import type { PsuAccount } from './psu.js';

/** What the TPP reads (`error_description`) when the PSU's way ends without a grant. */
export const PSU_REFUSALS = {
  refused: 'the PSU refused access',
  cancelledSignIn: 'the PSU cancelled the sign-in',
  suspended: SUSPENDED_TPP.description,
  bankFailed: 'the bank could not complete the authorization',
} as const;

/** The accounts the PSU chose among those offered: at least one, and none that was not offered. */
export function sharedAccounts(offered: readonly PsuAccount[], chosen: readonly string[]): PsuAccount[] | undefined {
  const shared = offered.filter((account) => chosen.includes(account.id));
  return shared.length && shared.length === new Set(chosen).size ? shared : undefined;
}

/** The consent a grant records: the environment, the accounts (id and IBAN), the PSU's authentication. */
export function consentRecord(
  environment: EnvironmentName,
  accounts: readonly PsuAccount[],
  psu: { readonly scaTime: number; readonly amr: readonly string[] },
): ConsentRecord {
  return {
    environment,
    accounts: accounts.map((account) => ({ id: account.id, ...(account.iban ? { iban: account.iban } : {}) })),
    scaTime: psu.scaTime,
    amr: [...psu.amr],
  };
}

/** What the PSU answered on the consent page, with what deciding may have to read. */
export interface ConsentAnswer {
  readonly granted: boolean;
  /** Ids of the accounts ticked. */
  readonly chosen: readonly string[];
  /** The accounts the PSU may share. */
  offered(): Promise<readonly PsuAccount[]>;
  /** Whether the bank suspended the TPP meanwhile. */
  suspended(): Promise<boolean>;
}

/** Where the PSU's answer leads. */
export type ConsentDecision =
  /** Back to the TPP with `access_denied`. */
  | { readonly kind: 'refused' }
  /** The page again: no account, or one the PSU may not share, was chosen. */
  | { readonly kind: 'invalid_choice'; readonly offered: readonly PsuAccount[] }
  /** Back to the TPP with `unauthorized_client`: the bank suspended it. */
  | { readonly kind: 'suspended' }
  /** The grant, for these accounts. */
  | { readonly kind: 'granted'; readonly shared: readonly PsuAccount[] };

export async function decideConsent(answer: ConsentAnswer): Promise<ConsentDecision> {
  if (!answer.granted) return { kind: 'refused' };
  const offered = await answer.offered();
  const shared = sharedAccounts(offered, answer.chosen);
  if (!shared) return { kind: 'invalid_choice', offered };
  if (await answer.suspended()) return { kind: 'suspended' };
  return { kind: 'granted', shared };
}
