import { BODY_LIMITS } from '../body-limits.js';
import type { ResolvedOptions } from '../options/index.js';
import { ROUTES } from '../routes.js';

import { certificateRefused, errorResponse, NO_STORE, ref, text, tooLarge, unavailable, type Schema } from './responses.js';

/** The refusals of the token endpoint (RFC 6749 §5.2), with the texts clients match. */
function tokenErrors(options: ResolvedOptions): Schema {
  return errorResponse('The request was refused (RFC 6749 §5.2). With `invalid_scope`, `scope` names the refused scope.', {
    invalid_request: 'missing required parameter \'grant_type\'',
    invalid_grant: 'Refresh token has expired',
    invalid_scope: 'extended_transaction_history cannot be renewed by a refresh: it needs the PSU\'s strong customer authentication again (authorization code)',
    unauthorized_client: 'only payment initiation clients (PSP_PI role, pisp scope) may use the client_credentials grant',
    unsupported_grant_type: 'unsupported grant_type requested',
    invalid_target: `the only resource indicator is the payment API, ${options.payments.resource}`,
    invalid_authorization_details: 'authorization_details come only with the code of a confirmed payment',
  }, NO_STORE, 'TokenError');
}

/** The token endpoint: authorization code, refresh token and client credentials. */
export function tokenPaths(options: ResolvedOptions): Record<string, unknown> {
  return {
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
          400: tokenErrors(options),
          401: certificateRefused(),
          413: tooLarge(BODY_LIMITS.form),
          503: unavailable,
        },
      },
    },
  };
}
