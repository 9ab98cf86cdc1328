/**
 * One reading of the EU list of trusted lists (LOTL) and the national lists it points to: each
 * signature checked against the certificates expected for it (the pinned ones for the LOTL, those
 * its pointer gives for a national list), each list's NextUpdate and sequence number checked. A
 * national list that fails leaves that territory as it was in the previous set.
 */
import type { X509Certificate } from 'node:crypto';

import type { HttpClient, HttpLimits } from '../certificates/revocation/fetch.js';
import type { StoredTrustedSet, TerritoryList } from './anchors.js';
import { fetchList } from './fetch.js';
import { pointersOf, schemeInformationOf, type ListPointer, type SchemeInformation } from './scheme.js';
import { listedServices } from './services.js';
import { verifyListSignature } from './signature.js';
import { TrustedListError, parseXml } from './xml.js';

/** How to read the lists. */
export interface LoadSettings {
  /** Where the LOTL is published: https, http or file URL. */
  readonly url: string;
  /** The certificates allowed to sign the LOTL (as published in the Official Journal). */
  readonly signers: readonly X509Certificate[];
  readonly limits: HttpLimits;
  readonly http?: HttpClient;
}

/** A territory whose list could not be used this time, and why. */
export interface TerritoryFailure {
  readonly territory: string;
  readonly reason: string;
  /** Whether the territory's previous services are kept. */
  readonly kept: boolean;
}

export interface LoadResult {
  readonly set: StoredTrustedSet;
  readonly failures: readonly TerritoryFailure[];
}

/** Refuses a list past its NextUpdate, or older than the one in use (a replayed list). */
function checkCurrent(scheme: SchemeInformation, previous: { readonly sequenceNumber: number } | undefined, now: Date, what: string): void {
  if (scheme.nextUpdate && scheme.nextUpdate.getTime() < now.getTime()) {
    throw new TrustedListError(`${what} is past its NextUpdate (${scheme.nextUpdate.toISOString()})`);
  }
  if (previous && scheme.sequenceNumber < previous.sequenceNumber) {
    throw new TrustedListError(`${what} has sequence number ${scheme.sequenceNumber}, older than ${previous.sequenceNumber} in use`);
  }
}

async function readSigned(location: string, signers: readonly X509Certificate[], settings: LoadSettings, now: Date, allowFile: boolean) {
  const text = await fetchList(location, settings.limits, { allowFile, ...(settings.http ? { http: settings.http } : {}) });
  const document = parseXml(text);
  await verifyListSignature(document, signers, now);
  const root = document.documentElement!;
  return { root, scheme: schemeInformationOf(root) };
}

async function loadTerritory(pointer: ListPointer, previous: TerritoryList | undefined, settings: LoadSettings, now: Date, allowFile: boolean): Promise<TerritoryList> {
  const { root, scheme } = await readSigned(pointer.location, pointer.signers, settings, now, allowFile);
  if (scheme.territory !== pointer.territory) {
    throw new TrustedListError(`the list at ${pointer.location} is of ${scheme.territory}, not ${pointer.territory}`);
  }
  checkCurrent(scheme, previous, now, `the list of ${pointer.territory}`);
  return {
    sequenceNumber: scheme.sequenceNumber,
    issued: scheme.issued.getTime(),
    nextUpdate: scheme.nextUpdate?.getTime() ?? null,
    verifiedAt: now.getTime(),
    location: pointer.location,
    services: listedServices(root, scheme.territory),
  };
}

/**
 * Reads the LOTL and its national lists; throws {@link TrustedListError} when the LOTL cannot be
 * used (then nothing of the previous set changes).
 */
export async function loadTrustedLists(settings: LoadSettings, previous: StoredTrustedSet | undefined, now: Date): Promise<LoadResult> {
  const allowFile = new URL(settings.url).protocol === 'file:';
  const { root, scheme } = await readSigned(settings.url, settings.signers, settings, now, allowFile);
  checkCurrent(scheme, previous?.lotl, now, 'the list of trusted lists');
  const territories: Record<string, TerritoryList> = {};
  const failures: TerritoryFailure[] = [];
  // One list at a time: some thirty lists twice a day need no parallelism, and the CPU is shared.
  for (const pointer of pointersOf(root, scheme.territory)) {
    const before = previous?.territories[pointer.territory];
    try {
      territories[pointer.territory] = await loadTerritory(pointer, before, settings, now, allowFile);
    } catch (error) {
      if (!(error instanceof TrustedListError)) throw error;
      failures.push({ territory: pointer.territory, reason: error.message, kept: before !== undefined });
      if (before) territories[pointer.territory] = before;
    }
  }
  const lotl = { sequenceNumber: scheme.sequenceNumber, issued: scheme.issued.getTime(), nextUpdate: scheme.nextUpdate?.getTime() ?? null, verifiedAt: now.getTime() };
  return { set: { format: 1, lotl, territories }, failures };
}
