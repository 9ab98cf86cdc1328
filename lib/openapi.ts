import { BODY_LIMITS } from './body-limits.js';
import { LOCALIZED_METADATA } from './registration/localized-metadata.js';
import type { ResolvedOptions } from './options.js';
import { AUTHORIZATION_PARAMETER_LIMITS } from './parameter-limits.js';
import { AUTHORIZATION_SCOPE_SETS } from './psd2/authorization.js';
import { DOCUMENT_PATHS, INTERACTION_PATH, ROUTES } from './routes.js';


type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const text = { type: 'string' } as const;
const strings = { type: 'array', items: text } as const;

/**
 * A JSON error response whose `error` is one of `codes`, with an example of each; `base` is the
 * schema of the body (`Error`, or `TokenError` which may name the refused scope).
 */
function errorResponse(description: string, codes: Record<string, string>, headers?: Record<string, unknown>, base = 'Error'): Schema {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: {
      'application/json': {
        schema: {
          allOf: [ref(base)],
          properties: { error: { enum: Object.keys(codes) } },
        },
        examples: Object.fromEntries(Object.entries(codes).map(([code, example]) => [code, { value: { error: code, error_description: example } }])),
      },
    },
  };
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again.', required: true, schema: { type: 'integer' } } };
const NO_STORE = { 'Cache-Control': { description: '`no-store`', required: true, schema: { type: 'string', const: 'no-store' } } };

const unavailable = errorResponse('The token store is temporarily unavailable (RFC 6749 §4.1.2.1 `temporarily_unavailable`).', {
  temporarily_unavailable: 'the service is temporarily unavailable, try again shortly',
}, RETRY_AFTER);

/** A body larger than its endpoint accepts, refused before it is read (lib/body-limits.ts). */
const tooLarge = (bytes: number): Schema => errorResponse(`The body is larger than ${bytes / 1024} KiB: refused before it is read.`, {
  invalid_request: `the request body is larger than this endpoint accepts (${bytes / 1024} KiB)`,
});

const certificateRefused = (extra: Record<string, string> = {}) => errorResponse('Client authentication failed: no certificate, a certificate that is not an accepted QWAC, or a TPP the bank has suspended.', {
  invalid_client: 'a client certificate is required: present your QWAC in the TLS handshake',
  ...extra,
});

const htmlPage = (description: string): Schema => ({ description, content: { 'text/html': { schema: text } } });
const redirect = (description: string): Schema => ({
  description,
  headers: { Location: { description: 'Where the browser goes next.', required: true, schema: { type: 'string', format: 'uri-reference' } } },
  content: {
    'text/html': { schema: { type: 'string', description: 'A line naming the new address, for clients that do not follow redirects.' } },
    'text/plain': { schema: { type: 'string', description: 'The same line, to clients that do not accept HTML.' } },
  },
});

function clientMetadataSchemas(): Record<string, Schema> {
  const localized = Object.fromEntries(LOCALIZED_METADATA.map((key) => [key, key.startsWith('logo_uri') ? { type: 'string', format: 'uri' } : text]));
  const common: Record<string, Schema> = {
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

/** Whether the configured resource servers authenticate with HTTP Basic and with certificates. */
function resourceServerSchemes(options: ResolvedOptions): { basic: boolean; certificate: boolean } {
  return {
    basic: options.resourceServers.some((server) => server.secret !== undefined),
    certificate: options.resourceServers.some((server) => (server.certificateThumbprints?.length ?? 0) > 0),
  };
}

/**
 * How resource servers authenticate at the introspection endpoint: the schemes, never the ids of
 * the configured resource servers (their HTTP Basic user names).
 */
function introspectionAuthentication(options: ResolvedOptions): string {
  if (!options.resourceServers.length) return 'No resource server is configured: every call is refused.';
  const { basic, certificate } = resourceServerSchemes(options);
  const schemes = [
    basic ? 'HTTP Basic with a resource server\'s id and secret (`resourceServerBasic`)' : undefined,
    certificate ? 'a TLS client certificate whose SHA-256 thumbprint the bank registered (`resourceServerCertificate`)' : undefined,
  ].filter(Boolean);
  return `For the bank's resource servers, never TPPs. A resource server authenticates with ${schemes.join(', or ')}.`;
}

const INTROSPECTION_SCHEMES = {
  resourceServerBasic: { type: 'http', scheme: 'basic', description: 'A resource server\'s id and secret.' },
  resourceServerCertificate: { type: 'mutualTLS', description: 'A resource server\'s pinned TLS client certificate.' },
} as const;

/** The security schemes resource servers use here: those configured, both when none is. */
function introspectionSchemes(options: ResolvedOptions): Partial<typeof INTROSPECTION_SCHEMES> {
  const { basic, certificate } = resourceServerSchemes(options);
  if (!basic && !certificate) return INTROSPECTION_SCHEMES;
  return {
    ...(basic ? { resourceServerBasic: INTROSPECTION_SCHEMES.resourceServerBasic } : {}),
    ...(certificate ? { resourceServerCertificate: INTROSPECTION_SCHEMES.resourceServerCertificate } : {}),
  };
}

function introspectionSecurity(options: ResolvedOptions): Record<string, string[]>[] {
  return Object.keys(introspectionSchemes(options)).map((name) => ({ [name]: [] }));
}

/**
 * The OpenAPI 3.1 description of every endpoint the router serves, for this configuration: mount
 * path, entry pages and resource servers as the options set them.
 */
export function openApiDocument(options: ResolvedOptions): Record<string, unknown> {
  const languages = [...options.pages.languages];
  // A language tag, as entryPattern (routes.ts) matches it; anything else is no page at all (404).
  const langParameter = { name: 'lang', in: 'path', required: true, description: `Language of the pages (${languages.join(', ')}); any other language tag falls back to ${options.pages.defaultLanguage}.`, schema: { type: 'string', pattern: '^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$', examples: languages } };

  // A payment authorization arrives as client_id and request_uri alone: the other parameters are
  // in the request the bank's payment API pushed.
  const unlessPayment = 'Required, except in a payment authorization (`request_uri`).';
  const authorizationParameters = [
    { name: 'response_type', in: 'query', required: false, description: unlessPayment, schema: { const: 'code' } },
    { name: 'client_id', in: 'query', required: true, schema: text },
    {
      name: 'request_uri',
      in: 'query',
      required: false,
      description: 'A payment initiation or cancellation opened by the bank\'s payment API (RFC 9126 request URI, RFC 9396 `authorization_details`): the PSU arrives with `client_id` and `request_uri` only, at the URL the payment API gave the PISP. Usable once, until it expires; otherwise the PSU goes back to the PISP with `invalid_request_uri`. A TPP cannot push requests itself, nor send `authorization_details`. When the payment API set no `code_challenge`, a PISP may append its own `code_challenge` with `code_challenge_method=S256` to the URL (padded or not; a malformed one is refused with `invalid_request`); every other parameter appended is ignored.',
      schema: { type: 'string', pattern: '^urn:ietf:params:oauth:request_uri:', examples: ['urn:ietf:params:oauth:request_uri:gqrkWF0ES8vNAiZPjBdmnZbJc_l2rfzs89rkMDdpPgh'] },
    },
    { name: 'redirect_uri', in: 'query', required: false, description: 'As registered (may be omitted when the client has one).', schema: { type: 'string', format: 'uri' } },
    { name: 'scope', in: 'query', required: false, description: `Exactly one of the scope sets, within the client's roles. ${unlessPayment} \`pisp\` is granted only in a payment authorization.`, schema: { enum: [...AUTHORIZATION_SCOPE_SETS] } },
    { name: 'state', in: 'query', required: false, description: `Returned unchanged. At most ${AUTHORIZATION_PARAMETER_LIMITS.state} characters: a longer state is refused with \`invalid_request\` and not returned.`, schema: { type: 'string', maxLength: AUTHORIZATION_PARAMETER_LIMITS.state } },
    { name: 'code_challenge', in: 'query', required: false, description: `PKCE (RFC 7636), 43–128 characters. An S256 challenge may end in the one \`=\` of padded base64url (44 characters), which is removed. ${unlessPayment}`, schema: { type: 'string', minLength: 43, maxLength: AUTHORIZATION_PARAMETER_LIMITS.code_challenge } },
    { name: 'code_challenge_method', in: 'query', required: false, description: unlessPayment, schema: { const: 'S256' } },
    { name: 'ui_locales', in: 'query', required: false, description: 'Preferred languages of the PSU pages.', schema: { type: 'string', maxLength: AUTHORIZATION_PARAMETER_LIMITS.ui_locales } },
    { name: 'login_hint', in: 'query', required: false, description: 'Not used by the pages; bounded like every free parameter.', schema: { type: 'string', maxLength: AUTHORIZATION_PARAMETER_LIMITS.login_hint } },
    { name: 'prompt', in: 'query', required: false, description: '`none` is answered with `login_required`: every authorization needs the PSU.', schema: text },
    { name: 'response_mode', in: 'query', required: false, schema: { enum: ['query', 'fragment', 'form_post'] } },
  ];
  const authorizationResponses = {
    200: htmlPage('`response_mode=form_post`: a page posting the response to the redirect URI.'),
    302: redirect(`Back to the TPP with \`error\`, \`error_description\`, \`state\` and \`iss\` (RFC 6749 §4.1.2.1): invalid_request (among others a parameter longer than its limit: state ${AUTHORIZATION_PARAMETER_LIMITS.state} characters, code_challenge ${AUTHORIZATION_PARAMETER_LIMITS.code_challenge}, scope, ui_locales and login_hint ${AUTHORIZATION_PARAMETER_LIMITS.login_hint}; an over-long state is not returned), invalid_target (a \`resource\` parameter: only payment authorizations have one, set by the server), invalid_scope, unsupported_response_type, unauthorized_client, login_required, access_denied (refused, cancelled, a payment rejected or expired), invalid_request_uri (a payment authorization link used twice, expired, decided or unknown), invalid_authorization_details (\`authorization_details\` the bank's payment API did not register), server_error, temporarily_unavailable. A confirmed payment goes back with \`code\`, \`state\` and \`iss\`.`),
    303: redirect('To the PSU pages (`/interaction/{uid}`), or back to the TPP as for 302.'),
    400: htmlPage('The client or redirect URI is not valid: a page in the PSU\'s language; nobody is redirected.'),
    431: { description: 'The request line and headers exceed the HTTP server\'s limit (16 KB in Node by default): its own answer, without a body.' },
    503: htmlPage('The token store is unavailable: a page asking to try again.'),
  };
  const authorizationOperation = (summary: string, description: string, extra: Schema[] = []) => ({
    tags: ['Authorization'],
    summary,
    description,
    security: [],
    parameters: [...extra, ...authorizationParameters],
    responses: authorizationResponses,
  });

  const entryPaths: Record<string, unknown> = {};
  for (const [environment, pages] of [['sandbox', options.sandbox], ['bank', options.bank]] as const) {
    if (!pages) continue;
    const hasLang = pages.entryPath.includes('{lang}');
    entryPaths[pages.entryPath] = {
      get: {
        ...authorizationOperation(
          `${environment === 'sandbox' ? 'Sandbox' : 'Bank'} sign-in page`,
          environment === 'sandbox'
            ? 'The authorization endpoint for sandbox clients: a simulated PSU grants or refuses access, or confirms or rejects a payment. Payment authorizations arrive here as `client_id` and `request_uri`, in the URL the bank\'s payment API returned.'
            : 'The authorization endpoint for bank clients: the PSU signs in with the bank and grants access to accounts, or confirms or rejects a payment. Payment authorizations arrive here as `client_id` and `request_uri`, in the URL the bank\'s payment API returned.',
          hasLang ? [langParameter] : [],
        ),
        operationId: `${environment}Authorization`,
        ...(hasLang ? { responses: { ...authorizationResponses, 404: { $ref: '#/components/responses/NotFound' } } } : {}),
      },
    };
  }

  /** A form the pages' body parser refused: a JSON error, since no page can be told from the request. */
  const unparsedForm = (status: 400 | 413 | 415) => errorResponse(
    status === 413 ? 'The form is too large or has too many fields.' : status === 415 ? 'The form has an unsupported charset or content encoding.' : 'The form could not be read (e.g. a broken content encoding).',
    { invalid_request: 'the request could not be understood' },
  );
  const invalidFormJson = (unparsedForm(400).content as Record<string, unknown>)['application/json'];

  const pagePost = (name: string, description: string) => ({
    post: {
      tags: ['PSU pages'],
      summary: name,
      description,
      operationId: `page${name.replace(/[^A-Za-z]/g, '')}`,
      security: [],
      parameters: [{ name: 'uid', in: 'path', required: true, schema: text }],
      requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', required: ['csrf'], properties: { csrf: text } } } } },
      responses: {
        200: htmlPage('The step again, with the error.'),
        303: redirect('The next step, or back to the TPP through the authorization endpoint.'),
        400: {
          description: 'Invalid input, or the authorization expired: a page. A form that could not be read: a JSON error.',
          content: { 'text/html': { schema: text }, 'application/json': invalidFormJson },
        },
        401: htmlPage('Sign-in failed.'),
        403: htmlPage('The form was posted without its CSRF token or from another origin; or the payment is to be debited from an account the PSU does not hold (only rejecting remains).'),
        404: htmlPage('No such page.'),
        413: {
          description: `The form is larger than ${BODY_LIMITS.pageForm / 1024} KiB (refused before it is read): a page. A form with too many fields: a JSON error.`,
          content: { 'text/html': { schema: text }, 'application/json': (unparsedForm(413).content as Record<string, unknown>)['application/json'] },
        },
        415: unparsedForm(415),
        429: htmlPage('Too many sign-in attempts.'),
        503: htmlPage('The token store is unavailable.'),
      },
    },
  });

  const clientIdParameter = { name: 'clientId', in: 'path', required: true, schema: text };
  const malformedManagement = errorResponse('The request could not be understood: a malformed Authorization header or client id.', {
    invalid_request: 'invalid authorization header value format',
  });
  const managementSecurity = [{ mutualTLS: [] }, { mutualTLS: [], registrationAccessToken: [] }];

  const tokenErrors = errorResponse('The request was refused (RFC 6749 §5.2). With `invalid_scope`, `scope` names the refused scope.', {
    invalid_request: 'missing required parameter \'grant_type\'',
    invalid_grant: 'Refresh token has expired',
    invalid_scope: 'extended_transaction_history cannot be renewed by a refresh: it needs the PSU\'s strong customer authentication again (authorization code)',
    unauthorized_client: 'only payment initiation clients (PSP_PI role, pisp scope) may use the client_credentials grant',
    unsupported_grant_type: 'unsupported grant_type requested',
    invalid_target: `the only resource indicator is the payment API, ${options.payments.resource}`,
    invalid_authorization_details: 'authorization_details come only with the code of a confirmed payment',
  }, NO_STORE, 'TokenError');

  const paths: Record<string, unknown> = {
    '/.well-known/oauth-authorization-server': {
      get: { tags: ['Metadata'], summary: 'Authorization server metadata (RFC 8414)', description: `The same document is served at the host's root, \`/.well-known/oauth-authorization-server${options.mountPath}\` (RFC 8414 §3.1), where the host mounts \`wellKnown\`.`, operationId: 'metadata', security: [], responses: { 200: { description: 'The metadata.', content: { 'application/json': { schema: ref('Metadata') } } } } },
    },
    '/.well-known/openid-configuration': {
      get: { tags: ['Metadata'], summary: 'The same metadata, at the OpenID Connect discovery path', operationId: 'metadataOpenId', security: [], responses: { 200: { description: 'The metadata.', content: { 'application/json': { schema: ref('Metadata') } } } } },
    },
    [ROUTES.jwks]: {
      get: { tags: ['Metadata'], summary: 'Public signing keys', operationId: 'jwks', security: [], responses: { 200: { description: 'A JWK Set.', content: { 'application/jwk-set+json': { schema: ref('JWKS') }, 'application/json': { schema: ref('JWKS') } } } } },
    },
    [ROUTES.registration]: {
      post: {
        tags: ['Registration'],
        summary: 'Register a client (RFC 7591)',
        description: 'With the TPP\'s QWAC. The certificate sets `token_endpoint_auth_method`, `tls_client_auth_subject_dn`, `provider_legal_id` and `psd2_environment`; the scopes must be within its PSD2 roles (PSP_AI: aisp, extended_transaction_history; PSP_IC: cbpii; PSP_PI: pisp). A PISP that registers `authorization_code` (with `redirect_uris`) next to `client_credentials` receives payment authorizations: the server sets its `authorization_details_types` to `payment_initiation` and `payment_cancellation`.',
        operationId: 'register',
        security: [{ mutualTLS: [] }],
        requestBody: { required: true, content: { 'application/json': { schema: ref('ClientMetadata') } } },
        responses: {
          201: { description: 'Registered.', headers: NO_STORE, content: { 'application/json': { schema: ref('ClientInformation') } } },
          400: errorResponse('The metadata was refused (RFC 7591 §3.2.2), or the body is not a JSON object.', {
            invalid_client_metadata: 'scope cbpii needs the PSP_IC role, which the client certificate does not hold',
            invalid_redirect_uri: 'redirect_uris must use https ("http://tpp.example/cb")',
            invalid_request: 'only application/json content-type bodies are supported on POST /register',
          }),
          401: certificateRefused(),
          413: tooLarge(BODY_LIMITS.registration),
          503: unavailable,
        },
      },
    },
    [`${ROUTES.registration}/{clientId}`]: {
      parameters: [clientIdParameter],
      get: {
        tags: ['Registration'],
        summary: 'Read a client (RFC 7592)',
        description: 'With a certificate of the organization and environment that registered it; the registration access token is optional.',
        operationId: 'readClient',
        security: managementSecurity,
        responses: {
          200: { description: 'The client.', headers: NO_STORE, content: { 'application/json': { schema: ref('ClientInformation') } } },
          400: malformedManagement,
          401: errorResponse('Not the owner, unknown client, or a bad certificate.', { invalid_token: 'the client certificate does not belong to the organization and environment that registered this client', invalid_client: 'a client certificate is required' }),
          503: unavailable,
        },
      },
      put: {
        tags: ['Registration'],
        summary: 'Replace a client\'s metadata (RFC 7592)',
        operationId: 'updateClient',
        security: managementSecurity,
        description: 'The whole metadata, as registered. `client_id` (RFC 7592 §2.2) may be left out: the client of the URL is meant; a body naming another client is refused with `invalid_request`. Keys sent without a `kid` (or with `"kid": null`) are assigned one; keys sent back with the `kid` they were given keep it.',
        requestBody: { required: true, content: { 'application/json': { schema: { allOf: [ref('ClientMetadata')], properties: { client_id: text } } } } },
        responses: {
          200: { description: 'The client as replaced.', headers: NO_STORE, content: { 'application/json': { schema: ref('ClientInformation') } } },
          400: errorResponse('The metadata was refused.', { invalid_client_metadata: 'provider_legal_id must agree with the client certificate', invalid_redirect_uri: 'redirect_uris must use https', invalid_request: 'the request could not be understood' }),
          401: errorResponse('Not the owner, unknown client, or a bad certificate.', { invalid_token: 'no client is registered under this registration_client_uri', invalid_client: 'a client certificate is required' }),
          413: tooLarge(BODY_LIMITS.registration),
          503: unavailable,
        },
      },
      delete: {
        tags: ['Registration'],
        summary: 'Delete a client and everything it holds (RFC 7592)',
        operationId: 'deleteClient',
        security: managementSecurity,
        responses: {
          204: { description: 'Deleted, with its grants, codes and tokens.' },
          400: malformedManagement,
          401: errorResponse('Not the owner, unknown client, or a bad certificate.', { invalid_token: 'no client is registered under this registration_client_uri', invalid_client: 'a client certificate is required' }),
          503: unavailable,
        },
      },
    },
    [ROUTES.authorization]: { get: { ...authorizationOperation('Authorization endpoint (RFC 6749 §4.1.1)', 'Sends the PSU to the sign-in page of the client\'s environment. Payment authorizations arrive at the entry pages as `client_id` and `request_uri` (here too).'), operationId: 'authorize' } },
    ...entryPaths,
    [`${ROUTES.authorization}/{uid}`]: {
      get: {
        tags: ['PSU pages'],
        summary: 'Return from the PSU pages',
        description: 'Where the pages send the browser once the PSU decided; answers like the authorization endpoint.',
        operationId: 'resume',
        security: [],
        parameters: [{ name: 'uid', in: 'path', required: true, schema: text }],
        responses: authorizationResponses,
      },
    },
    [`${INTERACTION_PATH}/{uid}`]: {
      get: {
        tags: ['PSU pages'],
        summary: 'The current step of the PSU pages',
        operationId: 'page',
        security: [],
        parameters: [{ name: 'uid', in: 'path', required: true, schema: text }, { name: 'lang', in: 'query', required: false, schema: { enum: languages } }],
        responses: {
          200: htmlPage('Sign-in, second factor, consent, or the payment to confirm.'),
          303: redirect('The PSU already decided: on to the TPP.'),
          400: htmlPage('The authorization expired or is unknown.'),
          503: htmlPage('The token store is unavailable.'),
        },
      },
    },
    [`${INTERACTION_PATH}/{uid}/signin`]: pagePost('Sign in', 'Sandbox: `psu`; bank: `login`, `password`.'),
    [`${INTERACTION_PATH}/{uid}/second-factor`]: pagePost('Second factor', '`code`: the one-time code.'),
    [`${INTERACTION_PATH}/{uid}/consent`]: pagePost('Consent', '`decision` (`grant` or `refuse`) and `accounts` (ids, repeated). For a payment, `decision` alone: `grant` confirms it, `refuse` rejects it.'),
    [`${INTERACTION_PATH}/{uid}/cancel`]: pagePost('Cancel', 'Back to the TPP with `access_denied` (a payment is rejected).'),
    '/session/end/confirm': {
      post: {
        tags: ['PSU pages'],
        summary: 'Browser session confirmation of oidc-provider',
        description: 'Confirms ending a browser session when another PSU signs in in the same browser meanwhile; the server ends sessions after each authorization, so PSUs rarely meet it.',
        operationId: 'endSessionConfirm',
        security: [],
        responses: { 303: redirect('On to the authorization.'), 400: { description: 'Invalid request.', content: { 'application/json': { schema: ref('Error') }, 'text/html': { schema: text } } }, 413: tooLarge(BODY_LIMITS.form) },
      },
    },
    [ROUTES.token]: {
      post: {
        tags: ['Tokens'],
        summary: 'Token endpoint (RFC 6749 §3.2)',
        description: [
          'Authorization code (aisp, aisp extended_transaction_history, cbpii; PKCE), refresh token (aisp and cbpii only, until the consent ends: at most 180 days after the PSU\'s SCA, shorter when the bank sets it, e.g. in the sandbox; then `invalid_grant` "Refresh token has expired"; never extended_transaction_history) and client credentials (PSP_PI, pisp only). Access tokens are bound to the certificate (`cnf.x5t#S256`).',
          '',
          `The code of a confirmed payment authorization gives scope \`pisp\` and the confirmed payment in \`authorization_details\` (RFC 9396), for the payment API (${options.payments.resource}, RFC 8707), without a refresh token. \`code_verifier\` is sent only when the payment API passed the PISP's \`code_challenge\` on, or the PISP appended its own S256 challenge to the payment authorization URL.`,
        ].join('\n'),
        operationId: 'token',
        security: [{ mutualTLS: [] }],
        requestBody: {
          required: true,
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                oneOf: [
                  {
                    title: 'authorization_code',
                    type: 'object',
                    required: ['grant_type', 'code', 'client_id'],
                    properties: {
                      grant_type: { const: 'authorization_code' },
                      code: text,
                      code_verifier: { type: 'string', description: 'PKCE (RFC 7636). A verifier ending in base64 padding (`=`) is hashed as sent and compared with the challenge without its padding. Required, except for the code of a payment authorization opened without a `code_challenge`.' },
                      redirect_uri: { type: 'string', format: 'uri' },
                      client_id: text,
                    },
                  },
                  { title: 'refresh_token', type: 'object', required: ['grant_type', 'refresh_token', 'client_id'], properties: { grant_type: { const: 'refresh_token' }, refresh_token: text, scope: { enum: ['aisp', 'cbpii'] }, client_id: text } },
                  { title: 'client_credentials', type: 'object', required: ['grant_type', 'client_id'], properties: { grant_type: { const: 'client_credentials' }, scope: { const: 'pisp', description: 'Default `pisp` (RFC 6749 §3.3).' }, client_id: text } },
                ],
              },
            },
          },
        },
        responses: {
          200: { description: 'Tokens.', headers: NO_STORE, content: { 'application/json': { schema: ref('TokenResponse') } } },
          400: tokenErrors,
          401: certificateRefused(),
          413: tooLarge(BODY_LIMITS.form),
          503: unavailable,
        },
      },
    },
    [ROUTES.revocation]: {
      post: {
        tags: ['Tokens'],
        summary: 'Token revocation (RFC 7009)',
        description: 'A refresh token takes its access tokens and the PSU\'s consent with it; an access token goes alone.',
        operationId: 'revoke',
        security: [{ mutualTLS: [] }],
        requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', required: ['token'], properties: { token: text, token_type_hint: { enum: ['access_token', 'refresh_token'] }, client_id: text } } } } },
        responses: {
          200: { description: 'Revoked, or unknown (nothing to do).' },
          400: errorResponse('The request was refused.', { invalid_request: 'missing required parameter \'token\'', unauthorized_client: 'this token was not issued to this client', unsupported_token_type: 'only access tokens and refresh tokens can be revoked' }),
          401: certificateRefused(),
          413: tooLarge(BODY_LIMITS.form),
          503: unavailable,
        },
      },
    },
    [ROUTES.introspection]: {
      post: {
        tags: ['Tokens'],
        summary: 'Token introspection (RFC 7662) for the bank\'s resource servers',
        description: introspectionAuthentication(options),
        operationId: 'introspect',
        security: introspectionSecurity(options),
        requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', required: ['token'], properties: { token: text, token_type_hint: text } } } } },
        responses: {
          200: { description: 'What the token allows.', headers: NO_STORE, content: { 'application/json': { schema: ref('IntrospectionResponse') } } },
          400: errorResponse('The request was refused, or its body could not be read.', { invalid_request: 'the token parameter is required' }),
          401: errorResponse('Not a resource server of the bank.', { invalid_client: 'token introspection is reserved to the bank\'s resource servers' }, { 'WWW-Authenticate': { description: 'The Basic scheme resource servers authenticate with.', required: true, schema: text } }),
          413: errorResponse('The body is larger than 8 KB or has more than 20 parameters.', { invalid_request: 'the request could not be understood' }),
          415: errorResponse('The body has an unsupported charset or content encoding.', { invalid_request: 'the request could not be understood' }),
          503: unavailable,
        },
      },
    },
    [DOCUMENT_PATHS.json]: { get: { tags: ['Metadata'], summary: 'This document', operationId: 'openApiJson', security: [], responses: { 200: { description: 'OpenAPI 3.1, JSON.', content: { 'application/json': { schema: { type: 'object' } } } } } } },
    [DOCUMENT_PATHS.yaml]: { get: { tags: ['Metadata'], summary: 'This document', operationId: 'openApiYaml', security: [], responses: { 200: { description: 'OpenAPI 3.1, YAML.', content: { 'application/yaml': { schema: text } } } } } },
    [DOCUMENT_PATHS.view]: { get: { tags: ['Metadata'], summary: 'This document, to read', operationId: 'openApiView', security: [], responses: { 200: htmlPage('The document rendered with Swagger UI, served from the package (works offline).') } } },
    [`${DOCUMENT_PATHS.view}/{asset}`]: {
      get: {
        tags: ['Metadata'],
        summary: 'Scripts and styles of the view',
        operationId: 'openApiViewAsset',
        security: [],
        parameters: [{ name: 'asset', in: 'path', required: true, schema: { enum: ['swagger-ui.css', 'swagger-ui-bundle.js', 'init.js'] } }],
        responses: {
          200: { description: 'The file.', content: { 'text/css': { schema: text }, 'text/javascript': { schema: text } } },
          404: { $ref: '#/components/responses/NotFound' },
        },
      },
    },
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'PSD2 OAuth 2 authorization server',
      version: '1',
      license: { name: 'MIT', identifier: 'MIT' },
      description: [
        'OAuth 2 endpoints for third-party providers (TPPs) under PSD2: dynamic client registration over mutual TLS with an eIDAS QWAC (RFC 7591/7592, RFC 8705 `tls_client_auth`), the PSU authorization pages, and the token, revocation and introspection endpoints.',
        '',
        '| role | scopes | grant types |',
        '|---|---|---|',
        '| PSP_AI (account information) | `aisp`, `aisp extended_transaction_history` | authorization_code, refresh_token (renews `aisp` only) |',
        '| PSP_IC (card-based payment instruments) | `cbpii` | authorization_code, refresh_token |',
        '| PSP_PI (payment initiation) | `pisp` | client_credentials; authorization_code for payment authorizations |',
        '',
        'Any method or path not listed here answers 404 `not_found` (a JSON error, `NotFound` in the components).',
        '',
        '`aisp`: balances and the last 90 days of transactions of the accounts the PSU chose, for up to 180 days after their strong customer authentication. `extended_transaction_history`: the history older than 90 days, once. `cbpii`: funds confirmation (yes or no). `pisp`: payment initiation, without a PSU at the token endpoint (client credentials), or with the PSU\'s confirmation of one payment (authorization code).',
        '',
        '**Payment authorizations.** A PISP submits a payment (or its cancellation) to the bank\'s payment API, which opens the PSU\'s authorization in process (an RFC 9126 pushed request with RFC 9396 `authorization_details` of type `payment_initiation` or `payment_cancellation`; `POST /request` answers 404) and gives the PISP a URL: an entry page with `client_id` and `request_uri`, usable once until it expires. The PSU signs in, sees the payment and confirms or rejects it. Confirmed, the PISP gets a code whose token carries scope `pisp`, the payment in `authorization_details` (`PaymentAuthorizationDetail`) and the payment API as audience, without a refresh token; otherwise `access_denied`.',
      ].join('\n'),
    },
    servers: [{ url: options.issuer }],
    tags: [
      { name: 'Metadata', description: 'What clients discover.' },
      { name: 'Registration', description: 'RFC 7591 and 7592, with the TPP\'s QWAC.' },
      { name: 'Authorization', description: 'Where a TPP sends the PSU; for a payment, the URL the bank\'s payment API gave the PISP.' },
      { name: 'PSU pages', description: 'The sign-in and consent pages the PSU\'s browser sees.' },
      { name: 'Tokens', description: 'Token, revocation and introspection endpoints.' },
    ],
    paths,
    components: {
      responses: {
        NotFound: (() => {
          const json = errorResponse('', { not_found: `there is no endpoint at GET ${options.mountPath}${DOCUMENT_PATHS.view}/x` });
          return {
            description: `Any other path or method under ${options.mountPath || '/'}: there is no such endpoint. A JSON error; under ${INTERACTION_PATH}, a page in the PSU's language.`,
            content: { ...(json.content as Record<string, unknown>), 'text/html': { schema: text } },
          };
        })(),
      },
      securitySchemes: {
        mutualTLS: { type: 'mutualTLS', description: 'The TPP\'s eIDAS QWAC (QcType web, PSD2 QCStatement), in the TLS handshake.' },
        registrationAccessToken: { type: 'http', scheme: 'bearer', description: 'The registration access token (RFC 7592), optional with the owner\'s certificate.' },
        ...introspectionSchemes(options),
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error', 'error_description'],
          additionalProperties: false,
          properties: { error: { type: 'string' }, error_description: { type: 'string' } },
        },
        TokenError: {
          type: 'object',
          description: 'An error of the token endpoint (RFC 6749 §5.2).',
          required: ['error', 'error_description'],
          additionalProperties: false,
          properties: {
            error: { type: 'string' },
            error_description: { type: 'string' },
            scope: { type: 'string', description: 'With `invalid_scope`: the scope refused, empty when the request named none.' },
          },
        },
        ...clientMetadataSchemas(),
        TokenResponse: {
          type: 'object',
          required: ['access_token', 'token_type', 'expires_in', 'scope'],
          additionalProperties: false,
          properties: {
            access_token: text,
            token_type: { const: 'bearer', description: 'Lowercase, as the reference bank answers (RFC 6749 §5.1: case-insensitive).' },
            expires_in: { type: 'integer' },
            scope: text,
            refresh_token: { type: 'string', description: 'For aisp and cbpii.' },
            authorization_details: { type: 'array', items: ref('PaymentAuthorizationDetail'), description: 'For the code of a confirmed payment authorization: the payment the PSU confirmed (RFC 9396).' },
          },
        },
        PaymentAuthorizationDetail: {
          type: 'object',
          description: 'A payment initiation or cancellation as the bank\'s payment API registered it and the PSU confirmed it (RFC 9396 §2). IBANs are written without spaces, in capitals.',
          required: ['type', 'instructedAmount', 'creditorName', 'creditorAccount', 'paymentId'],
          additionalProperties: false,
          properties: {
            type: { enum: ['payment_initiation', 'payment_cancellation'] },
            instructedAmount: {
              type: 'object',
              required: ['currency', 'amount'],
              additionalProperties: false,
              properties: {
                currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code.' },
                amount: { type: 'string', pattern: '^\\d{1,15}(\\.\\d{1,4})?$', description: 'A decimal string with at most the currency\'s minor digits, e.g. `1250.50`.' },
              },
            },
            creditorName: { type: 'string', maxLength: 140 },
            creditorAccount: ref('PaymentAccount'),
            debtorAccount: ref('PaymentAccount'),
            remittanceInformationUnstructured: { type: 'string', maxLength: 140 },
            requestedExecutionDate: { type: 'string', format: 'date' },
            paymentId: { type: 'string', pattern: '^[\\x21-\\x7e]{1,128}$', description: 'The payment\'s id in the bank.' },
          },
        },
        PaymentAccount: {
          type: 'object',
          required: ['iban'],
          additionalProperties: false,
          properties: { iban: { type: 'string', pattern: '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$' } },
        },
        IntrospectionResponse: {
          oneOf: [
            { type: 'object', required: ['active'], additionalProperties: false, properties: { active: { const: false } } },
            {
              type: 'object',
              required: ['active', 'iss', 'client_id', 'token_type', 'scope', 'iat', 'exp'],
              additionalProperties: false,
              properties: {
                active: { const: true },
                iss: text,
                client_id: text,
                token_type: { const: 'Bearer' },
                scope: text,
                iat: { type: 'integer' },
                exp: { type: 'integer' },
                cnf: { type: 'object', required: ['x5t#S256'], additionalProperties: false, properties: { 'x5t#S256': text } },
                provider_legal_id: text,
                psd2_environment: { enum: ['sandbox', 'bank'] },
                sub: { type: 'string', description: 'The PSU.' },
                accounts: { type: 'array', items: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: text, iban: text } } },
                sca_time: { type: 'integer', description: 'Time of the PSU\'s strong customer authentication.' },
                consent_expires_at: { type: 'integer', description: 'End of the consent (not for the token of a payment).' },
                authorization_details: { type: 'array', items: ref('PaymentAuthorizationDetail'), description: 'The payment the PSU confirmed, for the token of a payment authorization.' },
                aud: { type: 'string', description: 'The payment API\'s resource indicator, for the token of a payment authorization.' },
              },
            },
          ],
        },
        JWKS: { type: 'object', required: ['keys'], additionalProperties: false, properties: { keys: { type: 'array', items: { type: 'object' } } } },
        Metadata: {
          type: 'object',
          required: ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'],
          additionalProperties: false,
          properties: {
            issuer: text,
            authorization_endpoint: text,
            token_endpoint: text,
            jwks_uri: text,
            registration_endpoint: text,
            revocation_endpoint: text,
            introspection_endpoint: text,
            scopes_supported: strings,
            response_types_supported: strings,
            response_modes_supported: strings,
            grant_types_supported: strings,
            code_challenge_methods_supported: strings,
            token_endpoint_auth_methods_supported: strings,
            revocation_endpoint_auth_methods_supported: strings,
            introspection_endpoint_auth_methods_supported: strings,
            tls_client_certificate_bound_access_tokens: { type: 'boolean' },
            authorization_response_iss_parameter_supported: { type: 'boolean' },
            ui_locales_supported: strings,
            authorization_details_types_supported: { ...strings, description: 'RFC 9396: `payment_initiation` and `payment_cancellation`, in payment authorizations opened by the bank\'s payment API.' },
          },
        },
      },
    },
  };
}
