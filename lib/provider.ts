import type { IncomingMessage } from 'node:http';

import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import type { Storage } from '../adapters/storage.js';
import { distinguishedNameMatches } from './certificates/distinguished-name.js';
import { OAuthError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { GRANTS_FOR_SCOPE, SCOPES } from './psd2/scopes.js';
import { applyRegistrationPolicy } from './registration/policy.js';
import type { RequestIdentities } from './request-identity.js';

/** Paths of the endpoints, relative to the mount path. */
export const ROUTES = {
  authorization: '/authorize',
  token: '/token',
  revocation: '/revoke',
  registration: '/register',
  jwks: '/jwks',
} as const;

/** Path prefix of the PSU pages, relative to the mount path. */
export const INTERACTION_PATH = '/interaction';

/** Client metadata fields this server adds to RFC 7591's. */
export const EXTRA_CLIENT_METADATA = ['provider_legal_id', 'psd2_environment'] as const;

const REFRESHABLE_SCOPES = new Set<string>(SCOPES.filter((scope) => GRANTS_FOR_SCOPE[scope].includes('refresh_token')));

const CLIENT_CREDENTIALS_SCOPES = new Set<string>(SCOPES.filter((scope) => GRANTS_FOR_SCOPE[scope].includes('client_credentials')));

const REGISTRATION_ROUTES = new Set(['registration', 'client_update']);

type SigningAlgorithm = NonNullable<NonNullable<Configuration['clientDefaults']>['id_token_signed_response_alg']>;

function signingAlgorithm(keys: readonly Record<string, unknown>[]): SigningAlgorithm {
  const key = keys.find((k) => k.use === undefined || k.use === 'sig') ?? keys[0];
  if (key?.kty === 'EC') return ({ 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, SigningAlgorithm>)[String(key.crv)] ?? 'ES256';
  if (key?.kty === 'OKP') return 'EdDSA';
  return 'RS256';
}

function toProviderError(error: unknown): never {
  if (error instanceof OAuthError) {
    // oidc-provider reports descriptions starting with "redirect_uris" as invalid_redirect_uri.
    throw new errors.InvalidClientMetadata(error.error_description);
  }
  throw error;
}

/** Builds the oidc-provider configuration from validated options. */
export function createProvider(options: ResolvedOptions, storage: Storage, identities: RequestIdentities): Provider {
  const environments = new Map(options.environments.map((env) => [env.name, env]));
  const requestOf = (ctx: KoaContextWithOIDC): IncomingMessage => ctx.req;
  const { mountPath } = options;

  const configuration: Configuration = {
    adapter: (name: string) => storage.adapterFor(name),
    jwks: options.signingKeys as Configuration['jwks'],
    cookies: {
      keys: options.cookieKeys,
      long: { signed: true, secure: true, sameSite: 'lax' },
      short: { signed: true, secure: true, sameSite: 'lax' },
    },
    scopes: [...SCOPES],
    responseTypes: ['code'],
    clientAuthMethods: ['tls_client_auth'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
      id_token_signed_response_alg: signingAlgorithm(options.signingKeys.keys),
    },
    extraClientMetadata: {
      properties: [...EXTRA_CLIENT_METADATA],
      validator(ctx, key, _value, metadata) {
        // Runs per extra property; the whole policy runs once, for registration and update only.
        if (key !== EXTRA_CLIENT_METADATA[0] || !ctx || !REGISTRATION_ROUTES.has(String(ctx.oidc?.route))) return;
        const identity = identities.require(requestOf(ctx));
        try {
          applyRegistrationPolicy(metadata as Record<string, unknown>, {
            identity,
            requested: (ctx.oidc.body ?? {}) as Record<string, unknown>,
            allowLoopbackRedirectUris: environments.get(identity.environment)?.allowLoopbackRedirectUris ?? false,
          });
        } catch (error) {
          toProviderError(error);
        }
      },
    },
    routes: { ...ROUTES },
    // The PSU pages live under the mount path, where the interaction cookie is scoped.
    interactions: { url: (_ctx, interaction) => `${mountPath}${INTERACTION_PATH}/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      clientCredentials: { enabled: true },
      pushedAuthorizationRequests: { enabled: false },
      // Access tokens are bound to the TPP's certificate (RFC 8705), not to DPoP proofs.
      dPoP: { enabled: false },
      revocation: { enabled: true },
      registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: true },
      registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        certificateBoundAccessTokens: true,
        getCertificate: (ctx) => identities.find(requestOf(ctx))?.certificate,
        certificateAuthorized: (ctx) => identities.find(requestOf(ctx)) !== undefined,
        certificateSubjectMatches(ctx, property, expected) {
          const identity = identities.find(requestOf(ctx));
          const client = ctx.oidc.client?.metadata() as Record<string, unknown> | undefined;
          return property === 'tls_client_auth_subject_dn'
            && identity !== undefined
            && client?.psd2_environment === identity.environment
            && client?.provider_legal_id === identity.organizationIdentifier
            && distinguishedNameMatches(expected, identity.subject);
        },
      },
    },
    // Payment initiators use client_credentials for pisp only; account access always needs a PSU's
    // consent through the authorization code flow (DESIGN 3.2). Runs before the token is stored.
    extraTokenClaims: async (_ctx, token) => {
      if (token.kind !== 'ClientCredentials') return undefined;
      const scopes = String(token.scope ?? '').split(' ').filter(Boolean);
      const refused = scopes.filter((scope) => !CLIENT_CREDENTIALS_SCOPES.has(scope));
      if (refused.length) {
        throw new errors.InvalidScope(`the client_credentials grant gives only the pisp scope; ${refused.join(' ')} needs the PSU's consent (authorization code)`, refused.join(' '));
      }
      if (!scopes.length) throw new errors.InvalidScope('the client_credentials grant needs scope=pisp', '');
      return undefined;
    },
    pkce: { required: () => true },
    // A refresh token only for account access (aisp, cbpii), never for payment initiation (DESIGN 3.2).
    issueRefreshToken: async (_ctx, client, source) => client.grantTypeAllowed('refresh_token')
      && [...(source.scopes ?? [])].some((scope) => REFRESHABLE_SCOPES.has(scope)),
    expiresWithSession: () => false,
  };

  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.trustProxy;
  return provider;
}
