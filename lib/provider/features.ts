/** oidc-provider's features as this server uses them: options → configuration, nothing else. */
import { errors, type AuthorizationDetail, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import { distinguishedNameMatches } from '../certificates/distinguished-name.js';
import type { ResolvedOptions } from '../options/index.js';
import { authorizationDetailSchema, PAYMENT_TYPES } from '../payments/details.js';
import type { RequestIdentities } from '../request-identity.js';
import { pushedRequestOf } from './authorization-request.js';
import { clientField } from './client-view.js';

export interface FeatureParts {
  readonly options: Pick<ResolvedOptions, 'payments' | 'tokens'>;
  readonly identities: RequestIdentities;
  /** Runs as the client authenticates, before oidc-provider reads the scope. */
  defaultClientCredentialsScope(ctx: KoaContextWithOIDC): void;
}

/** Payment initiation and cancellation (RFC 9396), checked again whenever they are read. */
function richAuthorizationRequests() {
  return {
    enabled: true,
    types: Object.fromEntries(PAYMENT_TYPES.map((type) => [type, {
      validate: (_ctx: unknown, detail: unknown) => {
        const parsed = authorizationDetailSchema.safeParse(detail);
        if (!parsed.success || parsed.data.type !== type) throw new errors.InvalidAuthorizationDetails(`the ${type} authorization detail is not one this server issued`);
      },
    }])),
    // The code and the token carry what the PSU confirmed, as the grant recorded it.
    authorizationDetailsForGrantSource: (ctx) => ctx.oidc.grant?.rar ?? [],
    authorizationDetailsForAccessToken: (_ctx, _token, source, grantType) => {
      if (grantType !== 'authorization_code') throw new errors.InvalidAuthorizationDetails('authorization_details come only with the code of a confirmed payment');
      return (source as { rar?: AuthorizationDetail[] } | undefined)?.rar ?? [];
    },
    authorizationDetailsForIntrospection: (_ctx, token) => token.rar ?? [],
  } satisfies NonNullable<Configuration['features']>['richAuthorizationRequests'];
}

/**
 * The payment API is the one resource server with an indicator: the audience of the tokens of
 * confirmed payments. Account access tokens have none.
 */
function resourceIndicators(options: FeatureParts['options']): NonNullable<Configuration['features']>['resourceIndicators'] {
  const { resource } = options.payments;
  return {
    enabled: true,
    defaultResource: (ctx) => (pushedRequestOf(ctx) || ctx.oidc.params?.authorization_details !== undefined ? resource : undefined),
    useGrantedResource: () => true,
    getResourceServerInfo: (_ctx, indicator) => {
      if (indicator !== resource) throw new errors.InvalidTarget(`the only resource indicator is the payment API, ${resource}`);
      return { scope: 'pisp', accessTokenFormat: 'opaque', accessTokenTTL: options.tokens.accessTokenLifetime.pisp, audience: resource };
    },
  };
}

/** Mutual-TLS client authentication (RFC 8705) with the TPP identity of the request's certificate. */
function mutualTls(parts: FeatureParts): NonNullable<Configuration['features']>['mTLS'] {
  const { identities } = parts;
  return {
    enabled: true,
    tlsClientAuth: true,
    certificateBoundAccessTokens: true,
    getCertificate: (ctx) => identities.find(ctx.req)?.certificate,
    certificateAuthorized: (ctx) => {
      parts.defaultClientCredentialsScope(ctx);
      return identities.find(ctx.req) !== undefined;
    },
    certificateSubjectMatches(ctx, property, expected) {
      const identity = identities.find(ctx.req);
      const { client } = ctx.oidc;
      return property === 'tls_client_auth_subject_dn'
        && identity !== undefined
        && clientField(client, 'psd2_environment') === identity.environment
        && clientField(client, 'provider_legal_id') === identity.organizationIdentifier
        && distinguishedNameMatches(expected, identity.subject);
    },
  };
}

export function features(parts: FeatureParts): Configuration['features'] {
  return {
    devInteractions: { enabled: false },
    userinfo: { enabled: false },
    rpInitiatedLogout: { enabled: false },
    clientCredentials: { enabled: true },
    // Pushed requests are made by the bank's payment API only (POST /request answers 404).
    pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
    richAuthorizationRequests: richAuthorizationRequests(),
    resourceIndicators: resourceIndicators(parts.options),
    // Access tokens are bound to the TPP's certificate (RFC 8705), not to DPoP proofs.
    dPoP: { enabled: false },
    revocation: {
      enabled: true,
      // RFC 7009 §2.1: a client revokes only its own tokens. Revoking an access token ends only that
      // token; the refresh token and the PSU's consent stay. Revoking a refresh token ends the
      // grant and every access token issued under it (DESIGN 3.3).
      allowedPolicy: async (_ctx, client, token) => {
        if (token.clientId !== client.clientId) throw new errors.UnauthorizedClient('this token was not issued to this client');
        if (token.kind === 'AccessToken') {
          await token.destroy();
          return false;
        }
        return true;
      },
    },
    registration: { enabled: true, initialAccessToken: false, issueRegistrationAccessToken: true },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
    mTLS: mutualTls(parts),
  };
}
