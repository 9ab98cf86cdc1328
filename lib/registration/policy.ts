import { distinguishedNameMatches } from '../certificates/distinguished-name.js';
import type { TppIdentity } from '../certificates/identity.js';
import { InvalidClientMetadataError, InvalidRedirectUriError } from '../errors.js';
import { PAYMENT_TYPES } from '../payments/details.js';
import { textProblem } from '../text.js';
import { SENT_METADATA_FIELD, sentMetadata } from './answer.js';
import { registerKeys } from './keys.js';
import { isLocalHost, isLoopbackHost } from './local-hosts.js';
import { LOCALIZABLE_FIELDS } from './localized-metadata.js';
import {
  GRANT_TYPES,
  ROLE_FOR_SCOPE,
  SCOPES,
  defaultGrantTypesForScopes,
  grantTypesForScopes,
  isGrantType,
  isScope,
  rolesForGrantType,
  scopesForRoles,
  type Scope,
} from '../psd2/scopes.js';

/** Client metadata fields the server derives from the TPP certificate. */
export const CERTIFICATE_DERIVED_FIELDS = [
  'token_endpoint_auth_method',
  'tls_client_auth_subject_dn',
  'tls_client_certificate_bound_access_tokens',
  'provider_legal_id',
  'psd2_environment',
] as const;

const OTHER_SUBJECT_FIELDS = [
  'tls_client_auth_san_dns',
  'tls_client_auth_san_uri',
  'tls_client_auth_san_ip',
  'tls_client_auth_san_email',
] as const;

/**
 * OpenID Connect metadata a pure OAuth 2 server has no use for. oidc-provider fetches
 * `sector_identifier_uri` while registering, which would let a TPP make the server request any URL.
 */
const UNSUPPORTED_FIELDS = ['sector_identifier_uri'] as const;

/**
 * URLs RFC 7591 defines that this server never shows nor fetches: kept, each would be a URL the
 * server might be made to request later (a `jwks_uri` above all). Keys come inline in `jwks`.
 */
const REFUSED_URL_FIELDS: Readonly<Record<string, string>> = {
  jwks_uri: 'jwks_uri is not supported: send the public keys inline in jwks (e.g. the QSealC in x5c)',
  policy_uri: 'policy_uri is not supported: this server neither shows nor fetches it; omit it',
  tos_uri: 'tos_uri is not supported: this server neither shows nor fetches it; omit it',
  initiate_login_uri: 'initiate_login_uri is not supported: this server neither shows nor fetches it; omit it',
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A DNS name (punycode) or an IP literal: nothing that could carry other syntax into headers. */
const PLAIN_HOST = /^(?:[a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/i;

export interface RegistrationPolicyContext {
  /** The TPP behind the certificate of this request. */
  readonly identity: TppIdentity;
  /** The metadata as the TPP sent it, before any default was applied. */
  readonly requested: Readonly<Record<string, unknown>>;
  /** Whether http redirect URIs on loopback hosts are accepted in this environment. */
  readonly allowLoopbackRedirectUris: boolean;
}

function sentDifferent(requested: Readonly<Record<string, unknown>>, field: string, expected: unknown): boolean {
  return requested[field] !== undefined && requested[field] !== expected;
}

function checkDerivedFields({ identity, requested }: RegistrationPolicyContext): void {
  const expected: Record<string, unknown> = {
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_certificate_bound_access_tokens: true,
    provider_legal_id: identity.organizationIdentifier,
    psd2_environment: identity.environment,
  };
  for (const [field, value] of Object.entries(expected)) {
    if (sentDifferent(requested, field, value)) {
      throw new InvalidClientMetadataError(
        `${field} is derived from the client certificate and must be ${JSON.stringify(value)} (or omitted)`,
      );
    }
  }
  const dn = requested.tls_client_auth_subject_dn;
  if (dn !== undefined && (typeof dn !== 'string' || !distinguishedNameMatches(dn, identity.subject))) {
    throw new InvalidClientMetadataError(
      `tls_client_auth_subject_dn is derived from the client certificate and must be ${JSON.stringify(identity.subjectDn)} (or omitted)`,
    );
  }
  const other = OTHER_SUBJECT_FIELDS.find((field) => requested[field] !== undefined);
  if (other) {
    throw new InvalidClientMetadataError(`${other} is not supported: clients are identified by tls_client_auth_subject_dn`);
  }
  const unsupported = UNSUPPORTED_FIELDS.find((field) => requested[field] !== undefined);
  if (unsupported) throw new InvalidClientMetadataError(`${unsupported} is not supported`);
  const refused = Object.keys(REFUSED_URL_FIELDS).find((field) => requested[field] !== undefined);
  if (refused) throw new InvalidClientMetadataError(REFUSED_URL_FIELDS[refused]!);
}

function requestedScopes({ identity, requested }: RegistrationPolicyContext): Scope[] {
  const allowed = scopesForRoles(identity.roles);
  if (requested.scope === undefined) {
    if (!allowed.length) {
      throw new InvalidClientMetadataError(
        `the certificate's PSD2 roles (${identity.roles.join(', ')}) give access to no scope; scopes need PSP_AI, PSP_IC or PSP_PI`,
      );
    }
    return allowed;
  }
  if (typeof requested.scope !== 'string' || !requested.scope.trim()) {
    throw new InvalidClientMetadataError('scope must be a space-separated string of scope values');
  }
  const scopes = [...new Set(requested.scope.trim().split(/\s+/))];
  const unknown = scopes.find((scope) => !isScope(scope));
  if (unknown) {
    throw new InvalidClientMetadataError(`scope "${unknown}" is not supported; supported scopes are ${SCOPES.join(', ')}`);
  }
  const valid = scopes.filter(isScope);
  if (valid.includes('extended_transaction_history') && !valid.includes('aisp')) {
    throw new InvalidClientMetadataError('scope extended_transaction_history can only be registered together with aisp');
  }
  for (const scope of valid) {
    const role = ROLE_FOR_SCOPE[scope];
    if (!identity.roles.includes(role)) {
      throw new InvalidClientMetadataError(
        `scope ${scope} requires the PSD2 role ${role}, which the client certificate does not hold (it holds ${identity.roles.join(', ')})`,
      );
    }
  }
  return SCOPES.filter((scope) => valid.includes(scope));
}

function stringArray(requested: Readonly<Record<string, unknown>>, field: string): string[] | undefined {
  const value = requested[field];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidClientMetadataError(`${field} must be an array of strings`);
  }
  return value;
}

function checkGrants(context: RegistrationPolicyContext, scopes: readonly Scope[]): { grantTypes: string[]; responseTypes: string[] } {
  const allowed = grantTypesForScopes(scopes);
  const grantTypes = stringArray(context.requested, 'grant_types') ?? defaultGrantTypesForScopes(scopes);
  for (const grant of grantTypes) {
    if (!isGrantType(grant)) {
      throw new InvalidClientMetadataError(`grant type ${grant} is not supported; supported grant types are ${GRANT_TYPES.join(', ')}`);
    }
    if (!allowed.includes(grant)) {
      const roles = rolesForGrantType(grant);
      // A role is missing only when the certificate holds none of the roles the grant type needs;
      // otherwise the grant type does not fit the scope asked for.
      const held = roles.some((role) => context.identity.roles.includes(role));
      throw new InvalidClientMetadataError(
        !held
          ? `grant type ${grant} requires the PSD2 role ${roles.join(' or ')}, which the client certificate does not hold`
          : `grant type ${grant} does not fit the registered scope ${scopes.join(' ')}`,
      );
    }
  }
  if (!grantTypes.includes('authorization_code') && !grantTypes.includes('client_credentials')) {
    throw new InvalidClientMetadataError(
      grantTypes.includes('refresh_token')
        ? 'grant type refresh_token needs authorization_code: refresh tokens are only issued with an authorization code'
        : 'grant_types must hold authorization_code or client_credentials, or the client could never obtain a token',
    );
  }
  const code = grantTypes.includes('authorization_code');
  const responseTypes = stringArray(context.requested, 'response_types') ?? (code ? ['code'] : []);
  const other = responseTypes.find((type) => type !== 'code');
  if (other) throw new InvalidClientMetadataError(`response type ${other} is not supported; only code is`);
  if (responseTypes.length && !code) {
    throw new InvalidClientMetadataError('response type code requires the authorization_code grant type');
  }
  if (code && !responseTypes.length) {
    throw new InvalidClientMetadataError('the authorization_code grant type requires the code response type');
  }
  return { grantTypes: [...new Set(grantTypes)], responseTypes: [...new Set(responseTypes)] };
}

function checkRedirectUris(context: RegistrationPolicyContext): void {
  const uris = stringArray(context.requested, 'redirect_uris');
  for (const uri of uris ?? []) {
    // new URL() trims whitespace; the stored string must be exactly the URL that is matched later.
    if (uri !== uri.trim() || /\s/.test(uri)) {
      throw new InvalidRedirectUriError(`redirect_uris must not contain whitespace (${JSON.stringify(uri)})`);
    }
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new InvalidRedirectUriError(`redirect_uris must hold absolute URLs; "${uri}" is not one`);
    }
    if (url.hash || uri.includes('#')) throw new InvalidRedirectUriError(`redirect_uris must not have a fragment ("${uri}")`);
    if (url.username || url.password) throw new InvalidRedirectUriError(`redirect_uris must not hold credentials ("${uri}")`);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidRedirectUriError(`redirect_uris must use https ("${uri}")`);
    if (!PLAIN_HOST.test(url.hostname)) throw new InvalidRedirectUriError(`redirect_uris must have a host name or IP address as host ("${uri}")`);
    if (url.protocol === 'https:') {
      // A bank TPP's PSUs go back to the TPP over the internet, never into their own machine or
      // network; the sandbox keeps such URIs for TPP development.
      if (context.identity.environment === 'bank' && isLocalHost(url.hostname) && !(context.allowLoopbackRedirectUris && isLoopbackHost(url.hostname))) {
        throw new InvalidRedirectUriError(`redirect_uris must not point to a loopback, private or link-local address in the bank environment ("${uri}")`);
      }
      continue;
    }
    if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) {
      if (context.allowLoopbackRedirectUris) continue;
      throw new InvalidRedirectUriError(
        `redirect_uris must use https; http on a loopback host is allowed only in the sandbox environment ("${uri}")`,
      );
    }
    throw new InvalidRedirectUriError(`redirect_uris must use https ("${uri}")`);
  }
}

const MAX_NAME_LENGTH = 200;
const MAX_URI_LENGTH = 2000;

/**
 * The name and logo are shown to PSUs on the consent page, in every registered language: names are
 * plain single-line text, logos https images (the pages load nothing over plain http).
 */
function checkDisplayMetadata({ requested }: RegistrationPolicyContext): void {
  for (const [key, value] of Object.entries(requested)) {
    const field = key.split('#')[0];
    if (!(LOCALIZABLE_FIELDS as readonly string[]).includes(field ?? '')) continue;
    if (typeof value !== 'string' || !value.trim()) throw new InvalidClientMetadataError(`${key} must be a non-empty string`);
    if (field === 'client_name') {
      if (value.length > MAX_NAME_LENGTH) throw new InvalidClientMetadataError(`${key} must be at most ${MAX_NAME_LENGTH} characters`);
      const problem = textProblem(value);
      if (problem === 'control') throw new InvalidClientMetadataError(`${key} must be a single line of text without control characters`);
      if (problem === 'format') {
        throw new InvalidClientMetadataError(`${key} must not contain invisible formatting characters (bidirectional overrides or isolates, zero-width characters, Unicode category Cf)`);
      }
      continue;
    }
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:' || url.username || url.password || !PLAIN_HOST.test(url.hostname) || value.length > MAX_URI_LENGTH || /\s/.test(value)) {
      throw new InvalidClientMetadataError(`${key} must be an https URL of at most ${MAX_URI_LENGTH} characters, without credentials`);
    }
  }
}

/**
 * The PSD2 registration policy (RFC 7591 §2, RFC 8705 §2.1, DESIGN 3.2): checks what the TPP asked
 * for against its certificate and writes the certificate-derived fields into `metadata`.
 * Throws {@link InvalidClientMetadataError} or {@link InvalidRedirectUriError}; changes nothing then.
 */
export function applyRegistrationPolicy(metadata: Record<string, unknown>, given: RegistrationPolicyContext): void {
  // RFC 7592 §2.2: a null value stands for an omitted field.
  const requested = Object.fromEntries(Object.entries(given.requested).filter(([, value]) => value !== null));
  const context = { ...given, requested };
  checkDerivedFields(context);
  const scopes = requestedScopes(context);
  const { grantTypes, responseTypes } = checkGrants(context, scopes);
  checkRedirectUris(context);
  checkDisplayMetadata(context);
  const keys = requested.jwks === undefined ? undefined : registerKeys(requested.jwks);

  const { identity } = context;
  if (keys) metadata.jwks = { keys: keys.stored };
  Object.assign(metadata, {
    [SENT_METADATA_FIELD]: sentMetadata(requested, keys?.sent),
    scope: scopes.join(' '),
    grant_types: grantTypes,
    response_types: responseTypes,
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: identity.subjectDn,
    tls_client_certificate_bound_access_tokens: true,
    provider_legal_id: identity.organizationIdentifier,
    psd2_environment: identity.environment,
    // RFC 9396 §10: payment authorizations need the PSP_PI role and a way back to the PISP.
    authorization_details_types: scopes.includes('pisp') && grantTypes.includes('authorization_code') ? [...PAYMENT_TYPES] : [],
    // Only the bank's payment API pushes requests; a TPP's own requests stay direct.
    require_pushed_authorization_requests: false,
  });
  for (const field of [...OTHER_SUBJECT_FIELDS, 'client_secret', 'client_secret_expires_at']) delete metadata[field];
}
