import type { ConsentRecord } from './psd2/authorization.js';

/** A PSU's consent to a TPP, as the bank's own apps show it. */
export interface ConsentSummary {
  /** Identifies the consent (the grant) for {@link Management.withdrawConsent}. */
  readonly grantId: string;
  readonly clientId: string;
  /** The TPP's registered name (untagged). */
  readonly clientName: string | undefined;
  /** The TPP's organizationIdentifier, e.g. `PSDFR-ACPR-12345`. */
  readonly providerLegalId: string | undefined;
  readonly environment: string;
  readonly scope: string;
  readonly accounts: ConsentRecord['accounts'];
  /** Time of the PSU's strong customer authentication. */
  readonly scaTime: Date;
  /** When the consent ends. */
  readonly expiresAt: Date;
}

/** What the bank's own apps (online banking, back office) do with consents and TPPs. */
export interface Management {
  /** The PSU's consents that are still in force, newest first. */
  consentsOf(psuId: string): Promise<ConsentSummary[]>;
  /**
   * Withdraws one of the PSU's consents: the grant and every token issued under it are revoked at
   * once. False when the PSU holds no such consent.
   */
  withdrawConsent(psuId: string, grantId: string): Promise<boolean>;
  /**
   * Suspends a TPP organization: its clients stop working (registration, token, revocation,
   * authorization) and every grant and token they hold is revoked. Returns its clients. With
   * `suspensionCacheTtl`, this instance refuses the organization at once and other instances
   * within that delay; the call returns after sweeping the organization's tokens again once it passed.
   */
  suspendOrganization(providerLegalId: string): Promise<{ clientIds: string[] }>;
  /** Lifts a suspension; revoked consents stay revoked. */
  reinstateOrganization(providerLegalId: string): Promise<void>;
  isSuspended(providerLegalId: string): Promise<boolean>;
}
