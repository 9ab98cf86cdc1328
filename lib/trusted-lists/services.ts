/**
 * Which services of a national trusted list anchor TPP certificates, and when: qualified CAs
 * (`CA/QC`) marked for website authentication, with the periods in which their status was granted,
 * read from their current status and its history (ETSI TS 119 612 §5.5, §5.6).
 *
 * A TPP certificate is accepted through a listed service only when its notBefore falls within one
 * of those periods: a CA withdrawn before it issued the certificate is refused; one withdrawn later
 * leaves the certificates it issued while granted acceptable.
 */
import type { Element } from '@xmldom/xmldom';

import { certificatesOf } from './scheme.js';
import { allOf, dateOf, descendantsNamed, pathOf, textOf } from './xml.js';

export const QUALIFIED_CA = 'http://uri.etsi.org/TrstSvc/Svctype/CA/QC';
export const FOR_WEBSITE_AUTHENTICATION = 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/ForWebSiteAuthentication';
const STATUS = 'http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/';
/** The additional service information URIs that say what a qualified service's certificates are for. */
const SERVICE_USAGE = 'http://uri.etsi.org/TrstSvc/TrustedList/SvcInfoExt/For';
const LEGACY_STATUS = 'http://uri.etsi.org/TrstSvc/Svcstatus/';
/**
 * Statuses in which a qualified service was qualified: `granted` since eIDAS (1 July 2016), and
 * before it the Directive 1999/93/EC statuses that ETSI TS 119 612 Annex J maps onto it.
 */
const GRANTED = new Set([`${STATUS}granted`, `${LEGACY_STATUS}undersupervision`, `${LEGACY_STATUS}supervisionincessation`, `${LEGACY_STATUS}accredited`]);

/** A period (epoch milliseconds) in which a service's status was granted; `to` null while it lasts. */
export type GrantedPeriod = { readonly from: number; readonly to: number | null };

/** A qualified CA for website authentication, as a national list gives it. */
export type ListedService = {
  readonly territory: string;
  readonly name: string;
  /** The service's certificates (its digital identity), base64 DER. */
  readonly certificates: readonly string[];
  /** The current status URI. */
  readonly status: string;
  readonly periods: readonly GrantedPeriod[];
};

/** One status of a service's timeline, and whether a qualified website CA was granted in it. */
export interface StatusEntry {
  readonly from: number;
  readonly qualifies: boolean;
}

interface ServiceEntry extends StatusEntry {
  readonly type: string;
  readonly status: string;
  /** Whether the entry marks the service for website authentication; undefined when it marks no usage. */
  readonly forWebsites: boolean | undefined;
}

function entryOf(information: Element): ServiceEntry {
  const type = textOf(pathOf(information, 'ServiceTypeIdentifier'));
  const status = textOf(pathOf(information, 'ServiceStatus'));
  const usages = descendantsNamed(pathOf(information, 'ServiceInformationExtensions'), 'URI').map(textOf).filter((uri) => uri.startsWith(SERVICE_USAGE));
  const forWebsites = usages.length ? usages.includes(FOR_WEBSITE_AUTHENTICATION) : undefined;
  return {
    type,
    status,
    from: dateOf(pathOf(information, 'StatusStartingTime'), 'StatusStartingTime').getTime(),
    forWebsites,
    // History instances often omit the usage extensions: one that names usages must name websites.
    qualifies: type === QUALIFIED_CA && GRANTED.has(status) && forWebsites !== false,
  };
}

/**
 * The granted periods of a service's timeline (all its statuses, of whatever type): each holds
 * from its starting time to the next one's; the current one lasts.
 */
export function grantedPeriods(entries: readonly StatusEntry[]): GrantedPeriod[] {
  const sorted = [...entries].sort((a, b) => a.from - b.from);
  const periods: { from: number; to: number | null }[] = [];
  sorted.forEach((entry, index) => {
    if (!entry.qualifies) return;
    const to = sorted[index + 1]?.from ?? null;
    const last = periods.at(-1);
    if (last && last.to === entry.from) last.to = to;
    else periods.push({ from: entry.from, to });
  });
  return periods;
}

/** The qualified website-authentication CAs of a national list, with their granted periods. */
export function listedServices(root: Element, territory: string): ListedService[] {
  return allOf(root, 'TrustServiceProviderList', 'TrustServiceProvider', 'TSPServices', 'TSPService').flatMap((service) => {
    const information = pathOf(service, 'ServiceInformation');
    if (!information) return [];
    const current = entryOf(information);
    const history = allOf(service, 'ServiceHistory', 'ServiceHistoryInstance').map(entryOf);
    // The current information must carry the website mark itself.
    if (current.type !== QUALIFIED_CA || current.forWebsites !== true) return [];
    const periods = grantedPeriods([current, ...history]);
    const certificates = certificatesOf(pathOf(information, 'ServiceDigitalIdentity'));
    if (!periods.length || !certificates.length) return [];
    const name = textOf(allOf(information, 'ServiceName', 'Name')[0]).slice(0, 200);
    return [{ territory, name, certificates, status: current.status, periods }];
  });
}

/** Whether `issued` (epoch ms) falls in one of `periods`. */
export function grantedAt(periods: readonly GrantedPeriod[], issued: number): boolean {
  return periods.some((period) => period.from <= issued && (period.to === null || issued < period.to));
}
