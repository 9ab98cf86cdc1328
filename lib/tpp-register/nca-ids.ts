/**
 * From a QWAC's organizationIdentifier to the register's ids. ETSI TS 119 495 (Annex D, after the
 * EBA's list of competent authorities) names each authority `CC-NCA` (`FR-ACPR`); the EBA register
 * names the same authority by its `CA_OwnerID`, mostly `CC_NCA` (`FR_ACPR`) but not always. The
 * table below is explicit for the 30 EEA states; a bank adds or corrects entries with the
 * register's `ncaOwnerIds` option. A mapping that finds nothing in a loaded register is logged
 * (`tpp_register.unmapped_authority`), so that a wrong entry shows.
 */
import type { LicenceKey } from './types.js';

/**
 * Annex D `nCAId` → the `CA_OwnerID`s the register may file its TPPs under (tried in order).
 * Entries marked "observed" were seen in the EBA's golden copy; the others follow the register's
 * `CC_NCA` rule and are unconfirmed.
 */
export const ANNEX_D_OWNER_IDS: Readonly<Record<string, readonly string[]>> = {
  'AT-FMA': ['AT_FMA'], // observed
  'BE-NBB': ['BE_NBB'],
  'BG-BNB': ['BG_BNB'],
  'CY-CBC': ['CY_CBC'],
  'CZ-CNB': ['CZ_CNB'], // observed
  'DE-BAFIN': ['DE_BAFIN'], // observed
  'DK-DFSA': ['DK_DFSA'], // observed
  'EE-FI': ['EE_FI'],
  'ES-BE': ['ES_BE'], // observed
  'FI-FINFSA': ['FI_FIN-FSA'], // observed: the register spells it with a dash
  'FR-ACPR': ['FR_ACPR'], // observed
  // Greece is `GR` in ISO 3166 and Annex D, `EL` in EU usage: both spellings are tried (unconfirmed).
  'GR-BOG': ['GR_BOG', 'EL_BOG'],
  'HR-CNB': ['HR_CNB'],
  'HU-CBH': ['HU_CBH'],
  'IE-CBI': ['IE_CBI'], // observed
  'IS-FME': ['IS_FME'],
  'IT-BI': ['IT_BI'], // observed
  'LI-FMA': ['LI_FMA'],
  'LT-BL': ['LT_BL'], // observed
  'LU-CSSF': ['LU_CSSF'],
  // The FCMC merged into Latvijas Banka in 2023: `LV_LV` observed, `LV_FCMC` for older files (unconfirmed).
  'LV-FCMC': ['LV_LV', 'LV_FCMC'],
  'MT-MFSA': ['MT_MFSA'], // observed
  'NL-DNB': ['NL_DNB'], // observed
  'NO-FSA': ['NO_FSA'],
  'PL-PFSA': ['PL_PFSA'], // observed
  'PT-BP': ['PT_BP'],
  'RO-NBR': ['RO_NBR'],
  'SE-FINA': ['SE_FINA'], // observed
  'SI-BS': ['SI_BS'],
  'SK-NBS': ['SK_NBS'],
};

/**
 * Other `nCAId`s QTSPs have written for the same authorities → the Annex D id: earlier drafts of
 * the list, national abbreviations, and Greece's `EL`.
 */
export const NCA_ID_ALIASES: Readonly<Record<string, string>> = {
  'ES-BDE': 'ES-BE',
  'FI-FIN-FSA': 'FI-FINFSA',
  'PL-KNF': 'PL-PFSA',
  'LV-LB': 'LV-FCMC',
  'LV-LV': 'LV-FCMC',
  'EL-BOG': 'GR-BOG',
  'GR-BOFG': 'GR-BOG',
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

/** Upper-cases the keys and values of the bank's `ncaOwnerIds`, as ids are compared. */
export function normaliseOwnerIds(overrides: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  return Object.fromEntries(Object.entries(overrides).map(([nca, owner]) => [nca.trim().toUpperCase(), owner.trim().toUpperCase()]));
}

/**
 * The register's `CA_OwnerID`s of an authority named as in certificates, tried in order:
 * `overrides` first (keys upper-cased: {@link normaliseOwnerIds}), then {@link ANNEX_D_OWNER_IDS} through {@link NCA_ID_ALIASES},
 * otherwise the certificate's form with `_` after the country.
 */
export function ebaOwnerIdsOf(ncaId: string, overrides: Readonly<Record<string, string>> = {}): readonly string[] {
  const id = ncaId.toUpperCase();
  const override = overrides[id];
  if (override) return [override.toUpperCase()];
  return ANNEX_D_OWNER_IDS[NCA_ID_ALIASES[id] ?? id] ?? [id.replace('-', '_')];
}

/**
 * The authorities the table maps (overrides included) none of whose `CA_OwnerID`s the register
 * holds: `nCAId` → the ids looked for. Some states have no TPP of their own; a long list after a
 * change of the register's spelling means the table is wrong.
 */
export function unmappedAuthorities(ownerIdsSeen: ReadonlySet<string>, overrides: Readonly<Record<string, string>> = {}): Record<string, readonly string[]> {
  const unmapped: Record<string, readonly string[]> = {};
  for (const ncaId of new Set([...Object.keys(ANNEX_D_OWNER_IDS), ...Object.keys(overrides).map((nca) => nca.toUpperCase())])) {
    const owners = ebaOwnerIdsOf(ncaId, overrides);
    if (!owners.some((owner) => ownerIdsSeen.has(owner))) unmapped[ncaId] = owners;
  }
  return unmapped;
}

/**
 * An authorisation number as compared: authorities and QTSPs write the same number with or
 * without spaces, dots, dashes or slashes, in either case (`0111027-9`, `01110279`).
 */
export function normaliseNumber(number: string): string {
  return number.normalize('NFKC').toUpperCase().replace(/[\s./_-]+/g, '');
}

/** A country as the product compares it: ISO 3166-1 alpha-2, Greece's EU code `EL` read as `GR`. */
export function isoCountry(code: string): string {
  const upper = code.trim().toUpperCase();
  return upper === 'EL' ? 'GR' : upper;
}
