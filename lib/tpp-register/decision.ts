/**
 * Whether a register's listing of a TPP allows what it asks: pure, over a licence found in memory.
 * Not being listed is no refusal: credit institutions acting as TPPs are in no PSD2 register.
 */
import type { Refusal } from '../psd2/refusal.js';
import { isoCountry } from './nca-ids.js';
import type { TppLicence } from './types.js';

/** The PSD2 service (Annex I code) each scope needs. Scopes not listed need none. */
export const SERVICE_FOR_SCOPE: Readonly<Record<string, string>> = {
  aisp: 'PS_080',
  extended_transaction_history: 'PS_080',
  pisp: 'PS_070',
};

const SERVICE_NAMES: Readonly<Record<string, string>> = {
  PS_070: 'payment initiation services (PS_070)',
  PS_080: 'account information services (PS_080)',
};

export type RefusalReason = 'withdrawn' | 'not_yet_authorised' | 'not_passported' | 'missing_service';

export type LicenceDecision =
  | { readonly outcome: 'authorised' }
  /** Not listed, or listed in a form that cannot be read (`unreadable` says why). */
  | { readonly outcome: 'unknown'; readonly unreadable?: string }
  /** The bank vouches for the organization (the `exemptions` option, or a reinstatement). */
  | { readonly outcome: 'exempt' }
  | { readonly outcome: 'refused'; readonly reason: RefusalReason; readonly description: string };

export interface LicenceQuestion {
  /** The organizationIdentifier, as refusals name the TPP. */
  readonly organization: string;
  readonly scopes: readonly string[];
  /** The bank's country. */
  readonly country: string;
  /** Today, `YYYY-MM-DD` (UTC). */
  readonly today: string;
  /** The register's name, as refusals name it. */
  readonly register: string;
}

/** The day of the last change in force today, and whether it was an authorisation. */
function standing(dates: readonly string[], today: string): { readonly authorised: boolean; readonly since?: string } {
  const past = dates.filter((date) => date <= today);
  if (!past.length) return { authorised: false };
  return { authorised: past.length % 2 === 1, since: past.at(-1) };
}

/**
 * The services a TPP may provide in `country`: those listed under it; in its home country, when
 * the register lists none there, those listed anywhere (a licence is granted at home, and
 * passports extend it abroad; the EBA's data specification does not promise a home entry).
 */
function servicesIn(licence: TppLicence, country: string): ReadonlySet<string> | undefined {
  const listed = licence.services.get(country);
  if (listed?.size || country !== licence.homeCountry) return listed;
  return new Set([...licence.services.values()].flatMap((services) => [...services]));
}

export function licenceDecision(licence: TppLicence | undefined, question: LicenceQuestion): LicenceDecision {
  if (!licence) return { outcome: 'unknown' };
  if (licence.unreadable) return { outcome: 'unknown', unreadable: licence.unreadable };
  const { organization, register } = question;
  const country = isoCountry(question.country);
  const refused = (reason: RefusalReason, description: string): LicenceDecision => ({ outcome: 'refused', reason, description });
  if (licence.authorisationDates.length) {
    const { authorised, since } = standing(licence.authorisationDates, question.today);
    if (!authorised && since) return refused('withdrawn', `the ${register} shows the authorisation of ${organization} withdrawn on ${since}`);
    if (!authorised) return refused('not_yet_authorised', `the ${register} shows no authorisation of ${organization} in force yet`);
  }
  const needed = [...new Set(question.scopes.map((scope) => SERVICE_FOR_SCOPE[scope]).filter((service) => service !== undefined))];
  if (!needed.length) return { outcome: 'authorised' };
  const services = servicesIn(licence, country);
  if (!services?.size) return refused('not_passported', `the ${register} lists no payment services of ${organization} in ${country}`);
  const missing = needed.filter((service) => !services.has(service));
  if (missing.length) {
    return refused('missing_service', `the ${register} does not list ${missing.map((service) => SERVICE_NAMES[service] ?? service).join(' nor ')} of ${organization} in ${country}`);
  }
  return { outcome: 'authorised' };
}

/** The refusal a token request meets (RFC 6749 §5.2 `unauthorized_client`), if any. */
export function licenceRefusal(decision: LicenceDecision): Refusal | undefined {
  return decision.outcome === 'refused' ? { error: 'unauthorized_client', description: decision.description } : undefined;
}
