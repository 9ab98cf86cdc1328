import { BODY_LIMITS } from '../body-limits.js';
import { ROUTES } from '../routes.js';

import { certificateRefused, errorResponse, text, tooLarge, unavailable } from './responses.js';

/** The revocation endpoint (RFC 7009). */
export const REVOCATION_PATHS = {
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
};
