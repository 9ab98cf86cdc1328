/**
 * What the server asks of a register of TPP licences: the EBA PSD2 register (eba-register.ts), or
 * a bank's own source (a national register, a commercial service) behind the same interface.
 */
import type { EnvironmentName } from '../certificates/identity.js';

/** The parts of a QWAC's organizationIdentifier (`PSDFR-ACPR-12345`) a licence is found by. */
export interface LicenceKey {
  /** Country of the competent authority, ISO 3166-1 alpha-2 (`FR`). */
  readonly country: string;
  /** The competent authority as the certificate names it (ETSI TS 119 495 `nCAId` form, `FR-ACPR`). */
  readonly ncaId: string;
  /** The authorisation number the authority gave (`12345`). */
  readonly number: string;
}

/** One TPP as a register lists it. */
export interface TppLicence {
  /** The register's own id of the entity (the EBA's `EntityCode`). */
  readonly entityCode: string;
  /** Its name, for the audit trail. */
  readonly name?: string;
  /** Its kind in the register (the EBA's `EntityType`: `PSD_PI`, `PSD_EMI`, `PSD_AISP`, …). */
  readonly entityType?: string;
  /**
   * Days (`YYYY-MM-DD`, oldest first) on which its authorisation changed: the 1st, 3rd, … are
   * authorisations, the 2nd, 4th, … withdrawals (the EBA's `ENT_AUT`). Empty when unknown.
   */
  readonly authorisationDates: readonly string[];
  /**
   * Why the register's entry cannot be read (an `ENT_AUT` value that is no date, …): the TPP is
   * then treated as not listed (accepted, audited), never decided on a guess.
   */
  readonly unreadable?: string;
  /**
   * The country of the authority that licensed it (ISO 3166-1 alpha-2). When the bank is there and
   * the register lists no services under it, the services listed anywhere count there.
   */
  readonly homeCountry?: string;
  /**
   * Host country (ISO 3166-1 alpha-2) → the PSD2 services (Annex I codes: `PS_070` payment
   * initiation, `PS_080` account information) it may provide there.
   */
  readonly services: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A register as read at one time: looked up in memory, at every request it applies to. */
export interface TppRegisterSnapshot {
  /** Entities the snapshot holds (for the audit trail). */
  readonly size: number;
  /** Its fingerprint (the golden copy's SHA-256, hex), when it has one. */
  readonly digest?: string;
  /**
   * Whether `digest` was checked against a value published with the file (the SHA-256 inside the
   * EBA's ZIP). False for a file read without one: its digest then only tells copies apart.
   */
  readonly verified?: boolean;
  /** What the audit trail should know of this load (logged as warnings), e.g. an unsafe source. */
  readonly notices?: readonly RegisterNotice[];
  /** Keeps what it was read from, for `loadSaved` after a restart: called once the server accepts it. */
  keep?(): Promise<void>;
  /** Drops what `keep` would have kept: the server refused the snapshot. */
  discard?(): Promise<void>;
  /** The TPP the key names, or undefined when the register does not list it. */
  find(key: LicenceKey): TppLicence | undefined;
}

/** A warning about a load: its event name (`tpp_register.…`), a message, and fields for the log line. */
export interface RegisterNotice {
  readonly event: string;
  readonly message: string;
  readonly fields?: Readonly<Record<string, unknown>>;
}

/**
 * A source of TPP licences. The server calls `load` at start and then on its schedule, keeps the
 * last snapshot that loaded, and looks TPPs up in it in memory; a failed load changes nothing.
 */
export interface TppRegister {
  /** How refusals and the audit trail name it, e.g. `EBA PSD2 register`. */
  readonly name: string;
  /** Reads the whole register; rejects when it cannot, or when what it read is not intact. */
  load(signal: AbortSignal): Promise<TppRegisterSnapshot>;
  /**
   * The snapshot last kept (see {@link TppRegisterSnapshot.keep}) and when, read when no snapshot
   * is in use and `load` fails (a restart during the register's outage); undefined when none is kept.
   */
  loadSaved?(signal: AbortSignal): Promise<{ readonly snapshot: TppRegisterSnapshot; readonly savedAt: Date } | undefined>;
}

/** The `tppRegister` option: which register says who is licensed for what, and where. */
export interface TppRegisterOptions {
  /** The register, e.g. `new EbaRegister({ url })`, or a bank's own {@link TppRegister}. */
  register: TppRegister;
  /**
   * The bank's country (ISO 3166-1 alpha-2, e.g. `FR`): a TPP must be licensed, or passported,
   * there for the services its scopes need (`aisp`: account information, `pisp`: payment initiation).
   */
  country: string;
  /**
   * Environments whose TPPs are checked. Default `['bank']`: sandbox TPPs hold test certificates
   * whose authorisation numbers no register lists.
   */
  environments?: EnvironmentName[];
  /** Seconds between two loads of the register (the EBA publishes it nightly). Between 1 and 604800. Default 86400. */
  refreshInterval?: number;
  /**
   * Seconds between two sweeps of the organizations with registered clients, which suspends those
   * the register no longer licenses for their clients' scopes. 0 turns it off. Between 0 and 604800.
   * Default 86400. A sweep also runs after each load that changed the snapshot.
   */
  sweepInterval?: number;
  /**
   * Largest share (0 to 1) of its TPPs a new snapshot may lose against the one in use: a smaller
   * file is refused (`tpp_register.implausible`) and the last good snapshot stays. A file without
   * any TPP is always refused. Default 0.2.
   */
  maxShrink?: number;
  /** Seconds before the first retry after a failed load; each retry waits twice as long, up to an hour. Between 1 and 3600. Default 60. */
  retryDelay?: number;
  /**
   * Most organizations one sweep may suspend: a sweep that would suspend more suspends none and
   * logs `tpp_register.sweep_halted` (an error) for the bank to look. Default 5.
   */
  maxSuspensions?: number;
  /**
   * Largest share (0 to 1) of the organizations it checks one sweep may suspend, one being always
   * allowed: beyond, it suspends none and logs `tpp_register.sweep_halted`. Default 0.1.
   */
  maxSuspensionShare?: number;
  /**
   * Organization identifiers (`PSDFR-ACPR-12345`) the bank vouches for whatever the register says:
   * never refused nor suspended for it. Default none.
   */
  exemptions?: string[];
}
