/**
 * A small PKI for development and tests: QTSP-like certificate authorities and TPP certificates
 * carrying real ETSI qualified statements and the PSD2 QCStatement.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';

import { AsnConvert } from '@peculiar/asn1-schema';
import { QCStatement, QCStatements } from '@peculiar/asn1-x509-qualified';
import { QcType } from '@peculiar/asn1-x509-qualified-etsi';
import * as x509 from '@peculiar/x509';

import { OID, PSD2_ROLES, type Psd2Role } from '../../lib/certificates/oids.js';
import { Psd2QcType, RoleOfPsp, RolesOfPsp } from '../../lib/certificates/psd2-statement.js';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 60 * 60 * 1000;

export interface IssuedCertificate {
  readonly certificate: x509.X509Certificate;
  readonly keys: CryptoKeyPair;
  /** PEM of the certificate. */
  readonly certPem: string;
  /** PKCS#8 PEM of the private key. */
  readonly keyPem: string;
  /** DER of the certificate. */
  readonly der: Buffer;
}

export type Authority = IssuedCertificate & { readonly name: string };

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function toIssued(certificate: x509.X509Certificate, keys: CryptoKeyPair): Promise<IssuedCertificate> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certificate,
    keys,
    certPem: `${certificate.toString('pem').trim()}\n`,
    keyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY').trim()}\n`,
    der: Buffer.from(certificate.rawData),
  };
}

function serial(): string {
  return `01${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex')}`;
}

/** Loads an authority kept as PEM files (certificate and PKCS#8 EC P-256 key). */
export async function loadAuthority(name: string, certPem: string, keyPem: string): Promise<Authority> {
  const certificate = new x509.X509Certificate(certPem);
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8', x509.PemConverter.decodeFirst(keyPem), ALGORITHM, true, ['sign'],
  );
  const publicKey = await certificate.publicKey.export(ALGORITHM, ['verify']);
  return { ...(await toIssued(certificate, { privateKey, publicKey })), name };
}

/** Where the status of a certificate is published by its issuer. */
export interface RevocationPointers {
  /** OCSP responder URL, written into the Authority Information Access extension. */
  readonly ocspUrl?: string;
  /** CRL URL, written into the CRL Distribution Points extension. */
  readonly crlUrl?: string;
}

export interface AuthorityOptions extends RevocationPointers {
  /** Issuing authority of an intermediate CA; a root when absent. */
  readonly issuer?: Authority;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

/** The AIA and CDP extensions pointing at an issuer's OCSP responder and CRL. */
function revocationExtensions(pointers: RevocationPointers): x509.Extension[] {
  return [
    ...(pointers.ocspUrl ? [new x509.AuthorityInfoAccessExtension({ ocsp: pointers.ocspUrl })] : []),
    ...(pointers.crlUrl ? [new x509.CRLDistributionPointsExtension([pointers.crlUrl])] : []),
  ];
}

/** Creates a certificate authority (root, or intermediate when `issuer` is given). */
export async function createAuthority(name: string, options: AuthorityOptions = {}): Promise<Authority> {
  const keys = await generateKeys();
  const subject = `CN=${name}, O=${name}, C=EU`;
  const extensions = [
    new x509.BasicConstraintsExtension(true, options.issuer ? 0 : 1, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const notBefore = options.notBefore ?? new Date(Date.now() - DAY);
  const notAfter = options.notAfter ?? new Date(Date.now() + 3650 * DAY);
  const certificate = options.issuer
    ? await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject,
        issuer: options.issuer.certificate.subject,
        notBefore,
        notAfter,
        signingAlgorithm: ALGORITHM,
        publicKey: keys.publicKey,
        signingKey: options.issuer.keys.privateKey,
        extensions: [
          ...extensions,
          await x509.AuthorityKeyIdentifierExtension.create(options.issuer.certificate),
          ...revocationExtensions(options),
        ],
      })
    : await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(),
        name: subject,
        notBefore,
        notAfter,
        signingAlgorithm: ALGORITHM,
        keys,
        extensions,
      });
  return { ...(await toIssued(certificate, keys)), name };
}

export interface TppCertificateOptions extends RevocationPointers {
  /** PSD2 roles; default PSP_AI. An empty list yields a PSD2 statement without roles. */
  readonly roles?: readonly Psd2Role[];
  /** Organization name (subject O); default "Example TPP". */
  readonly organization?: string;
  /** Two-letter country; default FR. */
  readonly country?: string;
  /** NCA id, e.g. FR-ACPR; default `${country}-NCA`. */
  readonly ncaId?: string;
  readonly ncaName?: string;
  /** Authorisation number of the TPP at its NCA; default derived from the organization. */
  readonly authorisationNumber?: string;
  /** Overrides the whole organizationIdentifier; `null` omits it. */
  readonly organizationIdentifier?: string | null;
  readonly commonName?: string;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Include QcCompliance; default true. */
  readonly qcCompliance?: boolean;
  /** QcType; default web. `null` omits the statement. */
  readonly qcType?: 'web' | 'eseal' | 'esign' | null;
  /** Include the PSD2 statement; default true. */
  readonly psd2Statement?: boolean;
  /** Role names written next to the OIDs; default the standard names. */
  readonly roleNames?: Partial<Record<Psd2Role, string>>;
  /** Extended key usages; default serverAuth and clientAuth. `null` omits the extension. */
  readonly extendedKeyUsages?: readonly ('serverAuth' | 'clientAuth')[] | null;
  /** Reuse a key pair, e.g. for a renewed certificate. */
  readonly keys?: CryptoKeyPair;
  /** Self-sign instead of using the authority. */
  readonly selfSigned?: boolean;
}

const QC_TYPE_OIDS = { web: OID.qcTypeWeb, eseal: OID.qcTypeEseal, esign: OID.qcTypeEsign } as const;

function qcStatement(statementId: string, statementInfo: ArrayBuffer | undefined): QCStatement {
  const statement = new QCStatement();
  statement.statementId = statementId;
  (statement as { statementInfo?: ArrayBuffer }).statementInfo = statementInfo;
  return statement;
}

function qcStatementsExtension(options: TppCertificateOptions, country: string, ncaId: string): x509.Extension | undefined {
  const statements: QCStatement[] = [];
  if (options.qcCompliance ?? true) {
    // QcCompliance has no statementInfo; the class defaults it to an empty buffer.
    statements.push(qcStatement(OID.qcCompliance, undefined));
  }
  const qcType = options.qcType === undefined ? 'web' : options.qcType;
  if (qcType) {
    statements.push(qcStatement(OID.qcType, AsnConvert.serialize(new QcType([QC_TYPE_OIDS[qcType]]))));
  }
  if (options.psd2Statement ?? true) {
    const roles = (options.roles ?? ['PSP_AI']).map((role) => new RoleOfPsp({
      roleOfPspOid: PSD2_ROLES[role],
      roleOfPspName: options.roleNames?.[role] ?? role,
    }));
    const statement = new Psd2QcType({
      rolesOfPSP: new RolesOfPsp(roles),
      nCAName: options.ncaName ?? `${country} National Competent Authority`,
      nCAId: ncaId,
    });
    statements.push(qcStatement(OID.psd2Statement, AsnConvert.serialize(statement)));
  }
  if (!statements.length) return undefined;
  return new x509.Extension(OID.qcStatements, false, AsnConvert.serialize(new QCStatements(statements)));
}

/** The organizationIdentifier a TPP certificate minted with these options carries. */
export function organizationIdentifierFor(options: TppCertificateOptions): string | undefined {
  if (options.organizationIdentifier !== undefined) return options.organizationIdentifier ?? undefined;
  const country = options.country ?? 'FR';
  const ncaId = options.ncaId ?? `${country}-NCA`;
  const number = options.authorisationNumber
    ?? (options.organization ?? 'Example TPP').toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 12);
  return `PSD${ncaId}-${number || 'TPP'}`;
}

/** Issues a TPP certificate (a QWAC unless options say otherwise) from `authority`. */
export async function issueTppCertificate(authority: Authority, options: TppCertificateOptions = {}): Promise<IssuedCertificate> {
  const keys = options.keys ?? await generateKeys();
  const country = options.country ?? 'FR';
  const ncaId = options.ncaId ?? `${country}-NCA`;
  const organization = options.organization ?? 'Example TPP';
  const organizationIdentifier = organizationIdentifierFor(options);
  const subject: x509.JsonName = [
    { C: [country] },
    { O: [organization] },
    ...(organizationIdentifier ? [{ [OID.organizationIdentifier]: [organizationIdentifier] }] : []),
    { CN: [options.commonName ?? `${organization.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.example`] },
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  const usages = options.extendedKeyUsages === undefined ? ['serverAuth', 'clientAuth'] as const : options.extendedKeyUsages;
  if (usages) {
    extensions.push(new x509.ExtendedKeyUsageExtension(usages.map((u) => (u === 'serverAuth' ? OID.serverAuth : OID.clientAuth))));
  }
  const qc = qcStatementsExtension(options, country, ncaId);
  if (qc) extensions.push(qc);
  extensions.push(...revocationExtensions(options));
  const notBefore = options.notBefore ?? new Date(Date.now() - DAY);
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * DAY);

  const certificate = options.selfSigned
    ? await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: serial(), name: new x509.Name(subject), notBefore, notAfter, signingAlgorithm: ALGORITHM, keys, extensions,
      })
    : await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: new x509.Name(subject),
        issuer: authority.certificate.subject,
        notBefore,
        notAfter,
        signingAlgorithm: ALGORITHM,
        publicKey: keys.publicKey,
        signingKey: authority.keys.privateKey,
        extensions: [...extensions, await x509.AuthorityKeyIdentifierExtension.create(authority.certificate)],
      });
  return toIssued(certificate, keys);
}

/** Issues a TLS server certificate for the given host names and IP addresses. */
export async function issueServerCertificate(authority: Authority, names: readonly string[]): Promise<IssuedCertificate> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${names[0] ?? 'localhost'}`,
    issuer: authority.certificate.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 825 * DAY),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: authority.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([OID.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((name) => (
        /^[\d.]+$/.test(name) || name.includes(':') ? { type: 'ip' as const, value: name } : { type: 'dns' as const, value: name }
      ))),
      await x509.AuthorityKeyIdentifierExtension.create(authority.certificate),
    ],
  });
  return toIssued(certificate, keys);
}
