/** Options → oidc-provider configuration: what oidc-provider is told, and which PSD2 rule each hook carries. */
import { errors, interactionPolicy, type Configuration, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';

import { epochSeconds } from '../clock.js';
import { OAuthError } from '../errors.js';
import type { ResolvedOptions } from '../options/index.js';
import { EXPIRED_CONSENT_RETENTION, accessTokenLifetime, scopeList } from '../psd2/tokens.js';
import { SUSPENDED_TPP } from '../psd2/authorization-request.js';
import { issuesRefreshToken } from '../psd2/token-policy.js';
import { SCOPES } from '../psd2/scopes.js';
import { SENT_METADATA_FIELD } from '../registration/answer.js';
import { LOCALIZED_METADATA } from '../registration/localized-metadata.js';
import { applyRegistrationPolicy } from '../registration/policy.js';
import type { RequestIdentities } from '../request-identity.js';
import { INTERACTION_PATH, PUSHED_REQUEST_PATH, ROUTES } from '../routes.js';
import type { Storage } from '../storage.js';
import { authorizationRequestCheck, pushedRequestOf, type PaymentLinks } from './authorization-request.js';
import { clientField, clientViewOfClient } from './client-view.js';
import { CookieSigner } from './cookie-signing.js';
import { features } from './features.js';
import { refuse } from './refusals.js';
import { asyncParameterCheck, attachClientView } from './internals.js';
import { tokenRules, type LicenceCheck } from './token-rules.js';

/** Client metadata fields this server adds to RFC 7591's (its own, and the localized display fields). */
export const EXTRA_CLIENT_METADATA = ['provider_legal_id', 'psd2_environment', ...LOCALIZED_METADATA, SENT_METADATA_FIELD] as const;

/**
 * Names of the browser cookies, this product's own: oidc-provider's `_session` and `_interaction`
 * on the bank's origin could meet the bank's own cookies of the same names.
 */
export const COOKIE_NAMES = { session: 'psd2_session', interaction: 'psd2_interaction', resume: 'psd2_resume' } as const;

const REGISTRATION_ROUTES = new Set(['registration', 'client_update']);

type SigningAlgorithm = NonNullable<NonNullable<Configuration['clientDefaults']>['id_token_signed_response_alg']>;

function signingAlgorithm(keys: readonly Record<string, unknown>[]): SigningAlgorithm {
  const key = keys.find((k) => k.use === undefined || k.use === 'sig') ?? keys[0];
  if (key?.kty === 'EC') return ({ 'P-384': 'ES384', 'P-521': 'ES512' } as Record<string, SigningAlgorithm>)[String(key.crv)] ?? 'ES256';
  if (key?.kty === 'OKP') return 'EdDSA';
  return 'RS256';
}

/** What the provider needs from the rest of the server. */
export interface ProviderParts {
  readonly identities: RequestIdentities;
  /** Whether the bank suspended a TPP organization. */
  isSuspended(organization: string): Promise<boolean>;
  /** The payment authorizations opened by the bank's payment API. */
  readonly payments: PaymentLinks;
  /** The register of TPP licences, when the bank configured one (checked at registration and token requests). */
  readonly licences?: LicenceCheck;
  /** Renders the page a PSU sees when an authorization request cannot be answered by a redirect. */
  renderErrorPage(ctx: KoaContextWithOIDC, out: ErrorOut, error: Error): Promise<void>;
}

/**
 * Every authorization needs the PSU's own authentication within it: an earlier browser session
 * never stands in for strong customer authentication.
 */
function interactionPolicyOfPsd2(): ReturnType<typeof interactionPolicy.base> {
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.push(new interactionPolicy.Check(
    'psd2_sca_required',
    'every authorization needs the PSU\'s strong customer authentication',
    'login_required',
    (ctx) => (ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT),
  ));
  return policy;
}

/** The registration policy (lib/registration/policy.ts), run once per registration or update. */
function registrationMetadata(options: ResolvedOptions, identities: RequestIdentities, licences?: LicenceCheck): Configuration['extraClientMetadata'] {
  const environments = new Map(options.environments.map((env) => [env.name, env]));
  return {
    properties: [...EXTRA_CLIENT_METADATA],
    validator(ctx, key, _value, metadata) {
      // Runs per extra property; the whole policy runs once, for registration and update only.
      if (key !== EXTRA_CLIENT_METADATA[0] || !ctx || !REGISTRATION_ROUTES.has(String(ctx.oidc?.route))) return;
      const identity = identities.require(ctx.req);
      try {
        applyRegistrationPolicy(metadata as Record<string, unknown>, {
          identity,
          requested: (ctx.oidc.body ?? {}) as Record<string, unknown>,
          allowLoopbackRedirectUris: environments.get(identity.environment)?.allowLoopbackRedirectUris ?? false,
        });
        const licence = licences?.check(identity, scopeList(metadata.scope as string | undefined), 'registration');
        if (licence?.outcome === 'refused') throw new errors.InvalidClientMetadata(licence.description);
      } catch (error) {
        // oidc-provider reports descriptions starting with "redirect_uris" as invalid_redirect_uri.
        if (error instanceof OAuthError) throw new errors.InvalidClientMetadata(error.error_description);
        throw error;
      }
    },
  };
}

/** Builds the oidc-provider configuration from validated options. */
export function providerConfiguration(options: ResolvedOptions, storage: Storage, parts: ProviderParts): Configuration {
  const { mountPath, tokens } = options;
  const rules = tokenRules({ options, identities: parts.identities, licences: parts.licences });
  return {
    adapter: (name: string) => storage.adapterFor(name),
    jwks: options.signingKeys as Configuration['jwks'],
    // The session cookie lives under the mount path only. oidc-provider scopes the short-lived
    // ones itself, more narrowly: the interaction cookie to its page (`{mount}/interaction/{uid}`),
    // the resume cookie to its return URL (`{mount}/authorize/{uid}`); a path here would widen the
    // interaction cookie's to it.
    cookies: {
      keys: new CookieSigner(options.cookieKeys),
      names: { ...COOKIE_NAMES },
      long: { signed: true, secure: true, sameSite: 'lax', path: mountPath || '/' },
      short: { signed: true, secure: true, sameSite: 'lax' },
    },
    // No browser client exists for any endpoint: TPPs call from their servers, PSUs navigate.
    clientBasedCORS: () => false,
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
    extraClientMetadata: registrationMetadata(options, parts.identities, parts.licences),
    routes: { ...ROUTES, pushed_authorization_request: PUSHED_REQUEST_PATH },
    // Validators of extraParams run on every authorization request; this one carries the PSD2
    // request rules (the scope parameter itself is standard and unchanged).
    extraParams: { scope: asyncParameterCheck(authorizationRequestCheck({ options, isSuspended: parts.isSuspended, payments: parts.payments, licences: parts.licences })) },
    renderError: (ctx, out, error) => parts.renderErrorPage(ctx, out, error),
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    // Never reuse an earlier consent: only the grant made within this very authorization counts.
    // Runs again when the PSU comes back from the pages: a TPP suspended meanwhile gets no code.
    loadExistingGrant: async (ctx) => {
      const organization = clientField(ctx.oidc.client, 'provider_legal_id');
      if (typeof organization === 'string' && await parts.isSuspended(organization)) {
        refuse(SUSPENDED_TPP);
      }
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    ttl: {
      // Called as oidc-provider creates an interaction, its client at hand: the pages read the
      // client from the interaction instead of from the storage at each step.
      Interaction: (ctx, interaction) => {
        const client = ctx?.oidc?.client;
        if (client) attachClientView(interaction, clientViewOfClient(client));
        return options.pages.interactionLifetime;
      },
      Session: options.pages.interactionLifetime,
      // Grants and refresh tokens are kept a while after the consent ends, so that a late refresh
      // is told that it expired; the consent's end itself is enforced at each refresh.
      Grant: Math.max(tokens.consentLifetime.sandbox, tokens.consentLifetime.bank) + EXPIRED_CONSENT_RETENTION,
      RefreshToken: (ctx) => Math.max(1, rules.endOfConsent(ctx?.oidc?.entities?.Grant, ctx?.oidc?.client) + EXPIRED_CONSENT_RETENTION - epochSeconds(options.now)),
      AccessToken: (_ctx, token) => accessTokenLifetime(scopeList(token.scope), tokens.accessTokenLifetime),
      ClientCredentials: tokens.accessTokenLifetime.pisp,
    },
    rotateRefreshToken: (ctx) => rules.rotateRefreshToken(ctx),
    // The PSU pages live under the mount path, where the interaction cookie is scoped.
    interactions: { url: (_ctx, interaction) => `${mountPath}${INTERACTION_PATH}/${interaction.uid}`, policy: interactionPolicyOfPsd2() },
    features: features({ options, identities: parts.identities, defaultClientCredentialsScope: rules.defaultClientCredentialsScope }),
    extraTokenClaims: async (ctx, token) => {
      rules.checkToken(ctx, token);
      return undefined;
    },
    // A payment authorization is made server to server: PKCE only when the PISP gave a challenge.
    pkce: { required: (ctx) => !pushedRequestOf(ctx) },
    issueRefreshToken: async (_ctx, client, source) => issuesRefreshToken(client.grantTypeAllowed('refresh_token'), source.scopes ?? []),
    expiresWithSession: () => false,
  };
}
