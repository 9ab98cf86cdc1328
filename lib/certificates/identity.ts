import { X509Certificate, createHash } from 'node:crypto';

import type { EllipticCurve, SignatureHash } from './algorithms.js';
import { anchorsOf, checkAnchorGranted, namedUnderFixedAnchors, type AnchorSource } from './anchor-source.js';
import { CertificateFactsError, factsOf } from './certificate-facts.js';
import { pathToAnchor } from './chain.js';
import { formatRfc4514, type DnAttribute } from './distinguished-name.js';
import { EXTENDED_KEY_USAGES, OID, type ExtendedKeyUsageName, type Psd2Role } from './oids.js';
import { CertificateContentError, readCertificateContents, type CertificateContents } from './parse.js';
import { DEFAULT_PATH_VALIDATION, validatePath, type PathValidationPolicy } from './path-validation.js';
import { CertificateRejectedError, reject } from './rejection.js';

export { CertificateRejectedError, type CertificateRejection } from './rejection.js';

export type EnvironmentName = 'sandbox' | 'bank';

/** How one environment decides which certificates it trusts. */
export interface EnvironmentTrust {
  readonly name: EnvironmentName;
  readonly anchors: readonly X509Certificate[];
  /** Anchors that change while the server runs (a trusted list), used besides `anchors`. */
  readonly anchorSource?: AnchorSource;
  /** Require QcCompliance and QcType web (a qualified website authentication certificate). */
  readonly requireQualifiedStatements: boolean;
  /** Extended key usages the certificate must carry when it has the extension. */
  readonly requiredExtendedKeyUsages: readonly ExtendedKeyUsageName[];
  /** Smallest RSA modulus on the path, in bits. Default 2048. */
  readonly minimumRsaKeySize?: number;
  /** Curves accepted for EC and EdDSA keys on the path. Default P-256, P-384, P-521, Ed25519, Ed448. */
  readonly ellipticCurves?: readonly EllipticCurve[];
  /** Hashes accepted in the signatures of the path. Default SHA-256, SHA-384, SHA-512. */
  readonly signatureHashes?: readonly SignatureHash[];
  /** Accept CA certificates whose extended key usage has serverAuth without clientAuth. Default false. */
  readonly acceptServerAuthOnlyCAs?: boolean;
}

/** The TPP behind a verified certificate. */
export interface TppIdentity {
  readonly environment: EnvironmentName;
  readonly roles: readonly Psd2Role[];
  readonly ncaName: string;
  readonly ncaId: string;
  /** Subject organizationIdentifier, e.g. `PSDFR-ACPR-12345`: the provider legal id. */
  readonly organizationIdentifier: string;
  readonly subject: readonly DnAttribute[];
  /** The subject in RFC 4514 form, as registered in `tls_client_auth_subject_dn`. */
  readonly subjectDn: string;
  /** SHA-256 thumbprint of the DER certificate, base64url (`x5t#S256`). */
  readonly thumbprint: string;
  readonly certificate: X509Certificate;
  readonly notAfter: Date;
  /** The validated path: the leaf first, then each intermediate, the trust anchor last. */
  readonly path: readonly X509Certificate[];
}

/** A certificate as presented: the leaf first, then any intermediates the client or proxy sent. */
export interface PresentedCertificate {
  readonly leaf: Uint8Array;
  readonly chain: readonly Uint8Array[];
}

const ORGANIZATION_IDENTIFIER = /^PSD([A-Z]{2})-([A-Z0-9]{1,8})-(\S+)$/;
const CACHE_SIZE = 1024;
/**
 * Largest certificate read, leaf or CA, in bytes of DER. QWACs are a few kilobytes; a bigger one
 * would only make every request that presents it costly to refuse.
 */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;
/** How long a connection's refused certificate stays refused without being read again (ms). */
const REFUSAL_TTL = 60_000;

interface Verified {
  readonly environment: EnvironmentTrust;
  readonly contents: CertificateContents;
  readonly certificate: X509Certificate;
  readonly thumbprint: string;
  readonly path: readonly X509Certificate[];
  /** When every CA certificate that may be on the verified path is valid (ms); the entry holds only then. */
  readonly caValidFrom: number;
  readonly caValidTo: number;
  /** The leaf's validity period (ms). */
  readonly validFrom: number;
  readonly validTo: number;
  /** The versions of the changing anchor sets it was verified against (see {@link AnchorSource}). */
  readonly anchorVersions: string;
  /** What the leaf says, read once: everything but the validity period depends on it alone. */
  outcome?: TppIdentity | CertificateRejectedError;
}

function pathValidationOf(environment: EnvironmentTrust): PathValidationPolicy {
  return {
    minimumRsaKeySize: environment.minimumRsaKeySize ?? DEFAULT_PATH_VALIDATION.minimumRsaKeySize,
    ellipticCurves: environment.ellipticCurves ?? DEFAULT_PATH_VALIDATION.ellipticCurves,
    signatureHashes: environment.signatureHashes ?? DEFAULT_PATH_VALIDATION.signatureHashes,
    acceptServerAuthOnlyCAs: environment.acceptServerAuthOnlyCAs ?? DEFAULT_PATH_VALIDATION.acceptServerAuthOnlyCAs,
  };
}

function verifiesItself(certificate: X509Certificate): boolean {
  try {
    return certificate.verify(certificate.publicKey);
  } catch {
    return false;
  }
}

function parseCertificate(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (cause) {
    return reject('certificate_malformed', 'the client certificate could not be parsed as X.509', cause);
  }
}

/**
 * Verifies TPP certificates against the trust anchors of each environment, validates the path as
 * RFC 5280 §6.1 says (see {@link validatePath}) and reads the PSD2 identity they carry. Verified
 * paths are cached by the fingerprint of the leaf; the validity period is checked again on every
 * call.
 */
export class CertificateVerifier {
  readonly #environments: readonly EnvironmentTrust[];
  readonly #now: () => Date;
  readonly #cache = new Map<string, Verified>();
  readonly #byLeaf = new WeakMap<Uint8Array, Verified>();
  /** Refusals of the path, by the leaf object a connection presents with each of its requests. */
  readonly #refusedLeaves = new WeakMap<Uint8Array, { readonly error: CertificateRejectedError; readonly until: number; readonly anchorVersions: string }>();
  readonly #pathValidation: ReadonlyMap<EnvironmentTrust, PathValidationPolicy>;

  constructor(environments: readonly EnvironmentTrust[], now: () => Date = () => new Date()) {
    this.#environments = environments;
    this.#now = now;
    this.#pathValidation = new Map(environments.map((environment) => [environment, pathValidationOf(environment)]));
  }

  /** Returns the identity of a presented certificate, or throws {@link CertificateRejectedError}. */
  identify(presented: PresentedCertificate | undefined): TppIdentity {
    if (!presented) {
      return reject('certificate_missing', 'a client certificate is required: present a QWAC over mutual TLS');
    }
    const now = this.#now();
    const verified = this.#verifyChain(presented, now);
    if (verified.validFrom > now.getTime()) {
      reject('certificate_not_yet_valid', `the client certificate is not valid before ${new Date(verified.validFrom).toISOString()}`);
    }
    if (verified.validTo < now.getTime()) {
      reject('certificate_expired', `the client certificate expired on ${new Date(verified.validTo).toISOString()}`);
    }
    if (!verified.outcome) {
      try {
        verified.outcome = this.#identityOf(verified);
      } catch (error) {
        if (!(error instanceof CertificateRejectedError)) throw error;
        verified.outcome = error;
      }
    }
    const { outcome } = verified;
    if (outcome instanceof CertificateRejectedError) throw new CertificateRejectedError(outcome.reason, outcome.error_description ?? outcome.message, { cause: outcome.cause });
    return outcome;
  }

  /** The PSD2 identity a verified leaf carries; throws {@link CertificateRejectedError}. */
  #identityOf(verified: Verified): TppIdentity {
    const { certificate, contents, environment } = verified;
    this.#checkWebsiteCertificate(contents, environment);

    const { psd2 } = contents;
    if (!psd2 || psd2.roles.length === 0) {
      reject('no_psd2_roles', 'the client certificate carries no PSD2 roles (QCStatement 0.4.0.19495.2)');
    }
    const organizationIdentifier = contents.organizationIdentifier;
    const match = organizationIdentifier ? ORGANIZATION_IDENTIFIER.exec(organizationIdentifier) : null;
    if (!organizationIdentifier || !match) {
      reject(
        'organization_identifier_invalid',
        'the client certificate subject has no PSD2 organizationIdentifier (2.5.4.97) of the form PSD<country>-<NCA>-<authorisation number>',
      );
    }
    if (`${match[1]}-${match[2]}` !== psd2.ncaId) {
      reject(
        'organization_identifier_invalid',
        `the organizationIdentifier ${organizationIdentifier} does not agree with the PSD2 statement's NCA id ${psd2.ncaId}`,
      );
    }

    return {
      environment: environment.name,
      roles: psd2.roles,
      ncaName: psd2.ncaName,
      ncaId: psd2.ncaId,
      organizationIdentifier,
      subject: contents.subject,
      subjectDn: formatRfc4514(contents.subject),
      thumbprint: verified.thumbprint,
      certificate,
      notAfter: new Date(verified.validTo),
      path: verified.path,
    };
  }

  #verifyChain(presented: PresentedCertificate, now: Date): Verified {
    // The same leaf object comes back with every request of a connection: no hashing then.
    const known = this.#byLeaf.get(presented.leaf);
    const anchorVersions = this.#anchorVersions();
    if (known && known.caValidFrom <= now.getTime() && now.getTime() <= known.caValidTo && this.#cache.get(known.thumbprint) === known
      && known.anchorVersions === anchorVersions) return known;
    // Nor is a refused certificate read again for each request the connection sends.
    const refused = this.#refusedLeaves.get(presented.leaf);
    if (refused && now.getTime() < refused.until && refused.anchorVersions === anchorVersions) {
      throw new CertificateRejectedError(refused.error.reason, refused.error.error_description, { cause: refused.error.cause });
    }
    let verified: Verified;
    try {
      verified = this.#verifyChainByFingerprint(presented, now, anchorVersions);
    } catch (error) {
      if (error instanceof CertificateRejectedError) this.#refusedLeaves.set(presented.leaf, { error, until: now.getTime() + REFUSAL_TTL, anchorVersions });
      throw error;
    }
    this.#byLeaf.set(presented.leaf, verified);
    return verified;
  }

  /**
   * Whether the leaf is signed by a CA it names as issuer: an anchor of an environment or a CA
   * certificate sent with it (whether or not that one chains to an anchor).
   */
  #signedByKnownIssuer(certificate: X509Certificate, intermediates: readonly X509Certificate[]): boolean {
    const signed = (ca: X509Certificate) => {
      try {
        return ca.subject === certificate.issuer && certificate.verify(ca.publicKey);
      } catch {
        return false;
      }
    };
    return intermediates.some(signed) || this.#environments.some((environment) => anchorsOf(environment).some(signed));
  }

  /** The versions of the changing anchor sets now: a cached outcome holds only while they stay. */
  #anchorVersions(): string {
    return this.#environments.map((environment) => environment.anchorSource?.current()?.version ?? '').join(',');
  }

  /** Refuses a leaf whose own contents cannot be read (before the PSD2 checks read them). */
  #readContents(leaf: Uint8Array, certificate: X509Certificate): CertificateContents {
    let contents: CertificateContents;
    try {
      contents = readCertificateContents(leaf);
    } catch (cause) {
      const detail = cause instanceof CertificateContentError ? `: ${cause.message}` : '';
      return reject('certificate_malformed', `the client certificate is malformed${detail}`, cause);
    }
    try {
      factsOf(certificate);
    } catch (cause) {
      if (!(cause instanceof CertificateFactsError)) throw cause;
      return reject('certificate_malformed', `the client certificate is malformed: ${cause.message}`, cause);
    }
    return contents;
  }

  #verifyChainByFingerprint(presented: PresentedCertificate, now: Date, anchorVersions: string): Verified {
    // Keyed by the leaf alone: a resumed TLS session presents the leaf without its intermediates,
    // and a leaf once verified through a path stays trusted while every CA on that path is valid.
    const key = createHash('sha256').update(presented.leaf).digest('base64url');
    const cached = this.#cache.get(key);
    if (cached && cached.caValidFrom <= now.getTime() && now.getTime() <= cached.caValidTo && cached.anchorVersions === anchorVersions) {
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }

    if (presented.leaf.length > MAX_CERTIFICATE_BYTES) {
      reject('certificate_malformed', `the client certificate is larger than ${MAX_CERTIFICATE_BYTES} bytes`);
    }
    const certificate = parseCertificate(presented.leaf);
    const intermediates = presented.chain.flatMap((der) => {
      if (der.length > MAX_CERTIFICATE_BYTES) return [];
      try {
        return [new X509Certificate(der)];
      } catch {
        return [];
      }
    });
    // The first environment whose anchors the leaf chains to and whose path is valid; when paths
    // are found but none is valid, the first path's fault is the answer.
    let environment: EnvironmentTrust | undefined;
    let path: X509Certificate[] | undefined;
    let invalid: CertificateRejectedError | undefined;
    for (const candidate of this.#environments) {
      const found = pathToAnchor(certificate, intermediates, anchorsOf(candidate), now);
      if (!found) continue;
      try {
        checkAnchorGranted(candidate, found, certificate);
        validatePath(found, this.#pathValidation.get(candidate) ?? pathValidationOf(candidate));
      } catch (error) {
        if (!(error instanceof CertificateRejectedError)) throw error;
        invalid ??= error;
        continue;
      }
      environment = candidate;
      path = found;
      break;
    }
    if (!path) {
      // OpenSSL finds no issuer for a certificate with an unreadable or repeated extension: such a
      // leaf signed by a known CA is malformed, not untrusted. Anyone else's is not read further.
      if (this.#signedByKnownIssuer(certificate, intermediates)) this.#readContents(presented.leaf, certificate);
    }
    // Read once a path is found: what an untrusted certificate holds costs nothing to refuse.
    const contents = path ? this.#readContents(presented.leaf, certificate) : undefined;
    if (invalid && !path) throw invalid;
    if (!environment || !path || !contents) {
      // Not checkIssued: it also requires keyCertSign, which a self-signed leaf usually lacks.
      const selfSigned = certificate.issuer === certificate.subject && verifiesItself(certificate);
      const unloaded = this.#environments.find((candidate) => candidate.anchorSource && !candidate.anchorSource.current());
      if (unloaded?.anchorSource && !selfSigned && !namedUnderFixedAnchors(this.#environments, certificate, intermediates)) reject('trust_list_unavailable', unloaded.anchorSource.unavailableReason);
      return reject(
        'issuer_untrusted',
        selfSigned
          ? 'the client certificate is self-signed; it must be issued by a QTSP trusted by this server'
          : 'the client certificate is not issued by a QTSP trusted by this server',
      );
    }
    // The path found holds only CA certificates valid now; it stays valid while all of those are.
    const cas = path.slice(1);
    const verified: Verified = {
      environment,
      contents,
      certificate,
      thumbprint: key,
      path,
      caValidFrom: Math.max(...cas.map((ca) => new Date(ca.validFrom).getTime())),
      caValidTo: Math.min(...cas.map((ca) => new Date(ca.validTo).getTime())),
      validFrom: new Date(certificate.validFrom).getTime(),
      validTo: new Date(certificate.validTo).getTime(),
      anchorVersions,
    };
    if (this.#cache.size >= CACHE_SIZE) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, verified);
    return verified;
  }

  #checkWebsiteCertificate(contents: CertificateContents, environment: EnvironmentTrust): void {
    const { qcTypes } = contents;
    if (qcTypes.length > 0 && !qcTypes.includes(OID.qcTypeWeb)) {
      const kinds = qcTypes.map((oid) => (oid === OID.qcTypeEseal ? 'eseal' : oid === OID.qcTypeEsign ? 'esign' : oid));
      reject(
        'not_website_certificate',
        `the client certificate is not a website authentication certificate (QcType ${kinds.join(', ')}, expected web)`,
      );
    }
    if (environment.requireQualifiedStatements && (!contents.qcCompliance || !qcTypes.includes(OID.qcTypeWeb))) {
      reject(
        'not_website_certificate',
        'the client certificate is not a qualified website authentication certificate (QcCompliance and QcType web are required)',
      );
    }
    const usages = contents.extendedKeyUsages;
    if (usages) {
      const missing = environment.requiredExtendedKeyUsages.filter((name) => !usages.includes(EXTENDED_KEY_USAGES[name]));
      if (missing.length) {
        reject('not_website_certificate', `the client certificate lacks the extended key usage ${missing.join(', ')}`);
      }
    }
  }
}
