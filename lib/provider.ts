import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

import Provider, { errors, interactionPolicy, type AuthorizationDetail, type Configuration, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';

import type { Storage } from './storage.js';
import { distinguishedNameMatches } from './certificates/distinguished-name.js';
import type { EnvironmentName } from './certificates/identity.js';
import { NotFoundError, OAuthError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { AUTHORIZATION_PARAMETER_LIMITS, oversizedParameter, stateTooLong } from './parameter-limits.js';
import { authorizationDetailSchema, PAYMENT_TYPES } from './payments/details.js';
import type { PaymentAuthorizations, PaymentRecord } from './payments/service.js';
import { authorizationScopeSet, type ConsentRecord } from './psd2/authorization.js';
import {
  EXPIRED_CONSENT_RETENTION,
  REFRESH_TOKEN_EXPIRED,
  accessTokenLifetime,
  consentEnd,
  missingRoles,
  scopeList,
  unrenewableScopes,
} from './psd2/tokens.js';
import { GRANTS_FOR_SCOPE, SCOPES } from './psd2/scopes.js';
import { SENT_METADATA_FIELD } from './registration/answer.js';
import { LOCALIZED_METADATA } from './registration/localized-metadata.js';
import { applyRegistrationPolicy } from './registration/policy.js';
import type { RequestIdentities } from './request-identity.js';
import { INTERACTION_PATH, PUSHED_REQUEST_PATH, ROUTES } from './routes.js';
import { tagTokenIdsWithGrant } from './token-ids.js';

export { ROUTES, INTERACTION_PATH } from './routes.js';

/** Client metadata fields this server adds to RFC 7591's (its own, and the localized display fields). */
export const EXTRA_CLIENT_METADATA = ['provider_legal_id', 'psd2_environment', ...LOCALIZED_METADATA, SENT_METADATA_FIELD] as const;

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

/** How an authorization request reached the server when it came through an entry page alias. */
export interface EntryPage {
  readonly environment: EnvironmentName;
  /** The `{lang}` segment of the entry URL, when its path has one. */
  readonly language: string | undefined;
}

/** What the provider needs from the rest of the server. */
export interface ProviderHooks {
  readonly identities: RequestIdentities;
  /** The entry page alias a request came through, if any. */
  entryOf(req: IncomingMessage): EntryPage | undefined;
  /** Whether the bank suspended a TPP organization. */
  isSuspended(organization: string): Promise<boolean>;
  /** Renders the page a PSU sees when an authorization request cannot be answered by a redirect. */
  renderErrorPage(ctx: KoaContextWithOIDC, out: ErrorOut, error: Error): Promise<void>;
  /** The payment authorizations opened by the bank's payment API. */
  payments(): PaymentAuthorizations;
}

/** The pushed authorization request a payment authorization is, when the request is one. */
function pushedRequestOf(ctx: KoaContextWithOIDC): { jti: string } | undefined {
  return ctx.oidc.entities.PushedAuthorizationRequest as { jti: string } | undefined;
}

/**
 * One of this server's metadata fields of an oidc-provider client, read from the client itself:
 * Client.metadata() renames every key of the client, too much for each request.
 */
export function clientField(client: object | undefined, field: 'provider_legal_id' | 'psd2_environment'): unknown {
  // Extra metadata keeps its name on the client (oidc-provider camel-cases only its own fields).
  return (client as Record<string, unknown> | undefined)?.[field];
}

/** Field of the grant where {@link ConsentRecord} is kept. */
export const CONSENT_FIELD = 'psd2';

/** Interaction field holding what the PSU pages show and check of the client ({@link ClientView}). */
export const CLIENT_VIEW_FIELD = 'psd2Client';

/** The client metadata the PSU pages use, kept with each interaction. */
export interface ClientView {
  readonly metadata: Readonly<Record<string, unknown>>;
}

const VIEW_FIELDS = /^(client_name|logo_uri)(#.+)?$|^(client_id|psd2_environment|provider_legal_id|grant_types)$/;

export function clientView(metadata: Record<string, unknown>): ClientView {
  return { metadata: Object.fromEntries(Object.entries(metadata).filter(([name]) => VIEW_FIELDS.test(name))) };
}

/**
 * Names of the browser cookies, this product's own: oidc-provider's `_session` and `_interaction`
 * on the bank's origin could meet the bank's own cookies of the same names.
 */
export const COOKIE_NAMES = { session: 'psd2_session', interaction: 'psd2_interaction', resume: 'psd2_resume' } as const;

/**
 * Takes an over-long `state` out of an authorization request before oidc-provider reads it, so
 * that no answer carries it back: returned in the redirect, a state of up to Node's 16 KB header
 * limit would make a Location header that proxies and the TPP's own server may refuse. Whether
 * the request had one is remembered, and it is refused with `invalid_request`.
 */
function withoutOversizedState(ctx: KoaContextWithOIDC): boolean {
  const query = new URLSearchParams(ctx.querystring);
  if (!query.getAll('state').some(stateTooLong)) return false;
  query.delete('state');
  ctx.querystring = query.toString();
  return true;
}

/** An S256 PKCE challenge: the base64url SHA-256 of the verifier, without padding (RFC 7636 §4.2). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * A verifier ending in base64 padding, otherwise of RFC 7636 §4.1 characters, 43 to 128 in all:
 * what a client encoding 32 random bytes with a padding base64url encoder (Java's
 * `Base64.getUrlEncoder()`) sends.
 */
const PADDED_VERIFIER = /^(?=.{43,128}$)[\w.~-]+={1,2}$/;

const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

/**
 * Removes the one `=` of padded base64url from an S256 `code_challenge` before oidc-provider reads
 * it (it allows no `=`): deployed clients pad theirs. Only a challenge that is then a valid S256
 * one is changed; everything else reaches oidc-provider as sent.
 */
function withoutChallengePadding(ctx: KoaContextWithOIDC): void {
  const query = new URLSearchParams(ctx.querystring);
  const challenges = query.getAll('code_challenge');
  const methods = query.getAll('code_challenge_method');
  if (challenges.length !== 1 || methods.length !== 1 || methods[0] !== 'S256' || !challenges[0]!.endsWith('=')) return;
  const challenge = challenges[0]!.slice(0, -1);
  if (!S256_CHALLENGE.test(challenge)) return;
  query.set('code_challenge', challenge);
  ctx.querystring = query.toString();
}

/**
 * A verifier with base64 padding is hashed exactly as sent and compared with the code's challenge
 * here: oidc-provider refuses its `=` before comparing. When it matches, the code's challenge is
 * replaced, in this request only (the stored code is not changed), by the challenge of a fresh
 * random verifier, which oidc-provider is then given to check as it checks any verifier; when it
 * does not match, that fresh verifier fails the check like any wrong verifier (`invalid_grant`).
 */
function acceptPaddedVerifiers(provider: Provider): void {
  type Code = { codeChallenge?: unknown; codeChallengeMethod?: unknown };
  const model = provider.AuthorizationCode as unknown as { find(...args: unknown[]): Promise<Code | undefined> };
  const find = model.find.bind(model);
  model.find = async (...args: unknown[]) => {
    const code = await find(...args);
    const ctx = (Provider as unknown as { ctx?: KoaContextWithOIDC }).ctx;
    const params = ctx?.oidc.route === 'token' ? ctx.oidc.params as Record<string, unknown> | undefined : undefined;
    const verifier = params?.code_verifier;
    if (!code || !params || params.grant_type !== 'authorization_code' || typeof verifier !== 'string' || !PADDED_VERIFIER.test(verifier)) return code;
    const standIn = randomBytes(32).toString('base64url');
    params.code_verifier = standIn;
    const challenge = code.codeChallenge;
    if (code.codeChallengeMethod === 'S256' && typeof challenge === 'string' && challenge.length === 43
      && timingSafeEqual(Buffer.from(s256(verifier)), Buffer.from(challenge))) {
      code.codeChallenge = s256(standIn);
    }
    return code;
  };
}

/**
 * The PKCE challenge a PISP appended to the payment authorization URL, when the bank's payment API
 * set none: S256 only (padding removed as for any challenge); a challenge of another method, or a
 * method without a challenge, is ignored, as every other appended parameter is.
 */
function appendedChallenge(ctx: KoaContextWithOIDC): { code_challenge: string; code_challenge_method: 'S256' } | undefined {
  const query = new URLSearchParams(ctx.querystring);
  const methods = query.getAll('code_challenge_method');
  const challenges = query.getAll('code_challenge');
  if (methods.length !== 1 || methods[0] !== 'S256' || !challenges.length) return undefined;
  if (challenges.length !== 1 || !S256_CHALLENGE.test(challenges[0]!)) {
    throw new errors.InvalidRequest('code_challenge appended to a payment authorization URL must be one S256 challenge: 43 base64url characters, padded or not');
  }
  return { code_challenge: challenges[0]!, code_challenge_method: 'S256' };
}

/** Builds the oidc-provider configuration from validated options. */
export function createProvider(options: ResolvedOptions, storage: Storage, hooks: ProviderHooks): Provider {
  const { identities } = hooks;
  const environments = new Map(options.environments.map((env) => [env.name, env]));
  const requestOf = (ctx: KoaContextWithOIDC): IncomingMessage => ctx.req;
  const { mountPath, tokens } = options;
  const epochNow = (): number => Math.floor(options.now().getTime() / 1000);
  const consentOf = (grant: unknown): ConsentRecord | undefined => (grant as Record<string, ConsentRecord | undefined> | undefined)?.[CONSENT_FIELD];
  /**
   * End of the consent a grant records, by its environment's consent lifetime; grants without a
   * record end that of their client's environment after they began.
   */
  const endOfConsent = (grant: { iat?: number } | undefined, client?: object): number => {
    const consent = consentOf(grant);
    const environment = consent?.environment ?? clientField(client, 'psd2_environment') as EnvironmentName | undefined;
    return consentEnd({ scaTime: consent?.scaTime ?? grant?.iat ?? epochNow(), environment }, tokens.consentLifetime);
  };

  /** Roles are those of the certificate presented now: a renewed one may have lost some (DESIGN 3.2). */
  const refuseMissingRoles = (ctx: KoaContextWithOIDC, scopes: readonly string[]): void => {
    const missing = missingRoles(scopes, identities.find(requestOf(ctx))?.roles ?? []);
    if (missing.length) {
      throw new errors.CustomOIDCProviderError('unauthorized_client', `the client certificate no longer holds ${missing.map((m) => `the ${m.role} role needed for ${m.scopes.join(' ')}`).join(', nor ')}`);
    }
  };

  // Every authorization needs the PSU's own authentication within it: an earlier browser session
  // never stands in for strong customer authentication.
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.push(new interactionPolicy.Check(
    'psd2_sca_required',
    'every authorization needs the PSU\'s strong customer authentication',
    'login_required',
    (ctx) => (ctx.oidc.result?.login ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT),
  ));

  /**
   * RFC 6749 §3.3 default: a client_credentials request without `scope` asks for `pisp`, the one
   * scope of that grant. Set as the client authenticates, before oidc-provider reads the scope.
   */
  const defaultClientCredentialsScope = (ctx: KoaContextWithOIDC): void => {
    const params = ctx.oidc.params;
    if (ctx.oidc.route === 'token' && params?.grant_type === 'client_credentials' && !params.scope) params.scope = 'pisp';
  };

  /** Authorization requests whose over-long `state` was taken out (see {@link withoutOversizedState}). */
  const oversizedStates = new WeakSet<KoaContextWithOIDC>();

  /**
   * PSD2 rules of an authorization request, checked after the client and redirect URI are known to
   * be valid, so that oidc-provider sends every failure back to the TPP with `state`.
   */
  const checkAuthorizationRequest = async (ctx: KoaContextWithOIDC, scope: string | undefined, client?: { clientId: string; metadata(): Record<string, unknown> }): Promise<void> => {
    if (oversizedStates.has(ctx)) {
      throw new errors.InvalidRequest(`state must be at most ${AUTHORIZATION_PARAMETER_LIMITS.state} characters; an over-long state is not returned`);
    }
    const oversized = oversizedParameter(ctx.oidc.params ?? {});
    if (oversized) throw new errors.InvalidRequest(`${oversized.name} must be at most ${oversized.limit} characters`);
    const pushed = pushedRequestOf(ctx);
    // oidc-provider has checked by now that a pushed request is this client's: its state comes back.
    const payment = pushed ? await hooks.payments().record(pushed.jti) : undefined;
    if (payment?.state !== undefined && payment.clientId === client?.clientId) ctx.oidc.params!.state = payment.state;
    const environment = client?.metadata().psd2_environment as EnvironmentName | undefined;
    if (!environment || !environments.has(environment)) {
      throw new errors.InvalidRequest(`this client is registered in the ${environment ?? 'unknown'} environment, which this server does not serve`);
    }
    const organization = client?.metadata().provider_legal_id;
    if (typeof organization === 'string' && await hooks.isSuspended(organization)) {
      throw new errors.UnauthorizedClient('the bank has suspended this TPP');
    }
    const entry = hooks.entryOf(requestOf(ctx));
    if (entry && entry.environment !== environment) {
      const page = environment === 'sandbox' ? options.sandbox?.entryPath : options.bank?.entryPath;
      throw new errors.InvalidRequest(`this client is registered in the ${environment ?? 'unknown'} environment and cannot use the ${entry.environment} sign-in page${page ? `; send the PSU to ${mountPath}${page}` : ''}`);
    }
    if (entry?.language) {
      ctx.oidc.params!.ui_locales = [entry.language, ctx.oidc.params!.ui_locales].filter(Boolean).join(' ');
    }
    if (pushed || ctx.oidc.params?.authorization_details !== undefined) {
      await checkPaymentRequest(ctx, pushed, payment, client);
      return;
    }
    // The payment API is the one resource indicator, and the server sets it itself in payment
    // authorizations: account access tokens never carry an audience (RFC 8707 §2: invalid_target).
    if (ctx.oidc.params?.resource !== undefined) {
      throw new errors.InvalidTarget('resource (RFC 8707) is accepted only in payment authorizations opened by the bank\'s payment API; account access has no resource indicator');
    }
    const result = authorizationScopeSet(scope);
    if ('problem' in result) throw new errors.InvalidScope(result.problem, scope ?? '');
  };

  /**
   * A payment authorization arrives as a request_uri that the bank's payment API obtained; a TPP
   * cannot push requests of its own, nor send authorization_details or pisp directly.
   */
  const checkPaymentRequest = async (ctx: KoaContextWithOIDC, pushed: { jti: string } | undefined, record: PaymentRecord | undefined, client?: { clientId: string; metadata(): Record<string, unknown> }): Promise<void> => {
    if (!pushed) {
      throw new errors.InvalidRequest('authorization_details are accepted only in payment authorizations opened by the bank\'s payment API (request_uri)');
    }
    const payments = hooks.payments();
    if (!record || record.clientId !== client?.clientId) throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
    if (payments.isExpired(record) || record.outcome) {
      if (!record.outcome) await payments.decide(pushed.jti, record, 'expired');
      throw new errors.InvalidRequestUri('this payment authorization has expired or was already decided');
    }
    if (!await payments.firstVisit(pushed.jti)) {
      throw new errors.InvalidRequestUri('this payment authorization link was already used; the payment service provider must start again');
    }
    // Read after oidc-provider's own PKCE checks: the code is made from these parameters.
    const appended = ctx.oidc.params!.code_challenge === undefined ? appendedChallenge(ctx) : undefined;
    if (appended) Object.assign(ctx.oidc.params!, appended);
  };

  const configuration: Configuration = {
    adapter: (name: string) => storage.adapterFor(name),
    jwks: options.signingKeys as Configuration['jwks'],
    // The session cookie lives under the mount path only. oidc-provider scopes the short-lived
    // ones itself, more narrowly: the interaction cookie to its page (`{mount}/interaction/{uid}`),
    // the resume cookie to its return URL (`{mount}/authorize/{uid}`); a path here would widen the
    // interaction cookie's to it.
    cookies: {
      keys: options.cookieKeys,
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
    routes: { ...ROUTES, pushed_authorization_request: PUSHED_REQUEST_PATH },
    // Validators of extraParams run on every authorization request; this one carries the PSD2
    // request rules (the scope parameter itself is standard and unchanged).
    extraParams: { scope: checkAuthorizationRequest as unknown as (ctx: KoaContextWithOIDC, value: string | undefined) => Promise<void> },
    renderError: (ctx, out, error) => hooks.renderErrorPage(ctx, out, error),
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    // Never reuse an earlier consent: only the grant made within this very authorization counts.
    // Runs again when the PSU comes back from the pages: a TPP suspended meanwhile gets no code.
    loadExistingGrant: async (ctx) => {
      const organization = clientField(ctx.oidc.client, 'provider_legal_id');
      if (typeof organization === 'string' && await hooks.isSuspended(organization)) {
        throw new errors.UnauthorizedClient('the bank has suspended this TPP');
      }
      const grantId = ctx.oidc.result?.consent?.grantId;
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    ttl: {
      // Called as oidc-provider creates an interaction, its client at hand: the pages read the
      // client from the interaction instead of from the storage at each step.
      Interaction: (ctx, interaction) => {
        const client = ctx?.oidc?.client;
        if (client) (interaction as unknown as Record<string, unknown>)[CLIENT_VIEW_FIELD] = clientView(client.metadata() as Record<string, unknown>);
        return options.pages.interactionLifetime;
      },
      Session: options.pages.interactionLifetime,
      // Grants and refresh tokens are kept a while after the consent ends, so that a late refresh
      // is told that it expired; the consent's end itself is enforced at each refresh.
      Grant: Math.max(tokens.consentLifetime.sandbox, tokens.consentLifetime.bank) + EXPIRED_CONSENT_RETENTION,
      RefreshToken: (ctx) => Math.max(1, endOfConsent(ctx?.oidc?.entities?.Grant, ctx?.oidc?.client) + EXPIRED_CONSENT_RETENTION - Math.floor(Date.now() / 1000)),
      AccessToken: (_ctx, token) => accessTokenLifetime(scopeList(token.scope), tokens.accessTokenLifetime),
      ClientCredentials: tokens.accessTokenLifetime.pisp,
    },
    // Runs at each refresh once oidc-provider has checked the token, its client and its binding,
    // before anything is consumed or issued: every refusal here leaves the refresh token as it was.
    rotateRefreshToken: (ctx) => {
      if (endOfConsent(ctx.oidc.entities.Grant, ctx.oidc.client) <= epochNow()) {
        throw new errors.CustomOIDCProviderError('invalid_grant', REFRESH_TOKEN_EXPIRED);
      }
      const requested = scopeList(ctx.oidc.params?.scope);
      const unrenewable = unrenewableScopes(requested);
      if (unrenewable.length) {
        throw new errors.InvalidScope(`${unrenewable.join(' ')} cannot be renewed by a refresh: it needs the PSU's strong customer authentication again (authorization code)`, unrenewable.join(' '));
      }
      // Without a scope parameter a refresh gives what can be renewed: the history older than
      // 90 days was given once, with the code (DESIGN 3.3).
      const scopes = requested.length ? requested : scopeList(ctx.oidc.entities.RefreshToken?.scope).filter((scope) => !unrenewableScopes([scope]).length);
      if (!requested.length) ctx.oidc.params!.scope = scopes.join(' ');
      refuseMissingRoles(ctx, scopes);
      return tokens.rotateRefreshTokens;
    },
    // The PSU pages live under the mount path, where the interaction cookie is scoped.
    interactions: { url: (_ctx, interaction) => `${mountPath}${INTERACTION_PATH}/${interaction.uid}`, policy },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      clientCredentials: { enabled: true },
      // Pushed requests are made by the bank's payment API only (POST /request answers 404).
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      // Payment initiation and cancellation (RFC 9396), checked again whenever they are read.
      richAuthorizationRequests: {
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
      },
      // The payment API is the one resource server with an indicator: the audience of the tokens
      // of confirmed payments. Account access tokens have none.
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx) => (pushedRequestOf(ctx) || ctx.oidc.params?.authorization_details !== undefined ? options.payments.resource : undefined),
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== options.payments.resource) throw new errors.InvalidTarget(`the only resource indicator is the payment API, ${options.payments.resource}`);
          return { scope: 'pisp', accessTokenFormat: 'opaque', accessTokenTTL: tokens.accessTokenLifetime.pisp, audience: options.payments.resource };
        },
      },
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
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        certificateBoundAccessTokens: true,
        getCertificate: (ctx) => identities.find(requestOf(ctx))?.certificate,
        certificateAuthorized: (ctx) => {
          defaultClientCredentialsScope(ctx);
          return identities.find(requestOf(ctx)) !== undefined;
        },
        certificateSubjectMatches(ctx, property, expected) {
          const identity = identities.find(requestOf(ctx));
          const { client } = ctx.oidc;
          return property === 'tls_client_auth_subject_dn'
            && identity !== undefined
            && clientField(client, 'psd2_environment') === identity.environment
            && clientField(client, 'provider_legal_id') === identity.organizationIdentifier
            && distinguishedNameMatches(expected, identity.subject);
        },
      },
    },
    // Payment initiators use client_credentials for pisp only; account access always needs a PSU's
    // consent through the authorization code flow (DESIGN 3.2). Runs before the token is stored.
    extraTokenClaims: async (ctx, token) => {
      const scopes = scopeList(token.scope);
      if (ctx) refuseMissingRoles(ctx, scopes);
      if (token.kind !== 'ClientCredentials') return undefined;
      const refused = scopes.filter((scope) => !CLIENT_CREDENTIALS_SCOPES.has(scope));
      if (refused.length) {
        throw new errors.InvalidScope(`the client_credentials grant gives only the pisp scope; ${refused.join(' ')} needs the PSU's consent (authorization code)`, refused.join(' '));
      }
      if (!scopes.length) throw new errors.InvalidScope('the client_credentials grant needs scope=pisp', '');
      return undefined;
    },
    // A payment authorization is made server to server: PKCE only when the PISP gave a challenge.
    pkce: { required: (ctx) => !pushedRequestOf(ctx) },
    // A refresh token only for account access (aisp, cbpii), never for payment initiation (DESIGN 3.2).
    issueRefreshToken: async (_ctx, client, source) => client.grantTypeAllowed('refresh_token')
      && [...(source.scopes ?? [])].some((scope) => REFRESHABLE_SCOPES.has(scope)),
    expiresWithSession: () => false,
  };

  const provider = new Provider(options.issuer, configuration);
  provider.proxy = options.trustProxy;
  // First of the server's Koa middleware: no CORS on any endpoint (oidc-provider answers
  // preflight requests and adds Access-Control-Allow-Origin for any origin to its token,
  // revocation, discovery and key set answers), and the over-long state taken out.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'OPTIONS') {
      ctx.status = 404;
      ctx.body = new NotFoundError(`there is no endpoint at ${ctx.method} ${mountPath}${ctx.path}`).toJSON();
      return;
    }
    if (ctx.path === ROUTES.authorization && withoutOversizedState(ctx as KoaContextWithOIDC)) oversizedStates.add(ctx as KoaContextWithOIDC);
    if (ctx.path === ROUTES.authorization) withoutChallengePadding(ctx as KoaContextWithOIDC);
    try {
      await next();
    } finally {
      for (const header of Object.keys(ctx.response.headers)) {
        if (header.toLowerCase().startsWith('access-control-')) ctx.remove(header);
      }
    }
  });
  tagTokenIdsWithGrant(provider);
  acceptPaddedVerifiers(provider);
  // The grant keeps the PSD2 consent (accounts, time of SCA) with the PSU and the scope it already
  // holds, so it lives and dies with the grant. oidc-provider saves only the fields it lists.
  const grantFields = (provider.Grant as unknown as { IN_PAYLOAD: string[] }).IN_PAYLOAD;
  Object.defineProperty(provider.Grant, 'IN_PAYLOAD', { configurable: true, get: () => [...grantFields, CONSENT_FIELD] });
  const interactionFields = (provider.Interaction as unknown as { IN_PAYLOAD: string[] }).IN_PAYLOAD;
  Object.defineProperty(provider.Interaction, 'IN_PAYLOAD', { configurable: true, get: () => [...interactionFields, CLIENT_VIEW_FIELD] });
  return provider;
}
