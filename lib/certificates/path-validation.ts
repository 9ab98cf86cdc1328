/**
 * RFC 5280 §6.1 path validation of a path already built and signature-checked by
 * {@link pathToAnchor}: key and signature strength, critical extensions, the uses of each
 * certificate, name constraints and certificate policies. Synchronous, because the certificate
 * helpers of oidc-provider that ask for a client's identity are.
 */
import type { X509Certificate } from 'node:crypto';

import { keyWeakness, signatureWeakness, type AlgorithmPolicy, ELLIPTIC_CURVES, SIGNATURE_HASHES } from './algorithms.js';
import { policyFailure } from './certificate-policies.js';
import { CertificateFactsError, factsOf, type CertificateFacts } from './certificate-facts.js';
import { formatRfc4514, parseDistinguishedName } from './distinguished-name.js';
import { nameConstraintViolation } from './name-constraints.js';
import { ANY_EXTENDED_KEY_USAGE, OID } from './oids.js';
import { reject } from './rejection.js';

/** What one environment accepts on a path, beyond what RFC 5280 requires of every path. */
export interface PathValidationPolicy extends AlgorithmPolicy {
  /**
   * Accept CA certificates whose extended key usage allows serverAuth but not clientAuth, as in
   * hierarchies dedicated to TLS server certificates.
   */
  readonly acceptServerAuthOnlyCAs: boolean;
}

export const DEFAULT_PATH_VALIDATION: PathValidationPolicy = {
  minimumRsaKeySize: 2048,
  ellipticCurves: ELLIPTIC_CURVES,
  signatureHashes: SIGNATURE_HASHES,
  acceptServerAuthOnlyCAs: false,
};

const USAGE_NAMES: Record<string, string> = {
  [OID.serverAuth]: 'serverAuth',
  [OID.clientAuth]: 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  [ANY_EXTENDED_KEY_USAGE]: 'anyExtendedKeyUsage',
};

/** RFC 5280 §4.2.1.3, in the order of the bits. */
const KEY_USAGE_BITS = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'crlSign', 'encipherOnly', 'decipherOnly'];

function keyUsageNames(usages: readonly string[]): string {
  return KEY_USAGE_BITS.filter((bit) => usages.includes(bit)).join(', ') || 'none';
}

function usageNames(oids: readonly string[]): string {
  return oids.length ? oids.map((oid) => USAGE_NAMES[oid] ?? oid).join(', ') : 'none';
}

/** A path as validated: the leaf first, the trust anchor last, with the facts of each. */
interface Path {
  readonly certificates: readonly CertificateFacts[];
  readonly leaf: CertificateFacts;
  readonly anchor: CertificateFacts;
}

function label(path: Path, certificate: CertificateFacts): string {
  if (certificate === path.leaf) return 'the client certificate';
  if (certificate === path.anchor) return `the trust anchor "${certificate.subjectText}"`;
  return `the CA certificate "${certificate.subjectText}"`;
}

function possessive(path: Path, certificate: CertificateFacts, what: string): string {
  return certificate === path.leaf ? `the client certificate's ${what}` : `the ${what} of ${label(path, certificate)}`;
}

/** The subject of a certificate whose extensions could not be read, from Node's reading of it. */
function subjectOf(certificate: X509Certificate): string {
  try {
    return formatRfc4514(parseDistinguishedName(certificate.subject));
  } catch {
    return certificate.subject.replace(/\n/g, ', ');
  }
}

function readPath(certificates: readonly X509Certificate[]): Path {
  const facts = certificates.map((certificate, index) => {
    try {
      return factsOf(certificate);
    } catch (cause) {
      const detail = cause instanceof CertificateFactsError ? cause.message : 'unreadable';
      if (index === 0) return reject('certificate_malformed', `the client certificate is malformed: ${detail}`, cause);
      const where = index === certificates.length - 1 ? 'trust anchor' : 'CA certificate';
      return reject('certificate_malformed', `the ${where} "${subjectOf(certificate)}" of the client certificate's path is malformed: ${detail}`, cause);
    }
  });
  return { certificates: facts, leaf: facts[0] as CertificateFacts, anchor: facts[facts.length - 1] as CertificateFacts };
}

/** RFC 5280 §6.1.3(a): key sizes and signature hashes, from the trust anchor down. */
function checkAlgorithms(path: Path, policy: PathValidationPolicy): void {
  const anchorKey = keyWeakness(path.anchor.certificate.publicKey, policy);
  if (anchorKey) reject('weak_key', `${label(path, path.anchor)} has ${anchorKey}`);
  // The anchor's own signature is not checked: trust in it comes from configuration.
  for (const certificate of path.certificates.slice(0, -1).reverse()) {
    const signature = signatureWeakness(certificate.signatureAlgorithm, policy);
    if (signature) reject('weak_signature', `${label(path, certificate)} is signed with ${signature}`);
    const key = keyWeakness(certificate.certificate.publicKey, policy);
    if (key) reject('weak_key', `${label(path, certificate)} has ${key}`);
  }
}

/** RFC 5280 §6.1.4(o), §6.1.5(f). The trust anchor's extensions are configuration, not checked here. */
function checkCriticalExtensions(path: Path): void {
  for (const certificate of path.certificates.slice(0, -1).reverse()) {
    const [unknown] = certificate.unrecognisedCritical;
    if (unknown) {
      reject('unrecognised_critical_extension', `${label(path, certificate)} has a critical extension this server does not recognise (${unknown})`);
    }
  }
}

/** What each certificate may be used for: the CAs' extended key usage, the leaf's role and usages. */
function checkUsages(path: Path, policy: PathValidationPolicy): void {
  const caUsages = [OID.clientAuth, ANY_EXTENDED_KEY_USAGE, ...(policy.acceptServerAuthOnlyCAs ? [OID.serverAuth] : [])] as string[];
  for (const certificate of path.certificates.slice(1, -1).reverse()) {
    const usages = certificate.extendedKeyUsages;
    if (usages && !usages.some((usage) => caUsages.includes(usage))) {
      reject(
        'ca_extended_key_usage_not_client_auth',
        `the extended key usage of ${label(path, certificate)} (${usageNames(usages)}) excludes TLS client authentication`,
      );
    }
  }
  const { leaf } = path;
  if (leaf.ca) {
    reject('certificate_is_ca', "the client certificate is a CA certificate (basicConstraints cA TRUE), not a TPP's own certificate");
  }
  // TLS client authentication signs the handshake (CertificateVerify) in every TLS version Node offers.
  if (leaf.keyUsage && !leaf.keyUsage.includes('digitalSignature')) {
    reject(
      'key_usage_not_client_auth',
      `the client certificate's key usage (${keyUsageNames(leaf.keyUsage)}) does not allow TLS client authentication, which needs digitalSignature`,
    );
  }
  // serverAuth alone is tolerated: QWACs carry it, and some QTSPs no longer add clientAuth
  // (requiredExtendedKeyUsages makes clientAuth compulsory where an environment wants it).
  const leafUsages = [OID.clientAuth, OID.serverAuth, ANY_EXTENDED_KEY_USAGE] as string[];
  if (leaf.extendedKeyUsages && !leaf.extendedKeyUsages.some((usage) => leafUsages.includes(usage))) {
    reject(
      'extended_key_usage_not_client_auth',
      `the client certificate's extended key usage (${usageNames(leaf.extendedKeyUsages)}) does not allow TLS client authentication (clientAuth or serverAuth is required)`,
    );
  }
}

/**
 * RFC 5280 §6.1.3(b, c), §6.1.4(g): the names of each certificate against the constraints of every
 * CA above it. The trust anchor's name constraints apply too: a bank that trusts a constrained
 * CA expects its constraints to hold.
 */
function checkNameConstraints(path: Path): void {
  const { certificates } = path;
  for (let index = certificates.length - 2; index >= 0; index -= 1) {
    const certificate = certificates[index] as CertificateFacts;
    if (certificate.selfIssued && certificate !== path.leaf) continue;
    for (const ca of certificates.slice(index + 1).reverse()) {
      if (!ca.nameConstraints) continue;
      const violation = nameConstraintViolation(certificate, ca.nameConstraints);
      if (!violation) continue;
      const name = possessive(path, certificate, violation.name);
      const constraint = `the name constraints of ${label(path, ca)}`;
      if (violation.unsupported) reject('name_constraints_violated', `${name} cannot be checked against ${constraint}`);
      if (violation.excluded) reject('name_constraints_violated', `${name} is excluded by ${constraint}`);
      reject('name_constraints_violated', `${name} is outside the names permitted by ${constraint}`);
    }
  }
}

function checkPolicies(path: Path): void {
  const failure = policyFailure(path.certificates.slice(0, -1).reverse());
  if (!failure) return;
  if (failure.kind === 'any_policy_mapped') {
    reject('certificate_policy_invalid', `${label(path, failure.certificate)} maps anyPolicy in its policy mappings, which RFC 5280 forbids`);
  }
  reject(
    'certificate_policy_invalid',
    `no certificate policy is valid along the path down to ${label(path, failure.certificate)}, and ${label(path, failure.requiredBy)} requires an explicit policy`,
  );
}

/**
 * Validates `certificates` (the leaf first, the trust anchor last, signatures already checked)
 * as RFC 5280 §6.1 says, under `policy`; throws {@link CertificateRejectedError} naming the first
 * check that fails: algorithms, critical extensions, usages, name constraints, policies.
 */
export function validatePath(certificates: readonly X509Certificate[], policy: PathValidationPolicy = DEFAULT_PATH_VALIDATION): void {
  const path = readPath(certificates);
  checkAlgorithms(path, policy);
  checkCriticalExtensions(path);
  checkUsages(path, policy);
  checkNameConstraints(path);
  checkPolicies(path);
}
