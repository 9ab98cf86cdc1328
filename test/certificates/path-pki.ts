/**
 * Certificates for the path validation tests (not a test file itself): CAs and TPP certificates
 * with whatever keys, hashes and extensions a test needs, from real key pairs. Keys are made once
 * per kind and reused, so that a test file stays fast.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { X509Certificate as NodeCertificate, generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AsnConvert } from '@peculiar/asn1-schema';
import {
  CertificatePolicies,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  InhibitAnyPolicy,
  Name,
  NameConstraints,
  PolicyConstraints,
  PolicyInformation,
  PolicyMapping,
  PolicyMappings,
} from '@peculiar/asn1-x509';
import { QCStatement, QCStatements } from '@peculiar/asn1-x509-qualified';
import { QcType } from '@peculiar/asn1-x509-qualified-etsi';
import * as x509 from '@peculiar/x509';

import type { Authority, IssuedCertificate } from '../../tools/dev-pki/pki.js';
import { OID, PSD2_ROLES } from '../../lib/certificates/oids.js';
import { Psd2QcType, RoleOfPsp, RolesOfPsp } from '../../lib/certificates/psd2-statement.js';
import type { TppCredentials } from '../support/pki.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;
type CryptoKey = webcrypto.CryptoKey;

const DAY = 24 * 60 * 60 * 1000;

export type KeyKind = 'P-256' | 'P-384' | 'P-521' | 'secp256k1' | 'Ed25519' | 'RSA-512' | 'RSA-1024' | 'RSA-2048' | 'RSA-3072';
export type Hash = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** A certificate minted here, usable as an issuer of more (an {@link Authority}). */
export interface Minted extends Authority {
  readonly kind: KeyKind;
  readonly pkcs8: Buffer;
  /** node:crypto's view of the certificate, as the verifier takes trust anchors. */
  readonly node: NodeCertificate;
}

interface KeyMaterial {
  readonly kind: KeyKind;
  readonly pkcs8: Buffer;
  readonly spki: Buffer;
}

const keyMaterial = new Map<KeyKind, KeyMaterial>();

function generate(kind: KeyKind): KeyMaterial {
  const pair = kind.startsWith('RSA-')
    ? generateKeyPairSync('rsa', { modulusLength: Number(kind.slice(4)) })
    : kind === 'Ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: kind });
  return {
    kind,
    pkcs8: pair.privateKey.export({ type: 'pkcs8', format: 'der' }),
    spki: pair.publicKey.export({ type: 'spki', format: 'der' }),
  };
}

/** One key pair per kind, shared by every certificate of that kind (`fresh` makes a new one). */
function keysOf(kind: KeyKind, fresh = false): KeyMaterial {
  if (fresh) return generate(kind);
  let material = keyMaterial.get(kind);
  if (!material) {
    material = generate(kind);
    keyMaterial.set(kind, material);
  }
  return material;
}

/** The WebCrypto algorithm that signs with a key of `kind` and `hash`. */
function signingAlgorithm(kind: KeyKind, hash: Hash): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams & { hash: Hash } | { name: 'Ed25519' } {
  if (kind.startsWith('RSA-')) return { name: 'RSASSA-PKCS1-v1_5', hash };
  if (kind === 'Ed25519') return { name: 'Ed25519' };
  return { name: 'ECDSA', namedCurve: kind, hash };
}

async function importPair(material: KeyMaterial, hash: Hash): Promise<CryptoKeyPair> {
  const algorithm = signingAlgorithm(material.kind, hash);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', material.pkcs8, algorithm, true, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', material.spki, algorithm, true, ['verify']);
  return { privateKey, publicKey } as CryptoKeyPair;
}

function serial(): string {
  return `01${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex')}`;
}

function skipCerts(value: number): ArrayBuffer {
  return new Uint8Array([value]).buffer;
}

/** A general name as asn1-x509 writes it, e.g. `{ dNSName: 'tpp.example' }` or `{ iPAddress: '10.0.0.0/8' }`. */
export type NameSpec = Partial<Pick<GeneralName, 'dNSName' | 'rfc822Name' | 'uniformResourceIdentifier' | 'iPAddress' | 'registeredID'>>
  | { readonly directoryName: string };

function generalName(spec: NameSpec): GeneralName {
  if ('directoryName' in spec) return new GeneralName({ directoryName: AsnConvert.parse(new x509.Name(spec.directoryName).toArrayBuffer(), Name) });
  return new GeneralName(spec);
}

export interface MintOptions {
  /** Issuer; self-signed when absent. */
  readonly issuer?: Authority | Minted;
  /** Subject DN in certificate order (`C=EU,O=…,CN=…`), or as @peculiar/x509 JSON. */
  readonly subject: string | x509.JsonName;
  /** Kind of the subject's key; default P-256. */
  readonly key?: KeyKind;
  /** A key pair of its own instead of the one shared by its kind. */
  readonly freshKey?: boolean;
  /** Hash of the issuer's signature; default SHA-256. */
  readonly hash?: Hash;
  /** basicConstraints: a CA (with an optional path length), an end entity, or `null` for none. */
  readonly ca?: boolean | { readonly pathLength: number } | null;
  /** keyUsage flags; default keyCertSign and cRLSign for a CA, digitalSignature otherwise; `null` omits it. */
  readonly keyUsage?: x509.KeyUsageFlags | null;
  /** extKeyUsage OIDs; default none for a CA, serverAuth and clientAuth otherwise; `null` omits it. */
  readonly extendedKeyUsages?: readonly string[] | null;
  readonly subjectAltNames?: x509.JsonGeneralNames;
  readonly nameConstraints?: { readonly permitted?: readonly NameSpec[]; readonly excluded?: readonly NameSpec[]; readonly critical?: boolean };
  readonly policies?: readonly string[];
  readonly policyMappings?: readonly (readonly [string, string])[];
  readonly policyConstraints?: { readonly requireExplicitPolicy?: number; readonly inhibitPolicyMapping?: number };
  readonly inhibitAnyPolicy?: number;
  /** PSD2 qualified statements (QcCompliance, QcType web, PSP_AI at FR-NCA); default for end entities. */
  readonly psd2?: boolean;
  /** More extensions, e.g. an unknown critical one. */
  readonly extensions?: readonly x509.Extension[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
}

function psd2Statements(): x509.Extension {
  const statement = (id: string, info?: ArrayBuffer) => {
    const result = new QCStatement();
    result.statementId = id;
    (result as { statementInfo?: ArrayBuffer }).statementInfo = info;
    return result;
  };
  const psd2 = new Psd2QcType({
    rolesOfPSP: new RolesOfPsp([new RoleOfPsp({ roleOfPspOid: PSD2_ROLES.PSP_AI, roleOfPspName: 'PSP_AI' })]),
    nCAName: 'FR National Competent Authority',
    nCAId: 'FR-NCA',
  });
  return new x509.Extension(OID.qcStatements, false, AsnConvert.serialize(new QCStatements([
    statement(OID.qcCompliance),
    statement(OID.qcType, AsnConvert.serialize(new QcType([OID.qcTypeWeb]))),
    statement(OID.psd2Statement, AsnConvert.serialize(psd2)),
  ])));
}

/**
 * A TPP subject with the PSD2 organizationIdentifier matching {@link psd2Statements}. Names are
 * written here in certificate order, the most general attribute first.
 */
export function tppSubject(commonName: string, organization = 'Path TPP'): string {
  return `C=FR,O=${organization},2.5.4.97=PSDFR-NCA-PATHTPP,CN=${commonName}`;
}

function extensionsOf(options: MintOptions, ca: boolean): x509.Extension[] {
  const extensions: x509.Extension[] = [];
  if (options.ca !== null) {
    const pathLength = typeof options.ca === 'object' && options.ca ? options.ca.pathLength : undefined;
    extensions.push(new x509.BasicConstraintsExtension(ca, pathLength, true));
  }
  const keyUsage = options.keyUsage === undefined
    ? (ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature)
    : options.keyUsage;
  if (keyUsage !== null) extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  const usages = options.extendedKeyUsages === undefined ? (ca ? null : [OID.serverAuth, OID.clientAuth]) : options.extendedKeyUsages;
  if (usages) extensions.push(new x509.ExtendedKeyUsageExtension([...usages]));
  if (options.subjectAltNames) extensions.push(new x509.SubjectAlternativeNameExtension(options.subjectAltNames));
  if (options.nameConstraints) {
    const subtrees = (specs: readonly NameSpec[] | undefined) => (specs?.length
      ? new GeneralSubtrees(specs.map((spec) => new GeneralSubtree({ base: generalName(spec) })))
      : undefined);
    const constraints = new NameConstraints({
      permittedSubtrees: subtrees(options.nameConstraints.permitted),
      excludedSubtrees: subtrees(options.nameConstraints.excluded),
    });
    extensions.push(new x509.Extension('2.5.29.30', options.nameConstraints.critical ?? true, AsnConvert.serialize(constraints)));
  }
  if (options.policies) {
    const policies = new CertificatePolicies(options.policies.map((policyIdentifier) => new PolicyInformation({ policyIdentifier })));
    extensions.push(new x509.Extension('2.5.29.32', false, AsnConvert.serialize(policies)));
  }
  if (options.policyMappings) {
    const mappings = new PolicyMappings(options.policyMappings.map(([issuerDomainPolicy, subjectDomainPolicy]) => {
      const mapping = new PolicyMapping();
      mapping.issuerDomainPolicy = issuerDomainPolicy;
      mapping.subjectDomainPolicy = subjectDomainPolicy;
      return mapping;
    }));
    extensions.push(new x509.Extension('2.5.29.33', true, AsnConvert.serialize(mappings)));
  }
  if (options.policyConstraints) {
    const { requireExplicitPolicy, inhibitPolicyMapping } = options.policyConstraints;
    const constraints = new PolicyConstraints({
      requireExplicitPolicy: requireExplicitPolicy === undefined ? undefined : skipCerts(requireExplicitPolicy),
      inhibitPolicyMapping: inhibitPolicyMapping === undefined ? undefined : skipCerts(inhibitPolicyMapping),
    });
    extensions.push(new x509.Extension('2.5.29.36', true, AsnConvert.serialize(constraints)));
  }
  if (options.inhibitAnyPolicy !== undefined) {
    extensions.push(new x509.Extension('2.5.29.54', true, AsnConvert.serialize(new InhibitAnyPolicy(skipCerts(options.inhibitAnyPolicy)))));
  }
  if (options.psd2 ?? !ca) extensions.push(psd2Statements());
  extensions.push(...(options.extensions ?? []));
  return extensions;
}

async function toMinted(certificate: x509.X509Certificate, material: KeyMaterial, keys: CryptoKeyPair, name: string): Promise<Minted> {
  const der = Buffer.from(certificate.rawData);
  return {
    name,
    kind: material.kind,
    pkcs8: material.pkcs8,
    certificate,
    keys,
    der,
    node: new NodeCertificate(der),
    certPem: `${certificate.toString('pem').trim()}\n`,
    keyPem: `${x509.PemConverter.encode(material.pkcs8, 'PRIVATE KEY').trim()}\n`,
  };
}

function kindOf(issuer: Authority | Minted): KeyKind {
  return 'kind' in issuer ? issuer.kind : 'P-256';
}

/** The issuer's private key, as WebCrypto must hold it to sign with `hash`. */
async function issuerKey(issuer: Authority | Minted, hash: Hash): Promise<CryptoKey> {
  if (!('pkcs8' in issuer)) return issuer.keys.privateKey;
  return webcrypto.subtle.importKey('pkcs8', issuer.pkcs8, signingAlgorithm(issuer.kind, hash), false, ['sign']);
}

/** Mints a certificate as `options` say. */
export async function mint(options: MintOptions): Promise<Minted> {
  const kind = options.key ?? 'P-256';
  const hash = options.hash ?? 'SHA-256';
  const material = keysOf(kind, options.freshKey);
  // WebCrypto knows no secp256k1: such a key is only ever a subject's, written as it is.
  const keys = await importPair(material, 'SHA-256').catch(() => ({}) as CryptoKeyPair);
  const ca = options.ca === true || (typeof options.ca === 'object' && options.ca !== null);
  const subject = new x509.Name(options.subject);
  const extensions = [...extensionsOf(options, ca), await x509.SubjectKeyIdentifierExtension.create(material.spki)];
  const notBefore = options.notBefore ?? new Date(Date.now() - DAY);
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * DAY);
  const issuer = options.issuer;
  const signerKind = issuer ? kindOf(issuer) : kind;
  const signingKey = issuer ? await issuerKey(issuer, hash) : (await importPair(material, hash)).privateKey;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: issuer ? issuer.certificate.subjectName : subject,
    notBefore,
    notAfter,
    signingAlgorithm: signingAlgorithm(signerKind, hash),
    publicKey: material.spki,
    signingKey,
    extensions: issuer ? [...extensions, await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate)] : extensions,
  });
  return toMinted(certificate, material, keys, subject.toString());
}

/** What a TPP presents over TLS: its certificate and key, and the CAs below the anchor. */
export function credentials(leaf: IssuedCertificate, ...intermediates: readonly IssuedCertificate[]): TppCredentials {
  return { ...leaf, chainPem: leaf.certPem + intermediates.map((ca) => ca.certPem).join('') };
}

/** An extension of an OID nobody knows. */
export function unknownExtension(critical: boolean): x509.Extension {
  return new x509.Extension('1.3.6.1.4.1.55555.1.1', critical, new Uint8Array([0x05, 0x00]));
}

/**
 * A root and a leaf it signs with MD5, made by the `openssl` command line (WebCrypto has no MD5);
 * both hold the RSA 2048 key shared by that kind.
 */
export function md5SignedPath(): { readonly root: NodeCertificate; readonly leaf: NodeCertificate } {
  const directory = mkdtempSync(join(tmpdir(), 'md5-path-'));
  try {
    const key = join(directory, 'key.pem');
    writeFileSync(key, x509.PemConverter.encode(keysOf('RSA-2048').pkcs8, 'PRIVATE KEY'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: directory, stdio: 'pipe' });
    openssl('req', '-x509', '-key', key, '-out', 'root.pem', '-subj', '/C=EU/O=MD5 Root/CN=MD5 Root', '-days', '30',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    openssl('req', '-new', '-key', key, '-out', 'leaf.csr', '-subj', '/C=FR/O=Path TPP/CN=md5.path-tpp.example');
    openssl('x509', '-req', '-in', 'leaf.csr', '-CA', 'root.pem', '-CAkey', key, '-set_serial', '7', '-out', 'leaf.pem', '-days', '30', '-md5');
    return {
      root: new NodeCertificate(readFileSync(join(directory, 'root.pem'))),
      leaf: new NodeCertificate(readFileSync(join(directory, 'leaf.pem'))),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
