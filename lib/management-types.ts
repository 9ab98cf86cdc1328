import type { StatisticsReport } from './observability/statistics-report.js';
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
  /**
   * The PSD2 availability and performance statistics (EBA/GL/2018/07) of the UTC days `from` to
   * `to`, both included, as the bank reports them, with every instance sharing the storage
   * counted. Rejects with a `StatisticsRangeError` (a RangeError saying what is wrong) for a range
   * it cannot give: a day not written `YYYY-MM-DD` or that does not exist, `from` after `to`, a day
   * after today, more than 366 days; with the storage's error while it cannot be read.
   */
  statistics(range: StatisticsRange): Promise<StatisticsReport>;
  /** {@link statistics} as CSV (RFC 4180): a header line, then a line per day and service. */
  statisticsCsv(range: StatisticsRange): Promise<string>;
}

/** UTC days, both included, as `YYYY-MM-DD`, e.g. `{ from: '2026-10-01', to: '2026-12-31' }` for a quarter. */
export interface StatisticsRange {
  readonly from: string;
  readonly to: string;
}
