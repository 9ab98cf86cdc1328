/** RFC 7662 introspection for the bank's resource servers, with the PSD2 facts they decide on. */
import express, { type RequestHandler } from 'express';
import type Provider from 'oidc-provider';

import type { CertificateStatusPolicy } from '../certificate-status.js';
import type { CertificateSource } from '../certificates/extract.js';
import type { EnvironmentName } from '../certificates/identity.js';
import { OAuthError } from '../errors.js';
import { ResourceServerAuthentication, introspect } from '../introspection.js';
import type { Logger } from '../logger.js';
import type { ResolvedOptions } from '../options/index.js';
import type { Suspensions } from '../suspensions.js';
import { guarded } from './express-errors.js';

export interface IntrospectionParts {
  readonly provider: Provider;
  readonly options: ResolvedOptions;
  readonly source: CertificateSource;
  readonly suspensions: Suspensions;
  readonly certificateStatus: CertificateStatusPolicy;
  readonly logger: Logger;
}

/** The handlers of `POST /introspect`: a token is active only while its TPP is not suspended and its certificate not known revoked. */
export function introspection(parts: IntrospectionParts): RequestHandler[] {
  const { provider, options, suspensions, certificateStatus, logger } = parts;
  const resourceServers = new ResourceServerAuthentication(options.resourceServers, parts.source);
  return [express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 }), guarded(async (req, res) => {
    let server;
    try {
      server = resourceServers.authenticate(req);
    } catch (error) {
      res.setHeader('WWW-Authenticate', 'Basic realm="introspection", charset="UTF-8"');
      const reason = error instanceof OAuthError ? error.error_description : undefined;
      logger.warn({ event: 'introspection.refused', peer: req.socket.remoteAddress, path: req.originalUrl, reason }, 'introspection refused: not a resource server');
      throw error;
    }
    let answer = await introspect(provider, options, (req.body as Record<string, unknown> | undefined)?.token);
    if (answer.active && answer.provider_legal_id && await suspensions.isSuspended(answer.provider_legal_id)) answer = { active: false };
    const bound = answer.active ? answer.cnf?.['x5t#S256'] : undefined;
    if (answer.active && bound && await certificateStatus.knownRevoked(bound, answer.psd2_environment as EnvironmentName | undefined)) {
      logger.info({ event: 'token.certificate_revoked', clientId: answer.client_id, thumbprint: bound }, 'token inactive: the certificate it is bound to is revoked');
      answer = { active: false };
    }
    logger.info({ event: 'token.introspected', resourceServer: server.id, active: answer.active, clientId: answer.active ? answer.client_id : undefined }, 'token introspected');
    res.set('Cache-Control', 'no-store').json(answer);
  }, logger)];
}

/** How the bank's resource servers authenticate at the introspection endpoint, as the metadata says. */
export function introspectionAuthMethods(options: Pick<ResolvedOptions, 'resourceServers'>): string[] {
  // RFC 8705 §2.2 names a certificate pinned by its thumbprint `self_signed_tls_client_auth`.
  return [
    ...(options.resourceServers.some((server) => server.secret) ? ['client_secret_basic'] : []),
    ...(options.resourceServers.some((server) => server.certificateThumbprints) ? ['self_signed_tls_client_auth'] : []),
  ];
}
