import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import type Provider from 'oidc-provider';

import { epochSeconds } from './clock.js';
import { presentedCertificate, type CertificateSource } from './certificates/extract.js';
import { CertificateRejectedError } from './certificates/identity.js';
import { InvalidClientError, InvalidRequestError } from './errors.js';
import type { ResolvedOptions, ResourceServerOptions } from './options/index.js';
import type { IntrospectionResponse } from './introspection-response.js';
import type { PaymentAuthorizationDetail } from './payments/details.js';
import { clientField } from './provider/client-view.js';
import { consentOf } from './provider/internals.js';
import { consentEnd } from './psd2/tokens.js';

interface StoredToken {
  clientId?: string;
  accountId?: string;
  grantId?: string;
  scope?: string;
  iat?: number;
  exp?: number;
  isExpired?: boolean;
  'x5t#S256'?: string;
  rar?: PaymentAuthorizationDetail[];
  aud?: string | string[];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Authenticates the bank's resource servers: HTTP Basic or a pinned client certificate. */
export class ResourceServerAuthentication {
  readonly #servers: readonly ResourceServerOptions[];

  constructor(servers: readonly ResourceServerOptions[], private readonly source: CertificateSource) {
    this.#servers = servers;
  }

  /** The resource server making the request; throws a 401 error when it is none. */
  authenticate(req: IncomingMessage): ResourceServerOptions {
    const authorization = req.headers.authorization;
    if (authorization?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
      const formDecode = (part: string): string | undefined => {
        try {
          return decodeURIComponent(part.replace(/\+/g, '%20'));
        } catch {
          return undefined;
        }
      };
      const id = formDecode(decoded.slice(0, Math.max(colon, 0)));
      const secret = formDecode(decoded.slice(colon + 1)) ?? '';
      const server = this.#servers.find((candidate) => candidate.id === id && candidate.secret);
      // Compared as digests, so that neither length nor content leaks through timing.
      if (colon > 0 && server?.secret && timingSafeEqual(digest(server.secret), digest(secret))) return server;
      throw new InvalidClientError('the resource server credentials are not valid');
    }
    let leaf: Buffer | undefined;
    try {
      leaf = presentedCertificate(req, this.source)?.leaf as Buffer | undefined;
    } catch (error) {
      // A pinned certificate is public: replayed in the header by anyone but a proxy, it is refused as such.
      if (error instanceof CertificateRejectedError && error.reason === 'certificate_header_untrusted') throw error;
      leaf = undefined;
    }
    if (leaf) {
      const thumbprint = createHash('sha256').update(leaf).digest('base64url');
      const server = this.#servers.find((candidate) => candidate.certificateThumbprints?.includes(thumbprint));
      if (server) return server;
    }
    throw new InvalidClientError('token introspection is reserved to the bank\'s resource servers: authenticate with HTTP Basic or a registered resource server certificate');
  }
}

/**
 * RFC 7662 introspection of access tokens for the bank's PSD2 API: whether the token is active,
 * for which TPP, PSU, scope, accounts and certificate, and until when the consent lasts.
 */
export async function introspect(provider: Provider, options: ResolvedOptions, token: unknown): Promise<IntrospectionResponse> {
  if (typeof token !== 'string' || !token) throw new InvalidRequestError('the token parameter is required');
  if (token.length > 512) return { active: false };
  const stored = (await provider.AccessToken.find(token) ?? await provider.ClientCredentials.find(token)) as StoredToken | undefined;
  if (!stored || stored.isExpired || !stored.clientId || typeof stored.exp !== 'number') return { active: false };
  const client = await provider.Client.find(stored.clientId);
  if (!client) return { active: false };
  const providerLegalId = clientField(client, 'provider_legal_id');
  const environment = clientField(client, 'psd2_environment');
  const answer: IntrospectionResponse & { active: true } = {
    active: true,
    iss: options.issuer,
    client_id: stored.clientId,
    token_type: 'Bearer',
    scope: stored.scope ?? '',
    iat: stored.iat ?? 0,
    exp: stored.exp,
    ...(stored['x5t#S256'] ? { cnf: { 'x5t#S256': stored['x5t#S256'] } } : {}),
    ...(typeof providerLegalId === 'string' ? { provider_legal_id: providerLegalId } : {}),
    ...(typeof environment === 'string' ? { psd2_environment: environment } : {}),
  };
  if (!stored.grantId) return answer;
  const grant = await provider.Grant.find(stored.grantId);
  if (!grant) return { active: false };
  const consent = consentOf(grant);
  const end = consent ? consentEnd(consent, options.tokens.consentLifetime) : undefined;
  if (end !== undefined && end <= epochSeconds(options.now)) return { active: false };
  // A payment's token serves that payment alone: its consent has no lasting end to report.
  const payment = stored.rar?.length ? stored.rar : undefined;
  const audience = Array.isArray(stored.aud) ? stored.aud[0] : stored.aud;
  return {
    ...answer,
    ...(stored.accountId ? { sub: stored.accountId } : {}),
    ...(consent ? { accounts: consent.accounts, sca_time: consent.scaTime } : {}),
    ...(end !== undefined && !payment ? { consent_expires_at: end } : {}),
    ...(payment ? { authorization_details: payment } : {}),
    ...(audience ? { aud: audience } : {}),
  };
}
