/**
 * The closed sets every metric label takes its values from. A value outside its set is written as
 * `other`, so that a label's cardinality is bounded by its table whatever a request carries: no
 * token, PSU id or free text can become a label value.
 */
import type { CertificateRejection } from '../certificates/rejection.js';
import { GRANT_TYPES, SCOPES } from '../psd2/scopes.js';
import { INVALID_REFRESH_TOKEN, REFRESH_TOKEN_EXPIRED } from '../psd2/tokens.js';

/** The value of every label whose input is outside its closed set. */
export const OTHER = 'other';

/** `value` when it is one of `values`, else `other`. */
export function closed<T extends string>(values: readonly T[], value: unknown): T | typeof OTHER {
  return typeof value === 'string' && (values as readonly string[]).includes(value) ? (value as T) : OTHER;
}

/** The endpoints a request is counted under (see {@link endpointOf} in endpoints.ts). */
export const ENDPOINTS = [
  'registration', 'management', 'authorization', 'interaction', 'token', 'revocation', 'introspection',
  'metadata', 'jwks', 'docs', OTHER,
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** `2xx`, `4xx`, … for an HTTP status, `other` for anything that is not one. */
export function statusClass(status: unknown): string {
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : OTHER;
}

export const GRANT_TYPE_VALUES: readonly string[] = GRANT_TYPES;

/**
 * Error codes of RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1, RFC 7009 §2.2.1, RFC 7591 §3.2.2,
 * OpenID Connect Core §3.1.2.6, RFC 9126, RFC 8707, RFC 9396, and the server's `not_found`.
 */
export const ERROR_CODES = [
  'invalid_request', 'unauthorized_client', 'access_denied', 'unsupported_response_type', 'invalid_scope',
  'server_error', 'temporarily_unavailable', 'invalid_client', 'invalid_grant', 'unsupported_grant_type',
  'invalid_token', 'insufficient_scope', 'unsupported_token_type', 'invalid_redirect_uri',
  'invalid_client_metadata', 'invalid_software_statement', 'unapproved_software_statement',
  'interaction_required', 'login_required', 'account_selection_required', 'consent_required',
  'invalid_request_uri', 'invalid_request_object', 'request_not_supported', 'request_uri_not_supported',
  'registration_not_supported', 'invalid_target', 'invalid_authorization_details', 'not_found',
] as const;

export const ENVIRONMENTS = ['sandbox', 'bank'] as const;

/**
 * A scope string as a label: the known scopes it holds, in {@link SCOPES} order, joined by a
 * space; `other` in place of any unknown ones, `none` when empty. At most 2^5 values.
 */
export function scopeLabel(scope: unknown): string {
  if (typeof scope !== 'string') return 'none';
  const parts = new Set(scope.split(' ').filter(Boolean));
  if (!parts.size) return 'none';
  const known = SCOPES.filter((candidate) => parts.has(candidate));
  return [...known, ...(known.length < parts.size ? [OTHER] : [])].join(' ');
}

/** The steps of a PSU's journey through the pages. */
export const JOURNEY_STEPS = [
  'started', 'signed_in', 'consent_granted', 'consent_refused', 'expired', 'payment_confirmed', 'payment_rejected',
] as const;
export type JourneyStep = (typeof JOURNEY_STEPS)[number];

/** Why a refresh was refused (see `refreshRefusalReason` in metrics.ts). */
export const REFRESH_REFUSALS = [
  /** The consent's 180 days since the PSU's authentication are over (RTS Art. 10a). */
  'consent_expired',
  /** Unknown, revoked, already used or another client's refresh token. */
  'invalid_token',
  /** A scope a refresh cannot give (`extended_transaction_history`). */
  'scope_not_renewable',
  /** The certificate presented no longer holds the role the scope needs. */
  'role_missing',
  /** The client could not be authenticated, or its organization is suspended. */
  'client_refused',
] as const;
export type RefreshRefusal = (typeof REFRESH_REFUSALS)[number];

/** Why a refresh was refused, from the token endpoint's error answer (`error`, `error_description`). */
export function refreshRefusalReason(answer: { readonly error?: unknown; readonly error_description?: unknown }): RefreshRefusal | typeof OTHER {
  switch (answer.error) {
    case 'invalid_grant':
      if (answer.error_description === REFRESH_TOKEN_EXPIRED) return 'consent_expired';
      return answer.error_description === INVALID_REFRESH_TOKEN ? 'invalid_token' : OTHER;
    case 'invalid_scope': return 'scope_not_renewable';
    case 'unauthorized_client': return 'role_missing';
    case 'invalid_client': return 'client_refused';
    default: return OTHER;
  }
}

/** What a revocation removed. */
export const REVOCATION_KINDS = [
  'access_token', 'refresh_token', 'grant', 'consent_withdrawn', 'client_deleted', 'organization_suspended',
] as const;

export const REGISTRATION_ACTIONS = ['created', 'updated', 'deleted', 'refused'] as const;

/** Every reason a certificate is refused for, and `accepted`: a table, so that a new reason must be added here. */
const REJECTIONS: Record<CertificateRejection, true> = {
  certificate_missing: true, certificate_malformed: true, certificate_header_untrusted: true, issuer_untrusted: true,
  certificate_expired: true, certificate_not_yet_valid: true, not_website_certificate: true, no_psd2_roles: true,
  organization_identifier_invalid: true, certificate_revoked: true, certificate_status_unknown: true, weak_key: true,
  weak_signature: true, unrecognised_critical_extension: true, certificate_is_ca: true, key_usage_not_client_auth: true,
  extended_key_usage_not_client_auth: true, ca_extended_key_usage_not_client_auth: true, name_constraints_violated: true,
  certificate_policy_invalid: true, issuer_not_granted: true, trust_list_unavailable: true,
};
export const CERTIFICATE_OUTCOMES: readonly string[] = ['accepted', ...Object.keys(REJECTIONS)];

export const REVOCATION_SOURCES = ['ocsp', 'crl', 'cache'] as const;
export const REVOCATION_RESULTS = ['good', 'revoked', 'unknown', 'unavailable'] as const;

/** What an expiry gauge is about. */
export const EXPIRY_KINDS = ['server_certificate', 'signing_key', 'trust_anchor'] as const;

/** Storage operations: the Storage interface's and its adapters' methods. */
export const STORAGE_OPERATIONS = [
  'find', 'findByUid', 'findByUserCode', 'upsert', 'consume', 'destroy', 'revokeByGrantId', 'removeClient',
  'grantIdsOf', 'clientIdsOf', 'incrementCounter', 'readCounter', 'resetCounter', 'incrementCountersWithin', 'batch',
] as const;

/** The caches a lookup is counted for. */
export const CACHES = ['records', 'certificate_status', 'suspensions', 'crl'] as const;

/**
 * An organizationIdentifier (ETSI TS 119 495 §5.2.1: `PSD` + country + `-` + NCA + `-` + id), at
 * most 64 characters; anything else is not a provider legal id.
 */
export const PROVIDER_LEGAL_ID = /^PSD[A-Z]{2}-[A-Z0-9]{2,8}-[A-Za-z0-9.:_-]{1,48}$/;
