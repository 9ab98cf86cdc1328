/**
 * The verified set of trusted-list anchors: what the storage keeps (JSON), and its in-memory form
 * that certificate checks read synchronously.
 */
import { X509Certificate } from 'node:crypto';

import type { AnchorSnapshot } from '../certificates/anchor-source.js';
import { grantedAt, type GrantedPeriod, type ListedService } from './services.js';

/** What a list said of itself when it was verified (dates in epoch ms). */
export type ListVersion = {
  readonly sequenceNumber: number;
  readonly issued: number;
  readonly nextUpdate: number | null;
  /** When this server verified it. */
  readonly verifiedAt: number;
};

/** A national list's verified services. */
export type TerritoryList = ListVersion & { readonly location: string; readonly services: readonly ListedService[] };

/** The stored record: the last verified list of lists and the national lists it led to. */
export type StoredTrustedSet = {
  readonly format: 2;
  /** Where the LOTL was read, and the SHA-256 fingerprints of the pins it was verified against. */
  readonly url: string;
  readonly pins: readonly string[];
  readonly lotl: ListVersion;
  /** Every territory the LOTL points to, whether its list could be verified or not. */
  readonly pointed: readonly string[];
  readonly territories: { readonly [territory: string]: TerritoryList };
};

/** Whether `value` is a record this version of the server wrote. */
export function isStoredTrustedSet(value: unknown): value is StoredTrustedSet {
  const record = value as Partial<StoredTrustedSet> | undefined;
  return typeof record === 'object' && record !== null && record.format === 2 && typeof record.lotl?.verifiedAt === 'number'
    && typeof record.url === 'string' && Array.isArray(record.pins) && Array.isArray(record.pointed)
    && typeof record.territories === 'object' && record.territories !== null;
}

/** How long a kept national list may be used past its NextUpdate, and the clock that says so. */
export interface Expiry {
  /** Milliseconds past NextUpdate. */
  readonly grace: number;
  readonly now: () => Date;
}

/** When `list` stops anchoring (epoch ms); Infinity for a closed scheme. */
function expiryOf(list: ListVersion, grace: number): number {
  return list.nextUpdate === null ? Number.POSITIVE_INFINITY : list.nextUpdate + grace;
}

interface Anchor {
  readonly certificate: X509Certificate;
  readonly services: ListedService[];
}

let versions = 0;

/** A verified set as the certificate checks use it. */
export class TrustedAnchorSet implements AnchorSnapshot {
  readonly version = (versions += 1);
  readonly anchors: readonly X509Certificate[];
  readonly #byFingerprint = new Map<string, Anchor>();
  /** Territories whose list is past its NextUpdate and grace: their CAs anchor nothing. */
  readonly expired: readonly string[];
  /** When the next territory in use expires (epoch ms): the source then builds a new set. */
  readonly expiresAt: number;

  constructor(readonly stored: StoredTrustedSet, expiry: Expiry) {
    const at = expiry.now().getTime();
    const lists = Object.entries(stored.territories);
    this.expired = lists.filter(([, list]) => expiryOf(list, expiry.grace) <= at).map(([territory]) => territory);
    this.expiresAt = Math.min(...lists.map(([, list]) => expiryOf(list, expiry.grace)).filter((time) => time > at));
    for (const list of Object.values(stored.territories)) {
      for (const service of list.services) {
        for (const base64 of service.certificates) {
          let certificate: X509Certificate;
          try {
            certificate = new X509Certificate(Buffer.from(base64, 'base64'));
          } catch {
            continue;
          }
          // Only CA certificates issue TPP certificates; a list's other identities anchor nothing.
          if (!certificate.ca) continue;
          const known = this.#byFingerprint.get(certificate.fingerprint256);
          if (known) known.services.push(service);
          else this.#byFingerprint.set(certificate.fingerprint256, { certificate, services: [service] });
        }
      }
    }
    this.anchors = [...this.#byFingerprint.values()].map((anchor) => anchor.certificate);
  }

  refusal(anchor: X509Certificate, issued: Date): string | undefined {
    const known = this.#byFingerprint.get(anchor.fingerprint256);
    if (!known) return undefined;
    const current = known.services.filter((service) => !this.expired.includes(service.territory));
    if (!current.length) {
      const territory = known.services[0]!.territory;
      const nextUpdate = this.stored.territories[territory]?.nextUpdate;
      return `the EU trusted list of ${territory} in use is past its NextUpdate (${nextUpdate ? new Date(nextUpdate).toISOString() : 'unknown'}) `
        + 'and no newer one could be verified: its QTSPs are not trusted until one is';
    }
    if (current.some((service) => grantedAt(service.periods, issued.getTime()))) return undefined;
    const service = current[0]!;
    return `the QTSP service "${service.name}" (${service.territory}) was not granted when the client certificate was issued `
      + `(${issued.toISOString()}); its status is ${service.status.split('/').at(-1) ?? 'unknown'}`
      + `${describePeriods(service.periods)}`;
  }

  /** Territories the LOTL points to whose list is not in use: never verified, or expired. */
  unusable(): string[] {
    return this.stored.pointed.filter((territory) => !this.stored.territories[territory] || this.expired.includes(territory));
  }

  /** Seconds since the oldest list in use (the LOTL or a national list not expired) was verified, at `now`. */
  ageAt(now: Date): number {
    const inUse = Object.entries(this.stored.territories).filter(([territory]) => !this.expired.includes(territory));
    const oldest = Math.min(this.stored.lotl.verifiedAt, ...inUse.map(([, list]) => list.verifiedAt));
    return Math.max(0, Math.round((now.getTime() - oldest) / 1000));
  }
}

function describePeriods(periods: readonly GrantedPeriod[]): string {
  if (!periods.length) return '';
  const at = (ms: number) => new Date(ms).toISOString();
  return `, granted ${periods.map((period) => (period.to === null ? `since ${at(period.from)}` : `from ${at(period.from)} to ${at(period.to)}`)).join(', ')}`;
}
