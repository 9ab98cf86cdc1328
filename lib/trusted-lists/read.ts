/**
 * One list read from its text: its size bounded, parsed, its signature verified against the
 * certificates expected for it, and what the server keeps of it extracted as plain data (which can
 * cross from the worker that does this to the thread that serves requests).
 */
import { X509Certificate } from 'node:crypto';

import { pointersOf, schemeInformationOf } from './scheme.js';
import { listedServices, type ListedService } from './services.js';
import { verifyListSignature } from './signature.js';
import { TrustedListError, checkCaps, parseXml, type XmlCaps } from './xml.js';

export interface ReadRequest {
  readonly text: string;
  /** Base64 DER of the certificates allowed to sign the list. */
  readonly signers: readonly string[];
  /** Epoch ms: when the signing certificate must be valid. */
  readonly now: number;
  readonly caps: XmlCaps;
}

/** What a verified list says (dates in epoch ms; certificates base64 DER). */
export interface ReadList {
  readonly scheme: { readonly sequenceNumber: number; readonly territory: string; readonly issued: number; readonly nextUpdate: number | null };
  /** A list of lists' pointers to the national lists. */
  readonly pointers: readonly { readonly territory: string; readonly location: string; readonly signers: readonly string[] }[];
  /** A national list's qualified website-authentication CAs. */
  readonly services: readonly ListedService[];
}

/** What the worker answers. */
export type ReadAnswer = { readonly ok: true; readonly list: ReadList } | { readonly ok: false; readonly reason: string };

/** Reads and verifies one list; throws {@link TrustedListError} when it cannot be used. */
export async function readList(request: ReadRequest): Promise<ReadList> {
  checkCaps(request.text, request.caps);
  const document = parseXml(request.text);
  const signers = request.signers.map((base64) => new X509Certificate(Buffer.from(base64, 'base64')));
  await verifyListSignature(document, signers, new Date(request.now));
  const root = document.documentElement!;
  const scheme = schemeInformationOf(root);
  return {
    scheme: { sequenceNumber: scheme.sequenceNumber, territory: scheme.territory, issued: scheme.issued.getTime(), nextUpdate: scheme.nextUpdate?.getTime() ?? null },
    pointers: pointersOf(root, scheme.territory).map((pointer) => ({ ...pointer, signers: pointer.signers.map((signer) => signer.raw.toString('base64')) })),
    services: listedServices(root, scheme.territory),
  };
}

/** {@link readList}'s result or refusal as the worker posts it; an unexpected failure refuses the list too. */
export async function answerOf(request: ReadRequest): Promise<ReadAnswer> {
  try {
    return { ok: true, list: await readList(request) };
  } catch (error) {
    if (error instanceof TrustedListError) return { ok: false, reason: error.message };
    return { ok: false, reason: `the list could not be read: ${String((error as Error | undefined)?.message ?? error).slice(0, 200)}` };
  }
}
