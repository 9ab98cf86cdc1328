/**
 * What status checking reads from a certificate, decoded once per certificate object: where its
 * issuer publishes its status (AIA OCSP, CRL distribution points), the raw names and key that an
 * OCSP CertID and a CRL are matched against.
 */
import { createHash, type X509Certificate } from 'node:crypto';

import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  Certificate,
  CRLDistributionPoints,
  KeyUsage,
  KeyUsageFlags,
  type Name,
} from '@peculiar/asn1-x509';

import { formatRfc4514, sameDistinguishedName } from '../distinguished-name.js';
import { EXTENSION } from '../oids.js';
import { element } from './der.js';
import { httpUrl } from './fetch.js';

const OCSP_ACCESS_METHOD = '1.3.6.1.5.5.7.48.1';

export interface CertificateInfo {
  readonly certificate: X509Certificate;
  /** SHA-256 of the DER, base64url (`x5t#S256`). */
  readonly thumbprint: string;
  /** The subject, RFC 4514. */
  readonly subject: string;
  /** The serial number in upper-case hex, as node:crypto writes it. */
  readonly serial: string;
  /** The serial number INTEGER's content octets. */
  readonly serialBytes: Buffer;
  /** DER of the issuer field. */
  readonly issuerName: Buffer;
  readonly issuer: Name;
  /** DER of the subject field. */
  readonly subjectName: Buffer;
  readonly subjectParsed: Name;
  /** The subjectPublicKey BIT STRING's content (what an OCSP key hash is taken over). */
  readonly publicKeyBits: Buffer;
  /** OCSP responder URLs (http or https) of the AIA extension. */
  readonly ocspUrls: readonly string[];
  /** CRL URLs (http or https) of distribution points this checker can use. */
  readonly crlUrls: readonly string[];
  /** Every URI naming those distribution points (whatever the scheme): a CRL's issuing distribution point must be one. */
  readonly crlNames: readonly string[];
  /** Status pointers this checker cannot use (LDAP URLs, partial or indirect CRLs), to say so. */
  readonly unusablePointers: readonly string[];
  /** Epoch milliseconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** keyUsage allows signing CRLs; undefined when the certificate has no keyUsage extension. */
  readonly crlSign: boolean | undefined;
}

/** The raw issuer and subject fields of a DER certificate. */
function rawNames(der: Buffer): { issuer: Buffer; subject: Buffer } {
  const certificate = element(der, 0);
  const tbs = element(der, certificate.contentStart);
  let cursor = tbs.contentStart;
  const next = () => {
    const found = element(der, cursor);
    cursor = found.end;
    return found;
  };
  // [0] version when present, then the serial number.
  if (next().tag === 0xa0) next();
  next(); // signature
  const issuer = next();
  next(); // validity
  const subject = next();
  return { issuer: der.subarray(issuer.start, issuer.end), subject: der.subarray(subject.start, subject.end) };
}

export function textOf(name: Name): string {
  return formatRfc4514(Array.from(name, (rdn) => Array.from(rdn, (atv) => ({ oid: atv.type, value: atv.value.toString() }))).flat());
}

/** RFC 5280 §7.1 name matching: the same DER, or the same attributes RDN by RDN. */
export function sameName(a: Name, aDer: Buffer | undefined, b: Name, bDer: Buffer | undefined): boolean {
  if (aDer && bDer && aDer.equals(bDer)) return true;
  if (a.length !== b.length) return false;
  return a.every((rdn, index) => {
    const other = b[index];
    if (!other) return false;
    const attributes = (entry: typeof rdn) => Array.from(entry, (atv) => ({ oid: atv.type, value: atv.value.toString() }));
    return sameDistinguishedName(attributes(rdn), attributes(other));
  });
}

export function thumbprintOf(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

function read(certificate: X509Certificate): CertificateInfo {
  const der = certificate.raw;
  const parsed = AsnConvert.parse(der, Certificate);
  const tbs = parsed.tbsCertificate;
  const names = rawNames(der);
  const ocspUrls: string[] = [];
  const crlUrls: string[] = [];
  const crlNames: string[] = [];
  const unusablePointers: string[] = [];
  let crlSign: boolean | undefined;
  for (const extension of tbs.extensions ?? []) {
    const value = extension.extnValue.buffer;
    if (extension.extnID === EXTENSION.authorityInfoAccess) {
      for (const access of AsnConvert.parse(value, AuthorityInfoAccessSyntax)) {
        if (access.accessMethod !== OCSP_ACCESS_METHOD) continue;
        const uri = access.accessLocation.uniformResourceIdentifier;
        if (uri === undefined) continue;
        if (httpUrl(uri)) ocspUrls.push(uri);
        else unusablePointers.push(`the OCSP responder ${uri}`);
      }
    } else if (extension.extnID === EXTENSION.crlDistributionPoints) {
      for (const point of AsnConvert.parse(value, CRLDistributionPoints)) {
        const uris = (point.distributionPoint?.fullName ?? []).flatMap((name) => (name.uniformResourceIdentifier === undefined ? [] : [name.uniformResourceIdentifier]));
        // A CRL of another issuer (indirect) or covering some reasons only cannot settle a status alone.
        if (point.cRLIssuer || point.reasons) {
          unusablePointers.push(...uris.map((uri) => `the ${point.cRLIssuer ? 'indirect' : 'partial'} CRL ${uri}`));
          continue;
        }
        crlNames.push(...uris);
        for (const uri of uris) {
          if (httpUrl(uri)) crlUrls.push(uri);
          else unusablePointers.push(`the CRL ${uri}`);
        }
      }
    } else if (extension.extnID === EXTENSION.keyUsage) {
      crlSign = (AsnConvert.parse(value, KeyUsage).toNumber() & KeyUsageFlags.cRLSign) !== 0;
    }
  }
  return {
    certificate,
    thumbprint: thumbprintOf(certificate),
    subject: textOf(tbs.subject),
    serial: certificate.serialNumber.toUpperCase(),
    serialBytes: Buffer.from(tbs.serialNumber),
    issuerName: names.issuer,
    issuer: tbs.issuer,
    subjectName: names.subject,
    subjectParsed: tbs.subject,
    publicKeyBits: Buffer.from(tbs.subjectPublicKeyInfo.subjectPublicKey),
    ocspUrls: [...new Set(ocspUrls)],
    crlUrls: [...new Set(crlUrls)],
    crlNames,
    unusablePointers,
    notBefore: tbs.validity.notBefore.getTime().getTime(),
    notAfter: tbs.validity.notAfter.getTime().getTime(),
    crlSign,
  };
}

const infos = new WeakMap<X509Certificate, CertificateInfo>();

/** The status-related contents of `certificate`, read once per object. Throws when it cannot be read. */
export function infoOf(certificate: X509Certificate): CertificateInfo {
  let info = infos.get(certificate);
  if (!info) {
    info = read(certificate);
    infos.set(certificate, info);
  }
  return info;
}

const thumbprints = new WeakMap<X509Certificate, string>();

/** The certificate's `x5t#S256`, hashed once per object: the only thing a cached check needs. */
export function cachedThumbprint(certificate: X509Certificate): string {
  let thumbprint = thumbprints.get(certificate);
  if (thumbprint === undefined) {
    thumbprint = infos.get(certificate)?.thumbprint ?? thumbprintOf(certificate);
    thumbprints.set(certificate, thumbprint);
  }
  return thumbprint;
}

/**
 * A serial number INTEGER's content octets as the integer they stand for: redundant sign octets
 * dropped, a negative value marked, so that `00 FF` (255) and `FF` (-1) never compare equal.
 */
export function serialKey(bytes: Uint8Array): string {
  const octets = Buffer.from(bytes);
  const negative = octets.length > 0 && ((octets[0] as number) & 0x80) !== 0;
  const padding = negative ? 0xff : 0x00;
  let start = 0;
  while (start < octets.length - 1 && octets[start] === padding && (((octets[start + 1] as number) & 0x80) !== 0) === negative) start += 1;
  return `${negative ? '-' : ''}${octets.subarray(start).toString('hex').toUpperCase()}`;
}
