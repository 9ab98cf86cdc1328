/**
 * CRLs (RFC 5280 §5, §6.3): a complete CRL of the certificate's own issuer, signed by it, current.
 * Delta CRLs, indirect CRLs and CRLs covering some reasons only are not used: a status cannot be
 * settled with them alone, so they count as no answer.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  CertificateList,
  CRLReason,
  IssuingDistributionPoint,
  type AlgorithmIdentifier,
  type Name,
} from '@peculiar/asn1-x509';

import { sameName, serialKey, type CertificateInfo } from './certificate.js';
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
  readonly signed: ArrayBuffer;
  readonly signature: ArrayBuffer;
  /** Signature checks done, by issuer thumbprint: undefined when it holds, else why not. */
  readonly checked: Map<string, string | undefined>;
}

export class CrlReadError extends Error {
  override readonly name = 'CrlReadError';
}

/** Reads a DER (or PEM) CRL; throws {@link CrlReadError} when it is not one. */
export function parseCrl(body: Buffer, url: string): ParsedCrl {
  let der = body;
  const text = body.subarray(0, 64).toString('latin1');
  if (text.includes('-----BEGIN X509 CRL-----')) {
    der = Buffer.from(body.toString('latin1').replace(/-----(BEGIN|END) X509 CRL-----|\s+/g, ''), 'base64');
  }
  let list: CertificateList;
  try {
    list = AsnConvert.parse(der, CertificateList);
  } catch (cause) {
    throw new CrlReadError('is not a readable CRL', { cause });
  }
  const tbs = list.tbsCertList;
  let unusable: string | undefined;
  let onlyUserCertificates = false;
  let onlyCaCertificates = false;
  let scope: string[] | undefined;
  for (const extension of tbs.crlExtensions ?? []) {
    const id = extension.extnID;
    if (id === CRL_EXTENSIONS.deltaCrlIndicator) unusable ??= 'is a delta CRL';
    else if (id === CRL_EXTENSIONS.issuingDistributionPoint) {
      let point: IssuingDistributionPoint;
      try {
        point = AsnConvert.parse(extension.extnValue.buffer, IssuingDistributionPoint);
      } catch {
        unusable ??= 'has an unreadable issuing distribution point';
        continue;
      }
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
  for (const entry of tbs.revokedCertificates ?? []) {
    let reason: string | undefined;
    for (const extension of entry.crlEntryExtensions ?? []) {
      if (extension.extnID === ENTRY_EXTENSIONS.reasonCode) {
        try {
          reason = AsnConvert.parse(extension.extnValue.buffer, CRLReason).toJSON();
        } catch {
          reason = undefined;
        }
      } else if (extension.extnID === ENTRY_EXTENSIONS.certificateIssuer) unusable ??= 'is an indirect CRL';
      else if (extension.critical && !KNOWN_ENTRY_EXTENSIONS.has(extension.extnID)) unusable ??= `has an entry with the unrecognised critical extension ${extension.extnID}`;
    }
    // removeFromCRL belongs to delta CRLs: in a complete CRL it revokes nothing.
    if (reason === 'removeFromCRL') continue;
    revoked.set(serialKey(new Uint8Array(entry.userCertificate)), { revokedAt: entry.revocationDate.getTime().getTime(), reason });
  }
  return {
    url,
    der,
    issuer: tbs.issuer,
    thisUpdate: tbs.thisUpdate.getTime().getTime(),
    nextUpdate: tbs.nextUpdate?.getTime().getTime(),
    unusable,
    onlyUserCertificates,
    onlyCaCertificates,
    scope,
    revoked,
    signatureAlgorithm: list.signatureAlgorithm,
    signed: list.tbsCertListRaw ?? AsnConvert.serialize(tbs),
    signature: list.signature,
    checked: new Map(),
  };
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
export function crlAnswer(crl: ParsedCrl, subject: CertificateInfo): SourceOutcome {
  const entry = crl.revoked.get(serialKey(subject.serialBytes));
  if (!entry) return { kind: 'good', source: 'crl', url: crl.url, nextUpdate: crl.nextUpdate };
  return { kind: 'revoked', source: 'crl', url: crl.url, revokedAt: entry.revokedAt, reason: entry.reason, nextUpdate: crl.nextUpdate };
}

