/**
 * CRLs (RFC 5280 §5, §6.3): a complete CRL of the certificate's own issuer, signed by it, current.
 * Delta CRLs, indirect CRLs and CRLs covering some reasons only are not used: a status cannot be
 * settled with them alone, so they count as no answer.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Extensions, IssuingDistributionPoint, Name } from '@peculiar/asn1-x509';

import { sameName, serialKey, type CertificateInfo } from './certificate.js';
import { children, content, element, objectIdentifier, raw, time, type Element } from './der.js';
import { freshnessProblem, type SourceContext, type SourceOutcome } from './outcome.js';
import { signatureProblem } from './signature.js';

const CRL_EXTENSIONS = {
  authorityKeyIdentifier: '2.5.29.35',
  crlNumber: '2.5.29.20',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
} as const;

const ENTRY_EXTENSIONS = {
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
} as const;

const KNOWN_CRL_EXTENSIONS = new Set<string>(Object.values(CRL_EXTENSIONS));
const KNOWN_ENTRY_EXTENSIONS = new Set<string>(Object.values(ENTRY_EXTENSIONS));

export interface RevokedEntry {
  readonly revokedAt: number;
  readonly reason: string | undefined;
}

/** A CRL read once: what matching and lookups need. */
export interface ParsedCrl {
  readonly url: string;
  readonly der: Buffer;
  readonly issuer: Name;
  readonly thisUpdate: number;
  readonly nextUpdate: number | undefined;
  /** Why this CRL cannot settle any status alone (delta, indirect, partial); undefined when it can. */
  readonly unusable: string | undefined;
  readonly onlyUserCertificates: boolean;
  readonly onlyCaCertificates: boolean;
  /** The URIs of the issuing distribution point, when it names one: the CRL covers certificates pointing there only. */
  readonly scope: readonly string[] | undefined;
  readonly revoked: ReadonlyMap<string, RevokedEntry>;
  readonly signatureAlgorithm: AlgorithmIdentifier;
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
  /** Signature checks done, by issuer thumbprint: undefined when it holds, else why not. */
  readonly checked: Map<string, string | undefined>;
}

export class CrlReadError extends Error {
  override readonly name = 'CrlReadError';
}

const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', undefined, 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];

const TIME_TAGS = new Set([0x17, 0x18]);

interface EntryReading {
  reason: string | undefined;
  /** Why the entry makes the CRL unusable. */
  problem: string | undefined;
}

/** A revoked certificate's entry extensions: the reason, and what a complete, direct CRL cannot hold. */
function readEntryExtensions(der: Uint8Array, extensions: Element): EntryReading {
  const reading: EntryReading = { reason: undefined, problem: undefined };
  for (const extension of children(der, extensions)) {
    const parts = children(der, extension);
    const id = objectIdentifier(der, parts[0] as Element);
    const critical = parts.length === 3 && (der[(parts[1] as Element).contentStart] ?? 0) !== 0;
    const value = parts[parts.length - 1] as Element;
    if (id === ENTRY_EXTENSIONS.reasonCode) {
      const enumerated = element(der, value.contentStart, value.end);
      reading.reason = enumerated.tag === 0x0a ? REASONS[der[enumerated.end - 1] ?? -1] : undefined;
    } else if (id === ENTRY_EXTENSIONS.certificateIssuer) reading.problem ??= 'is an indirect CRL';
    else if (critical && !KNOWN_ENTRY_EXTENSIONS.has(id)) reading.problem ??= `has an entry with the unrecognised critical extension ${id}`;
  }
  return reading;
}

/**
 * Reads a DER (or PEM) CRL; throws {@link CrlReadError} when it is not one. The revoked
 * certificates are walked in the DER itself: one map entry each, nothing more.
 */
export function parseCrl(body: Buffer, url: string): ParsedCrl {
  let der = body;
  if (body.subarray(0, 64).toString('latin1').includes('-----BEGIN X509 CRL-----')) {
    der = Buffer.from(body.toString('latin1').replace(/-----(BEGIN|END) X509 CRL-----|\s+/g, ''), 'base64');
  }
  try {
    const list = element(der, 0);
    if (list.tag !== 0x30 || list.end !== der.length) throw new CrlReadError('is not a DER CRL');
    const [tbs, algorithm, signature] = children(der, list);
    if (tbs?.tag !== 0x30 || algorithm?.tag !== 0x30 || signature?.tag !== 0x03 || der[signature.contentStart] !== 0) throw new CrlReadError('is not a DER CRL');
    const fields = children(der, tbs);
    let index = fields[0]?.tag === 0x02 ? 1 : 0; // version
    index += 1; // signature algorithm, the same as the outer one
    const issuer = fields[index++];
    const thisUpdate = fields[index++];
    if (issuer?.tag !== 0x30 || !thisUpdate || !TIME_TAGS.has(thisUpdate.tag)) throw new CrlReadError('is not a DER CRL');
    let nextUpdate: Element | undefined;
    if (fields[index] && TIME_TAGS.has((fields[index] as Element).tag)) nextUpdate = fields[index++];
    let entries: Element | undefined;
    if (fields[index]?.tag === 0x30) entries = fields[index++];
    let extensions: Element | undefined;
    if (fields[index]?.tag === 0xa0) extensions = fields[index++];
    if (index !== fields.length) throw new CrlReadError('is not a DER CRL');

    let unusable: string | undefined;
    let onlyUserCertificates = false;
    let onlyCaCertificates = false;
    let scope: string[] | undefined;
    const crlExtensions = extensions ? AsnConvert.parse(raw(der, children(der, extensions)[0] as Element), Extensions) : [];
    for (const extension of crlExtensions) {
      const id = extension.extnID;
      if (id === CRL_EXTENSIONS.deltaCrlIndicator) unusable ??= 'is a delta CRL';
      else if (id === CRL_EXTENSIONS.issuingDistributionPoint) {
        const point = AsnConvert.parse(extension.extnValue.buffer, IssuingDistributionPoint);
        if (point.indirectCRL) unusable ??= 'is an indirect CRL';
        if (point.onlySomeReasons) unusable ??= 'covers some revocation reasons only';
        if (point.onlyContainsAttributeCerts) unusable ??= 'covers attribute certificates only';
        onlyUserCertificates = point.onlyContainsUserCerts;
        onlyCaCertificates = point.onlyContainsCACerts;
        if (point.distributionPoint?.nameRelativeToCRLIssuer) unusable ??= 'names its distribution point relative to its issuer';
        const names = point.distributionPoint?.fullName;
        if (names) scope = names.flatMap((name) => (name.uniformResourceIdentifier === undefined ? [] : [name.uniformResourceIdentifier]));
      } else if (extension.critical && !KNOWN_CRL_EXTENSIONS.has(id)) unusable ??= `has the unrecognised critical extension ${id}`;
    }

    const revoked = new Map<string, RevokedEntry>();
    for (const entry of entries ? children(der, entries) : []) {
      const [serial, date, entryExtensions] = children(der, entry);
      if (serial?.tag !== 0x02 || !date) throw new CrlReadError('is not a DER CRL');
      const reading = entryExtensions ? readEntryExtensions(der, entryExtensions) : undefined;
      unusable ??= reading?.problem;
      // removeFromCRL belongs to delta CRLs: in a complete CRL it revokes nothing.
      if (reading?.reason === 'removeFromCRL') continue;
      revoked.set(serialKey(content(der, serial)), { revokedAt: time(der, date), reason: reading?.reason });
    }
    return {
      url,
      der,
      issuer: AsnConvert.parse(raw(der, issuer), Name),
      thisUpdate: time(der, thisUpdate),
      nextUpdate: nextUpdate ? time(der, nextUpdate) : undefined,
      unusable,
      onlyUserCertificates,
      onlyCaCertificates,
      scope,
      revoked,
      signatureAlgorithm: AsnConvert.parse(raw(der, algorithm), AlgorithmIdentifier),
      signed: raw(der, tbs),
      signature: content(der, signature).subarray(1),
      checked: new Map(),
    };
  } catch (cause) {
    if (cause instanceof CrlReadError) throw cause;
    throw new CrlReadError('is not a readable CRL', { cause });
  }
}

/** Why `crl` cannot speak for `subject`, issued by `issuer`; undefined when it can (freshness aside). */
export function crlMismatch(crl: ParsedCrl, subject: CertificateInfo, issuer: CertificateInfo): string | undefined {
  if (crl.unusable) return crl.unusable;
  if (!sameName(crl.issuer, undefined, subject.issuer, undefined)) return 'was issued by another CA';
  if (crl.onlyUserCertificates && subject.certificate.ca) return 'covers end-entity certificates only';
  if (crl.onlyCaCertificates && !subject.certificate.ca) return 'covers CA certificates only';
  // RFC 5280 §6.3.3 (b)(2)(i): a partitioned CRL speaks only for the certificates that point at it.
  if (crl.scope && !crl.scope.some((uri) => subject.crlNames.includes(uri))) return `is the CRL of another distribution point (${crl.scope.join(', ') || 'not a URI'})`;
  if (issuer.crlSign === false) return 'is signed by a CA whose key usage does not allow CRL signing';
  let problem = crl.checked.get(issuer.thumbprint);
  if (!crl.checked.has(issuer.thumbprint)) {
    problem = signatureProblem(crl.signatureAlgorithm, crl.signed, crl.signature, issuer.certificate.publicKey);
    crl.checked.set(issuer.thumbprint, problem);
  }
  return problem === undefined ? undefined : `is not signed by the issuer (${problem})`;
}

/** Why `crl` is not current; undefined when it is. */
export function crlStaleness(crl: ParsedCrl, context: SourceContext): string | undefined {
  return freshnessProblem(crl.thisUpdate, crl.nextUpdate, context);
}

/** What a matching, current CRL says of `subject`. */
export function crlAnswer(crl: ParsedCrl, subject: CertificateInfo, context: SourceContext): SourceOutcome {
  const entry = crl.revoked.get(serialKey(subject.serialBytes));
  // Without nextUpdate a CRL vouches for maxAge from when it was made, not from now.
  if (!entry) return { kind: 'good', source: 'crl', url: crl.url, nextUpdate: crl.nextUpdate ?? crl.thisUpdate + context.maxAge * 1000 };
  return { kind: 'revoked', source: 'crl', url: crl.url, revokedAt: entry.revokedAt, reason: entry.reason, nextUpdate: crl.nextUpdate };
}

