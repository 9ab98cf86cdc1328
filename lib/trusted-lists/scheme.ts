/**
 * What every trusted list says of itself (ETSI TS 119 612 §5.3, SchemeInformation): its sequence
 * number, territory, issue date and NextUpdate, and the pointers a list of lists holds.
 */
import { X509Certificate } from 'node:crypto';

import type { Element } from '@xmldom/xmldom';

import { TSL_NS, TrustedListError, allOf, childrenOf, dateOf, descendantsNamed, pathOf, textOf } from './xml.js';

const TSL_MIME_TYPE = 'application/vnd.etsi.tsl+xml';

/** The scheme information of a list. */
export interface SchemeInformation {
  readonly sequenceNumber: number;
  readonly territory: string;
  readonly issued: Date;
  /** When the next list is due; undefined for a closed scheme (no NextUpdate date). */
  readonly nextUpdate: Date | undefined;
}

/** A pointer of the list of lists to a national trusted list. */
export interface ListPointer {
  readonly territory: string;
  readonly location: string;
  /** The certificates allowed to sign that list. */
  readonly signers: readonly X509Certificate[];
}

export function schemeInformationOf(root: Element): SchemeInformation {
  if (root.namespaceURI !== TSL_NS || root.localName !== 'TrustServiceStatusList') {
    throw new TrustedListError('the document is not a trusted list (TrustServiceStatusList)');
  }
  const information = pathOf(root, 'SchemeInformation');
  const sequenceNumber = Number(textOf(pathOf(information, 'TSLSequenceNumber')));
  if (!Number.isSafeInteger(sequenceNumber) || sequenceNumber < 1) throw new TrustedListError('the list has no sequence number');
  const territory = textOf(pathOf(information, 'SchemeTerritory'));
  if (!/^[A-Z]{2}$/.test(territory)) throw new TrustedListError('the list has no scheme territory');
  const next = pathOf(information, 'NextUpdate', 'dateTime');
  return {
    sequenceNumber,
    territory,
    issued: dateOf(pathOf(information, 'ListIssueDateTime'), 'ListIssueDateTime'),
    nextUpdate: next ? dateOf(next, 'NextUpdate') : undefined,
  };
}

/** The base64 certificates of a ServiceDigitalIdentity element's DigitalIds. */
export function certificatesOf(identity: Element | undefined): string[] {
  return allOf(identity, 'DigitalId', 'X509Certificate').map((element) => textOf(element).replace(/\s/g, '')).filter(Boolean);
}

function parseCertificates(encoded: readonly string[]): X509Certificate[] {
  return encoded.flatMap((base64) => {
    try {
      return [new X509Certificate(Buffer.from(base64, 'base64'))];
    } catch {
      return [];
    }
  });
}

/**
 * The pointers of a list of lists to the XML trusted lists of other territories (the pointer to
 * itself, and those to human-readable PDF copies, left out).
 */
export function pointersOf(root: Element, ownTerritory: string): ListPointer[] {
  return allOf(root, 'SchemeInformation', 'PointersToOtherTSL', 'OtherTSLPointer').flatMap((pointer) => {
    const location = textOf(pathOf(pointer, 'TSLLocation'));
    const information = allOf(pointer, 'AdditionalInformation', 'OtherInformation');
    const territory = textOf(information.flatMap((element) => childrenOf(element, TSL_NS, 'SchemeTerritory'))[0]);
    const mimeType = textOf(information.flatMap((element) => descendantsNamed(element, 'MimeType'))[0]);
    if (!location || !territory || territory === ownTerritory) return [];
    if (mimeType ? mimeType !== TSL_MIME_TYPE : /\.pdf$/i.test(location)) return [];
    const signers = parseCertificates(allOf(pointer, 'ServiceDigitalIdentities', 'ServiceDigitalIdentity').flatMap(certificatesOf));
    return signers.length ? [{ territory, location, signers }] : [];
  });
}
