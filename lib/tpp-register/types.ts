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
  /** The TPP the key names, or undefined when the register does not list it. */
  find(key: LicenceKey): TppLicence | undefined;
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
   * Default 86400.
   */
  sweepInterval?: number;
}
