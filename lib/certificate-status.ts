import type { EnvironmentName, TppIdentity } from './certificates/identity.js';
import { CertificateRejectedError } from './certificates/identity.js';
import type { PathStatus, RevocationChecker } from './certificates/revocation/index.js';
import type { Logger } from './logger.js';
import type { RevocationMode } from './options/index.js';

/** Longest part of a status description carried into an error: it names a URL and a cause. */
const MAX_DETAIL = 300;

function revokedDescription(status: Extract<PathStatus, { status: 'revoked' }>): string {
  const when = status.revokedAt ? ` on ${status.revokedAt.toISOString()}` : '';
  const why = status.reason ? ` (${status.reason})` : '';
  return status.certificate === 'leaf'
    ? `the client certificate was revoked by its issuer${when}${why}`
    : `the client certificate's issuing CA certificate was revoked${when}${why}`;
}

/**
 * The revocation policy of each environment applied to a verified TPP certificate: a revoked
 * certificate (or CA on its path) is refused in every mode but `off`; one whose status cannot be
 * established is refused in `hard` mode and let through, with a warning, in `soft` mode.
 */
export class CertificateStatusPolicy {
  constructor(
    private readonly checker: RevocationChecker,
    private readonly modes: Readonly<Record<EnvironmentName, RevocationMode>>,
    private readonly logger: Logger,
  ) {}

  /** Whether certificates of `environment` are checked at all. */
  checks(environment: EnvironmentName): boolean {
    return this.modes[environment] !== 'off';
  }

  /** Throws {@link CertificateRejectedError} unless the identity's certificate may be used now. */
  async require(identity: TppIdentity): Promise<void> {
    const mode = this.modes[identity.environment];
    if (mode === 'off') return;
    const status = await this.checker.checkPath(identity.path);
    if (status.status === 'revoked') throw new CertificateRejectedError('certificate_revoked', revokedDescription(status));
    if (status.status === 'unknown') {
      const detail = status.description.slice(0, MAX_DETAIL);
      if (mode === 'hard') {
        throw new CertificateRejectedError('certificate_status_unknown', `the revocation status of the client certificate could not be established: ${detail}`);
      }
      this.logger.warn({
        event: 'certificate.soft_fail',
        environment: identity.environment,
        organization: identity.organizationIdentifier,
        thumbprint: identity.thumbprint,
      }, `certificate accepted without a revocation status (soft fail): ${detail}`);
    }
    // Checked again in the background while it is in use, so that a revocation reaches its tokens.
    await this.checker.watch(identity.path).catch((error: unknown) => {
      this.logger.error({ err: error, event: 'revocation.watch_failed', thumbprint: identity.thumbprint }, 'the certificate could not be listed for background revocation checks');
    });
  }

  /** Whether the certificate of this thumbprint is known revoked (never looks it up). */
  async knownRevoked(thumbprint: string, environment: EnvironmentName | undefined): Promise<boolean> {
    if (environment && !this.checks(environment)) return false;
    return this.checker.knownRevoked(thumbprint);
  }
}
