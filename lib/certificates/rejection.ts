import { InvalidClientError } from '../errors.js';

export type CertificateRejection =
  | 'certificate_missing'
  | 'certificate_malformed'
  | 'certificate_header_untrusted'
  | 'issuer_untrusted'
  | 'certificate_expired'
  | 'certificate_not_yet_valid'
  | 'not_website_certificate'
  | 'no_psd2_roles'
  | 'organization_identifier_invalid'
  | 'certificate_revoked'
  | 'certificate_status_unknown'
  /** A key on the path is too small, on a curve or of a type not accepted (RFC 5280 §6.1.3(a)(1) leaves the strength to the relying party). */
  | 'weak_key'
  /** A certificate on the path is signed with a hash not accepted, e.g. SHA-1 or MD5. */
  | 'weak_signature'
  /** RFC 5280 §6.1.4(o), §6.1.5(f): a critical extension this server does not process. */
  | 'unrecognised_critical_extension'
  /** The TPP presented a CA certificate (basicConstraints cA TRUE, RFC 5280 §4.2.1.9). */
  | 'certificate_is_ca'
  /** The TPP certificate's key usage does not allow a TLS client signature (RFC 5280 §4.2.1.3). */
  | 'key_usage_not_client_auth'
  /** The TPP certificate's extended key usage does not allow TLS client authentication (RFC 5280 §4.2.1.12). */
  | 'extended_key_usage_not_client_auth'
  /** A CA certificate on the path restricts its extended key usage to purposes without TLS client authentication. */
  | 'ca_extended_key_usage_not_client_auth'
  /** RFC 5280 §6.1.3(b, c): a name outside a CA's permitted subtrees or inside its excluded ones. */
  | 'name_constraints_violated'
  /** RFC 5280 §6.1.3(f), §6.1.4(a), §6.1.5: the path's certificate policies do not satisfy its policy constraints. */
  | 'certificate_policy_invalid'
  /** The QTSP service the path ends at was not granted on the trusted list when the certificate was issued. */
  | 'issuer_not_granted'
  /** The environment's trusted list has not been verified yet: no certificate can be checked against it. */
  | 'trust_list_unavailable';

/** A client certificate was absent or refused; `reason` says which check failed. */
export class CertificateRejectedError extends InvalidClientError {
  constructor(
    readonly reason: CertificateRejection,
    description: string,
    options?: ErrorOptions,
  ) {
    super(description, options);
    this.name = 'CertificateRejectedError';
  }
}

export function reject(reason: CertificateRejection, description: string, cause?: unknown): never {
  throw new CertificateRejectedError(reason, description, cause === undefined ? undefined : { cause });
}
