/**
 * What the bank plugs into the PSU pages: how its customers sign in, and which accounts they hold.
 * The package never stores passwords or one-time codes; it only passes them to these interfaces.
 */
import type { Language } from './language.js';

/** A payment account a PSU may share with a TPP. */
export interface PsuAccount {
  /** The bank's stable identifier of the account (the resource id its PSD2 API uses). */
  readonly id: string;
  /** The account's IBAN, shown formatted on the consent page. */
  readonly iban?: string;
  /** The name the PSU knows the account by, e.g. "Compte courant". */
  readonly name: string;
  /** ISO 4217 currency code, e.g. `EUR`. */
  readonly currency?: string;
}

/** A simulated customer of the sandbox sign-in page. */
export interface SandboxPsu {
  /** Identifier recorded in grants as the PSU. */
  readonly id: string;
  /** Name shown on the sandbox page. */
  readonly name: string;
  /** Accounts offered on the consent page. */
  readonly accounts: readonly PsuAccount[];
}

/** What the PSU typed on the bank sign-in page, with the request's context. */
export interface CredentialsAttempt {
  readonly login: string;
  readonly password: string;
  /** Language of the page, for any text the authenticator returns (e.g. `hint`). */
  readonly language: Language;
  /**
   * The PSU's IP address: the TCP peer, or the address a trusted proxy
   * (`clientCertificateHeader.trustedProxies`) put in `X-Forwarded-For`.
   */
  readonly ip: string;
}

/** Outcome of the first step of the bank sign-in. */
export type CredentialsResult =
  | { readonly outcome: 'failed' }
  /** Signed in with this step alone (the authenticator vouches that it is a strong authentication). */
  | { readonly outcome: 'authenticated'; readonly psuId: string; readonly amr?: readonly string[] }
  /**
   * A second factor is needed. `hint` is shown to the PSU (e.g. "your phone ending in 42");
   * `challenge` is kept server-side and handed back to {@link PsuAuthenticator.verifySecondFactor}.
   */
  | { readonly outcome: 'second_factor'; readonly psuId: string; readonly hint?: string; readonly challenge?: string };

/** The second step of the bank sign-in. */
export interface SecondFactorAttempt {
  readonly psuId: string;
  /** What {@link CredentialsResult} returned as `challenge`. */
  readonly challenge: string | undefined;
  readonly code: string;
  readonly language: Language;
  /** As in {@link CredentialsAttempt.ip}. */
  readonly ip: string;
}

/** Outcome of the second step. */
export type SecondFactorResult =
  | { readonly outcome: 'failed' }
  | { readonly outcome: 'authenticated'; readonly amr?: readonly string[] };

/**
 * The bank's PSU login (strong customer authentication). Both methods may throw: the PSU then sees
 * an apology and is sent back to the TPP with `server_error`, and the error is logged.
 */
export interface PsuAuthenticator {
  /** Checks a customer identifier and password. */
  verifyCredentials(attempt: CredentialsAttempt): Promise<CredentialsResult>;
  /** Checks the one-time code of the second step, when {@link verifyCredentials} asked for one. */
  verifySecondFactor(attempt: SecondFactorAttempt): Promise<SecondFactorResult>;
}

/** The bank's account directory. */
export interface AccountLookup {
  /** The payment accounts the PSU may share under `scope` (e.g. only those accessible online). */
  accountsOf(psuId: string, context: { readonly scope: string; readonly clientId: string; readonly language: Language }): Promise<readonly PsuAccount[]>;
}
