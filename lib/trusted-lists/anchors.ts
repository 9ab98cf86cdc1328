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
  readonly format: 1;
  readonly lotl: ListVersion;
  readonly territories: { readonly [territory: string]: TerritoryList };
};

/** Whether `value` is a record this version of the server wrote. */
export function isStoredTrustedSet(value: unknown): value is StoredTrustedSet {
  const record = value as Partial<StoredTrustedSet> | undefined;
  return typeof record === 'object' && record !== null && record.format === 1 && typeof record.lotl?.verifiedAt === 'number'
    && typeof record.territories === 'object' && record.territories !== null;
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

  constructor(readonly stored: StoredTrustedSet) {
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
    if (!known || known.services.some((service) => grantedAt(service.periods, issued.getTime()))) return undefined;
    const service = known.services[0]!;
    return `the QTSP service "${service.name}" (${service.territory}) was not granted when the client certificate was issued `
      + `(${issued.toISOString()}); its status is ${service.status.split('/').at(-1) ?? 'unknown'}`
      + `${describePeriods(service.periods)}`;
  }

  /** Seconds since the list of lists was last verified, at `now`. */
  ageAt(now: Date): number {
    return Math.max(0, Math.round((now.getTime() - this.stored.lotl.verifiedAt) / 1000));
  }
}

function describePeriods(periods: readonly GrantedPeriod[]): string {
  if (!periods.length) return '';
  const at = (ms: number) => new Date(ms).toISOString();
  return `, granted ${periods.map((period) => (period.to === null ? `since ${at(period.from)}` : `from ${at(period.from)} to ${at(period.to)}`)).join(', ')}`;
}
