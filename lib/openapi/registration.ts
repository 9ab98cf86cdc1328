import { BODY_LIMITS } from '../body-limits.js';
import { ROUTES } from '../routes.js';

import { certificateRefused, errorResponse, NO_STORE, pathParameter, ref, text, tooLarge, unavailable } from './responses.js';

const malformedManagement = errorResponse('The request could not be understood: a malformed Authorization header or client id.', {
  invalid_request: 'invalid authorization header value format',
});
const managementSecurity = [{ mutualTLS: [] }, { mutualTLS: [], registrationAccessToken: [] }];

/** Dynamic client registration (RFC 7591) and its management (RFC 7592), with the TPP's QWAC. */
export const REGISTRATION_PATHS = {
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
    parameters: [pathParameter('clientId')],
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
};
