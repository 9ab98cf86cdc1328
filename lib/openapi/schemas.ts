/** The schemas of `components.schemas` besides the client metadata: errors, tokens, payments, metadata. */
import { ref, strings, text } from './responses.js';

/** The error bodies, first in `components.schemas`. */
export const ERROR_SCHEMAS = {
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
};

/** What the token, introspection and metadata endpoints answer. */
export const ANSWER_SCHEMAS = {
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
};
