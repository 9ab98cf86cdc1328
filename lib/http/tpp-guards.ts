/**
 * The TPP behind a request to the registration, management, token and revocation endpoints:
 * identified by its certificate (lib/certificates/), whose revocation status the environment's
 * policy checks (lib/certificate-status.ts), of an organization the bank has not suspended.
 */
import type { IncomingMessage } from 'node:http';

import type Provider from 'oidc-provider';

import type { CertificateStatusPolicy } from '../certificate-status.js';
import { CertificateRejectedError, type TppIdentity } from '../certificates/identity.js';
import { InvalidClientError, InvalidTokenError, isUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import { noteRequest, servicesOf, type ServerMetrics } from '../observability/index.js';
import { findClient, issueRegistrationToken } from '../provider/internals.js';
import { stateOf } from '../provider/request-state.js';
import { prepareUpdateBody } from '../registration/update-body.js';
import type { RequestIdentities } from '../request-identity.js';
import type { Suspensions } from '../suspensions.js';
import type { Handler } from './express-errors.js';

export interface TppGuardParts {
  readonly identities: RequestIdentities;
  readonly certificateStatus: CertificateStatusPolicy;
  readonly suspensions: Suspensions;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
}

/** Seconds a registration access token lent to a management request lives (it ends with the request). */
const LENT_TOKEN_LIFETIME = 60;

export class TppGuard {
  readonly #parts: TppGuardParts;

  constructor(parts: TppGuardParts) {
    this.#parts = parts;
  }

  /** The TPP of the request; throws an OAuthError (401 `invalid_client` for a refused certificate). */
  async identify(req: IncomingMessage & { originalUrl?: string }): Promise<TppIdentity> {
    const { identities, certificateStatus, suspensions, logger, metrics } = this.#parts;
    let identity: TppIdentity;
    try {
      identity = identities.require(req);
    } catch (error) {
      if (error instanceof CertificateRejectedError) metrics.recordCertificateCheck(error.reason);
      throw error;
    }
    noteRequest(req, { services: servicesOf({ roles: identity.roles }), providerLegalId: identity.organizationIdentifier });
    try {
      await certificateStatus.require(identity);
    } catch (error) {
      // The bank's share of a failure (PSD2 statistics): its storage, or a revocation responder.
      if (error instanceof CertificateRejectedError) metrics.recordCertificateCheck(error.reason);
      else noteRequest(req, { cause: isUnavailable(error) ? 'storage' : 'responder' });
      throw error;
    }
    metrics.recordCertificateCheck('accepted');
    if (await suspensions.isSuspended(identity.organizationIdentifier).catch((error: unknown) => {
      noteRequest(req, { cause: 'storage' });
      throw error;
    })) {
      logger.warn({ event: 'organization.refused', organization: identity.organizationIdentifier, path: req.originalUrl ?? req.url }, 'request of a suspended TPP refused');
      throw new InvalidClientError(`the bank has suspended ${identity.organizationIdentifier}`);
    }
    return identity;
  }

  /** Express middleware: a TPP certificate is required, of an organization the bank has not suspended. */
  readonly requireTpp: Handler = async (req, _res, next) => {
    await this.identify(req);
    next();
  };

  /**
   * RFC 7592 management: only the organization and environment that own a client may manage it.
   * Deployed TPP clients authenticate with mutual TLS alone, so a call without a registration
   * access token is lent one for the duration of the request (never shown to the caller).
   */
  authorizeManagement(provider: Provider): Handler {
    return async (req, _res, next) => {
      const identity = await this.identify(req);
      const clientId = String(req.params.clientId);
      const client = await findClient(provider, clientId);
      if (!client) throw new InvalidTokenError('no client is registered under this registration_client_uri');
      const metadata = client.metadata();
      if (metadata.provider_legal_id !== identity.organizationIdentifier || metadata.psd2_environment !== identity.environment) {
        this.#parts.logger.warn({ event: 'registration.foreign_certificate', clientId, organization: identity.organizationIdentifier }, 'client managed with another organization\'s certificate');
        throw new InvalidTokenError('the client certificate does not belong to the organization and environment that registered this client');
      }
      if (!req.headers.authorization) {
        const lent = await issueRegistrationToken(provider, clientId, LENT_TOKEN_LIFETIME);
        stateOf(req).lentRegistrationToken = lent;
        req.headers.authorization = `Bearer ${lent}`;
      }
      // RFC 7592 §2.2: what a read answered may be sent back; its read-only fields are dropped.
      if (req.method === 'PUT') await prepareUpdateBody(req, clientId, metadata);
      next();
    };
  }
}
