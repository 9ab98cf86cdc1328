/**
 * One reading of the EU list of trusted lists (LOTL) and the national lists it points to: each
 * signature checked against the certificates expected for it (the pinned ones for the LOTL, those
 * its pointer gives for a national list), each list's NextUpdate and sequence number checked. A
 * national list that fails leaves that territory as it was in the previous set.
 */
import { X509Certificate } from 'node:crypto';

import type { HttpClient, HttpLimits } from '../certificates/revocation/fetch.js';
import type { ListVersion, StoredTrustedSet, TerritoryList } from './anchors.js';
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
  /**
   * Verifies again the lists kept in the storage instead of fetching them: their text by territory
   * (`EU` for the LOTL), and the set they were verified into, whose dates they keep.
   */
  readonly stored?: { readonly texts: Readonly<Record<string, string>>; readonly set: StoredTrustedSet };
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
  /** The text of each list verified by this reading, by territory (`EU` for the LOTL). */
  readonly texts: Readonly<Record<string, string>>;
}

/** The storage's name of the LOTL among the territories. */
export const LOTL_KEY = 'EU';

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
  readonly texts: Record<string, string>;
}

async function readSigned(key: string, location: string, signers: readonly string[], reading: Reading): Promise<ReadList> {
  const { settings, now, allowFile } = reading;
  const stored = settings.stored?.texts[key];
  if (settings.stored && stored === undefined) throw new TrustedListError(`no stored copy of the list of ${key}`);
  const text = stored ?? await fetchList(location, settings.limits, { allowFile, ...(settings.http ? { http: settings.http } : {}) });
  const list = await reading.reader.read({ text, signers, now: now.getTime(), caps: settings.caps });
  reading.texts[key] = text;
  return list;
}

/**
 * When a list read now was verified: now, or for a stored copy when it was first verified (the
 * same list, by its sequence number, is expected in the stored set).
 */
function verifiedAtOf(scheme: ReadList['scheme'], before: ListVersion | undefined, reading: Reading, what: string): number {
  if (!reading.settings.stored) return reading.now.getTime();
  if (before?.sequenceNumber !== scheme.sequenceNumber) throw new TrustedListError(`the stored copy of ${what} is not the list of the stored set`);
  return before.verifiedAt;
}

async function loadTerritory(pointer: ReadList['pointers'][number], previous: TerritoryList | undefined, reading: Reading): Promise<TerritoryList> {
  const { scheme, services } = await readSigned(pointer.territory, pointer.location, pointer.signers, reading);
  if (scheme.territory !== pointer.territory) {
    throw new TrustedListError(`the list at ${pointer.location} is of ${scheme.territory}, not ${pointer.territory}`);
  }
  const what = `the list of ${pointer.territory}`;
  // A stored copy may be past its NextUpdate: the set's expiry decides whether it still anchors.
  if (!reading.settings.stored) checkCurrent(scheme, previous, reading.now, what);
  const verifiedAt = verifiedAtOf(scheme, reading.settings.stored?.set.territories[pointer.territory], reading, what);
  const { sequenceNumber, issued, nextUpdate } = scheme;
  return { sequenceNumber, issued, nextUpdate, verifiedAt, location: pointer.location, services };
}

/**
 * Reads the LOTL and its national lists; throws {@link TrustedListError} when the LOTL cannot be
 * used (then nothing of the previous set changes). `previous` is the set in use; its sequence
 * numbers are checked only when `verifiedHere`.
 */
export async function loadTrustedLists(settings: LoadSettings, previous: StoredTrustedSet | undefined, now: Date, verifiedHere: boolean): Promise<LoadResult> {
  const reading: Reading = { settings, reader: new ListReader(settings.readTimeout), now, allowFile: new URL(settings.url).protocol === 'file:', texts: {} };
  try {
    const signers = settings.signers.map((signer) => signer.raw.toString('base64'));
    const { scheme, pointers } = await readSigned(LOTL_KEY, settings.url, signers, reading);
    if (!settings.stored) checkCurrent(scheme, verifiedHere ? previous?.lotl : undefined, now, 'the list of trusted lists');
    const lotlVerifiedAt = verifiedAtOf(scheme, settings.stored?.set.lotl, reading, 'the list of trusted lists');
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
    const lotl = { sequenceNumber: scheme.sequenceNumber, issued: scheme.issued, nextUpdate: scheme.nextUpdate, verifiedAt: lotlVerifiedAt };
    const pointed = [...new Set(pointers.map((pointer) => pointer.territory))];
    return { set: { format: 2, url: settings.url, pins: pinsOf(settings.signers), lotl, pointed, territories }, failures, texts: reading.texts };
  } finally {
    await reading.reader.close();
  }
}
