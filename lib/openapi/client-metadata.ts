import { LOCALIZED_METADATA } from '../registration/localized-metadata.js';

import { strings, text, type Schema } from './responses.js';

/** The client metadata fields a TPP sends and reads back (RFC 7591 §2), as this server takes them. */
function clientFields(): Record<string, Schema> {
  const localized = Object.fromEntries(LOCALIZED_METADATA.map((key) => [key, key.startsWith('logo_uri') ? { type: 'string', format: 'uri' } : text]));
  return {
    redirect_uris: { type: 'array', items: { type: 'string', format: 'uri' }, description: 'https URIs (http on loopback hosts in the sandbox), compared exactly. In the bank environment none may point to a loopback, private, shared or link-local address (127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 169.254.0.0/16, 0.0.0.0/8, ::1, fc00::/7, fe80::/10, IPv4-mapped forms of these) nor to `localhost`, `*.localhost`, `*.local`, `*.internal` or `*.home.arpa`: `invalid_redirect_uri`.' },
    grant_types: {
      type: 'array',
      items: { enum: ['authorization_code', 'refresh_token', 'client_credentials'] },
      description: 'Within the scopes: authorization_code and refresh_token for aisp and cbpii; client_credentials, and authorization_code to receive payment authorizations, for pisp. Default: the grant types of the scopes (client_credentials alone for pisp).',
    },
    response_types: { type: 'array', items: { const: 'code' } },
    token_endpoint_auth_method: { const: 'tls_client_auth' },
    tls_client_auth_subject_dn: { type: 'string', description: 'Set from the certificate (RFC 8705 §2.1.2).' },
    tls_client_certificate_bound_access_tokens: { const: true },
    client_name: { type: 'string', description: 'Shown to PSUs: one line of at most 200 characters, without control characters nor invisible formatting characters (Unicode Cf: bidirectional overrides, zero-width characters); the same for its localized forms (`client_name#fr`).' },
    ...localized,
    client_uri: { type: 'string', format: 'uri' },
    logo_uri: { type: 'string', format: 'uri' },
    contacts: strings,
    jwks: { type: 'object', description: 'Public keys, e.g. with `x5c` holding the TPP\'s QSealC. A key may be given by `x5c` alone (no `n`/`e`): the public key is read from the first certificate, whose key type must be `kty`. `"kid": null` counts as no `kid`; a key without one is assigned the RFC 7638 thumbprint of its public key. A wrong key is refused naming it, e.g. `jwks.keys[1].x5c[0] is not an X.509 certificate`.' },
    scope: { type: 'string', description: 'Space-separated: `aisp`, `extended_transaction_history`, `cbpii`, `pisp`, within the certificate\'s roles.' },
    provider_legal_id: { type: 'string', description: 'The certificate\'s organizationIdentifier, e.g. `PSDFR-ACPR-12345`.' },
    psd2_environment: { enum: ['sandbox', 'bank'], description: 'The environment whose QTSPs issued the certificate.' },
    authorization_details_types: {
      type: 'array',
      items: { enum: ['payment_initiation', 'payment_cancellation'] },
      description: 'Set by the server (RFC 9396 §10): both payment types for a client with the PSP_PI role and the authorization_code grant, none otherwise.',
    },
    require_pushed_authorization_requests: { const: false, description: 'Always false: TPPs send authorization requests directly; payment authorizations are pushed by the bank\'s payment API.' },
  };
}

/** `ClientMetadata`, what a TPP sends, and `ClientInformation`, what it reads back. */
export function clientMetadataSchemas(): Record<string, Schema> {
  const common = clientFields();
  return {
    ClientMetadata: {
      type: 'object',
      description: 'Client metadata (RFC 7591 §2). Fields derived from the certificate may be sent; they must then agree with it. URLs the server would never use are refused with `invalid_client_metadata`: `jwks_uri` (send the keys inline in `jwks`), `policy_uri`, `tos_uri`, `initiate_login_uri`, `sector_identifier_uri`.',
      properties: { ...common, software_id: text, software_version: text },
    },
    ClientInformation: {
      type: 'object',
      description: 'The registered client (RFC 7591 §3.2.1, RFC 7592 §3), shaped as the reference bank answers, for clients that read it with strict mappers: `client_id`, `registration_client_uri`, `redirect_uris`, `token_endpoint_auth_method`, `tls_client_auth_subject_dn`, `grant_types`, `response_types`, `client_name`, `logo_uri`, `scope`, `contacts`, `jwks`, `provider_legal_id` (the optional ones only when the client has them), plus only the other fields the TPP itself sent (e.g. `client_name#fr`), and `registration_access_token` in registration and update answers. Keys are given back exactly as sent, with the `kid` the server assigned to those sent without one (or with `"kid": null`). What the server derives besides stays in the stored client metadata and is not answered: `psd2_environment` (the certificate\'s environment), `tls_client_certificate_bound_access_tokens` (always true), `authorization_details_types`, `require_pushed_authorization_requests`, `client_id_issued_at`, oidc-provider\'s OpenID Connect defaults, and the public key members (`n`, `e`, …) derived from `x5c`.',
      required: ['client_id', 'redirect_uris', 'token_endpoint_auth_method', 'tls_client_auth_subject_dn', 'grant_types', 'response_types', 'scope', 'provider_legal_id'],
      additionalProperties: false,
      properties: {
        ...common,
        jwks: {
          type: 'object',
          required: ['keys'],
          properties: { keys: { type: 'array', items: { type: 'object', required: ['kty', 'kid'], properties: { kty: { enum: ['RSA', 'EC', 'OKP'] }, kid: text, x5c: strings } } } },
          description: 'The keys as the TPP sent them, each with its `kid`: the one sent, or the RFC 7638 thumbprint (SHA-256) of its public key, stable across updates.',
        },
        client_id: text,
        registration_client_uri: { type: 'string', format: 'uri' },
        registration_access_token: text,
        // Fields oidc-provider keeps and returns when a client sends them; none changes what the
        // server does for an OAuth 2 client of this product.
        application_type: { enum: ['web', 'native'] },
        id_token_signed_response_alg: text,
        require_auth_time: { type: 'boolean' },
        default_max_age: { type: 'integer' },
        use_mtls_endpoint_aliases: { type: 'boolean' },
        subject_type: { const: 'public' },
      },
    },
  };
}
