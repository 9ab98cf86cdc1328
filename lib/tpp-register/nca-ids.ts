/**
 * From a QWAC's organizationIdentifier to the register's ids. ETSI TS 119 495 (Annex D) names each
 * competent authority `CC-NCA` (`FR-ACPR`); the EBA register names the same authority by its
 * `CA_OwnerID`, mostly `CC_NCA` (`FR_ACPR`) but not always: the exceptions are listed here, and a
 * bank adds or corrects entries with the register's `ncaOwnerIds` option.
 */
import type { LicenceKey } from './types.js';

/** QWAC `nCAId` → EBA `CA_OwnerID`, where the register spells the authority otherwise. */
export const EBA_OWNER_IDS: Readonly<Record<string, string>> = {
  // Banco de España: `BDE` in certificates, `BE` in the register (`ES_BE!6950`).
  'ES-BDE': 'ES_BE',
  // Finanssivalvonta: `FINFSA` in certificates, `FIN-FSA` in the register.
  'FI-FINFSA': 'FI_FIN-FSA',
};

/** `PSD` + country + `-` + authority + `-` + authorisation number (ETSI TS 119 495 §5.2.1). */
const ORGANIZATION_IDENTIFIER = /^PSD([A-Z]{2})-([A-Z0-9]{1,8})-(.+)$/;

/** The licence key an organizationIdentifier carries, or undefined when it has not the PSD2 form. */
export function licenceKeyOf(organizationIdentifier: string): LicenceKey | undefined {
  const match = ORGANIZATION_IDENTIFIER.exec(organizationIdentifier);
  if (!match) return undefined;
  const [, country = '', authority = '', number = ''] = match;
  return { country, ncaId: `${country}-${authority}`, number };
}

/**
 * The register's `CA_OwnerID` of an authority named as in certificates: `overrides` first, then
 * {@link EBA_OWNER_IDS}, otherwise the certificate's form with `_` after the country.
 */
export function ebaOwnerIdOf(ncaId: string, overrides: Readonly<Record<string, string>> = {}): string {
  const id = ncaId.toUpperCase();
  return overrides[id] ?? EBA_OWNER_IDS[id] ?? id.replace('-', '_');
}

/**
 * An authorisation number as compared: authorities and QTSPs write the same number with or
 * without spaces, dots, dashes or slashes, in either case (`0111027-9`, `01110279`).
 */
export function normaliseNumber(number: string): string {
  return number.normalize('NFKC').toUpperCase().replace(/[\s./_-]+/g, '');
}
