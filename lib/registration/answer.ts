/**
 * The registration, read and update answers (RFC 7591 §3.2.1, RFC 7592 §3): the fields the
 * reference bank answers with, plus only the fields the TPP itself sent. Deployed TPP clients read
 * them with strict mappers that fail on any other field (DESIGN 3.5); what the server derives
 * besides (environment, token binding, payment types) stays in the stored metadata.
 */

/** Stored with the client: which fields the TPP sent, and its keys as it sent them (with their `kid`). */
export const SENT_METADATA_FIELD = 'sent_metadata';

export interface SentMetadata {
  readonly fields: string[];
  readonly keys?: Record<string, unknown>[];
}

/** The fields of every answer, when the client has them (the optional ones are omitted otherwise). */
export const ANSWER_FIELDS = [
  'client_id',
  'registration_client_uri',
  'redirect_uris',
  'token_endpoint_auth_method',
  'tls_client_auth_subject_dn',
  'grant_types',
  'response_types',
  'client_name',
  'logo_uri',
  'scope',
  'contacts',
  'jwks',
  'provider_legal_id',
] as const;

/** Fields never echoed as sent: the server's own, or answered otherwise. */
const NOT_ECHOED = new Set<string>([
  ...ANSWER_FIELDS,
  'client_id_issued_at',
  'client_secret',
  'client_secret_expires_at',
  'registration_access_token',
  SENT_METADATA_FIELD,
]);

/** What to store of the request: the names of the fields sent (nulls are omissions), and the keys as sent. */
export function sentMetadata(requested: Readonly<Record<string, unknown>>, keys: Record<string, unknown>[] | undefined): SentMetadata {
  const fields = Object.keys(requested).filter((field) => requested[field] !== null && !NOT_ECHOED.has(field));
  return keys ? { fields, keys } : { fields };
}

function isSentMetadata(value: unknown): value is SentMetadata {
  return typeof value === 'object' && value !== null && Array.isArray((value as SentMetadata).fields);
}

/** The answer for oidc-provider's `body` (the client's metadata, its URI and maybe its token). */
export function registrationAnswer(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const sent = isSentMetadata(body[SENT_METADATA_FIELD]) ? body[SENT_METADATA_FIELD] : { fields: [] };
  const answer: Record<string, unknown> = {};
  for (const field of [...ANSWER_FIELDS, ...sent.fields.filter((name) => !NOT_ECHOED.has(name))]) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (field === 'contacts' && Array.isArray(value) && !value.length) continue;
    answer[field] = value;
  }
  if (answer.jwks !== undefined && sent.keys) answer.jwks = { keys: sent.keys };
  if (body.registration_access_token !== undefined) answer.registration_access_token = body.registration_access_token;
  return answer;
}
