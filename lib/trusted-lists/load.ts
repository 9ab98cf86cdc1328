/**
 * One reading of the EU list of trusted lists (LOTL) and the national lists it points to: each
 * signature checked against the certificates expected for it (the pinned ones for the LOTL, those
 * its pointer gives for a national list), each list's NextUpdate and sequence number checked. A
 * national list that fails leaves that territory as it was in the previous set.
 */
import { X509Certificate } from 'node:crypto';

import type { HttpClient, HttpLimits } from '../certificates/revocation/fetch.js';
import type { StoredTrustedSet, TerritoryList } from './anchors.js';
import { fetchList } from './fetch.js';
import type { ReadList } from './read.js';
import { ListReader } from './reader.js';
import { TrustedListError, type XmlCaps } from './xml.js';

/** How to read the lists. */
export interface LoadSettings {
  /** Where the LOTL is published: https, http or file URL. */
  readonly url: string;
  /** The certificates allowed to sign the LOTL (as published in the Official Journal). */
  readonly signers: readonly X509Certificate[];
  readonly limits: HttpLimits;
  readonly caps: XmlCaps;
  /** Milliseconds one list may take to parse and verify. */
  readonly readTimeout: number;
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

/** The SHA-256 fingerprints of `signers`, in order: what the stored set was verified against. */
export function pinsOf(signers: readonly X509Certificate[]): string[] {
  return signers.map((signer) => signer.fingerprint256).sort();
}

/**
 * Refuses a list past its NextUpdate, or older than the one in use (a replayed list); `previous` is
 * only a list this process verified, never one from the storage, whose sequence number could
 * otherwise block every real list.
 */
function checkCurrent(scheme: ReadList['scheme'], previous: { readonly sequenceNumber: number } | undefined, now: Date, what: string): void {
  if (scheme.nextUpdate !== null && scheme.nextUpdate < now.getTime()) {
    throw new TrustedListError(`${what} is past its NextUpdate (${new Date(scheme.nextUpdate).toISOString()})`);
  }
  if (previous && scheme.sequenceNumber < previous.sequenceNumber) {
    throw new TrustedListError(`${what} has sequence number ${scheme.sequenceNumber}, older than ${previous.sequenceNumber} in use`);
  }
}

interface Reading {
  readonly settings: LoadSettings;
  readonly reader: ListReader;
  readonly now: Date;
  readonly allowFile: boolean;
}

async function readSigned(location: string, signers: readonly string[], reading: Reading): Promise<ReadList> {
  const { settings, now, allowFile } = reading;
  const text = await fetchList(location, settings.limits, { allowFile, ...(settings.http ? { http: settings.http } : {}) });
  return reading.reader.read({ text, signers, now: now.getTime(), caps: settings.caps });
}

async function loadTerritory(pointer: ReadList['pointers'][number], previous: TerritoryList | undefined, reading: Reading): Promise<TerritoryList> {
  const { scheme, services } = await readSigned(pointer.location, pointer.signers, reading);
  if (scheme.territory !== pointer.territory) {
    throw new TrustedListError(`the list at ${pointer.location} is of ${scheme.territory}, not ${pointer.territory}`);
  }
  checkCurrent(scheme, previous, reading.now, `the list of ${pointer.territory}`);
  const { sequenceNumber, issued, nextUpdate } = scheme;
  return { sequenceNumber, issued, nextUpdate, verifiedAt: reading.now.getTime(), location: pointer.location, services };
}

/**
 * Reads the LOTL and its national lists; throws {@link TrustedListError} when the LOTL cannot be
 * used (then nothing of the previous set changes). `previous` is the set in use; its sequence
 * numbers are checked only when `verifiedHere`.
 */
export async function loadTrustedLists(settings: LoadSettings, previous: StoredTrustedSet | undefined, now: Date, verifiedHere: boolean): Promise<LoadResult> {
  const reading: Reading = { settings, reader: new ListReader(settings.readTimeout), now, allowFile: new URL(settings.url).protocol === 'file:' };
  try {
    const signers = settings.signers.map((signer) => signer.raw.toString('base64'));
    const { scheme, pointers } = await readSigned(settings.url, signers, reading);
    checkCurrent(scheme, verifiedHere ? previous?.lotl : undefined, now, 'the list of trusted lists');
    const territories: Record<string, TerritoryList> = {};
    const failures: TerritoryFailure[] = [];
    // One list at a time: some thirty lists twice a day need no parallelism, and the CPU is shared.
    for (const pointer of pointers) {
      const before = previous?.territories[pointer.territory];
      try {
        territories[pointer.territory] = await loadTerritory(pointer, verifiedHere ? before : undefined, reading);
      } catch (error) {
        if (!(error instanceof TrustedListError)) throw error;
        failures.push({ territory: pointer.territory, reason: error.message, kept: before !== undefined });
        if (before) territories[pointer.territory] = before;
      }
    }
    const lotl = { sequenceNumber: scheme.sequenceNumber, issued: scheme.issued, nextUpdate: scheme.nextUpdate, verifiedAt: now.getTime() };
    const pointed = [...new Set(pointers.map((pointer) => pointer.territory))];
    return { set: { format: 2, url: settings.url, pins: pinsOf(settings.signers), lotl, pointed, territories }, failures };
  } finally {
    await reading.reader.close();
  }
}
