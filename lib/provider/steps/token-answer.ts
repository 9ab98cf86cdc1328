import { INVALID_REFRESH_TOKEN, REFRESH_TOKEN_EXPIRED } from '../../psd2/tokens.js';
import { UPSTREAM_MESSAGES } from '../internals.js';
import type { AnswerStep } from './step.js';
import { jsonBodyOf } from './step.js';

/**
 * Token endpoint answers in the words clients rely on: RFC 6749 §5.2's `unauthorized_client` for a
 * grant type the client may not use, the stable refresh texts of DESIGN 3.5 (oidc-provider says
 * "grant request is invalid" whatever the cause), and the reference bank's `token_type` spelling.
 */
export const restateTokenAnswer: AnswerStep = (ctx, state) => {
  if (ctx.oidc?.route !== 'token') return;
  const body = jsonBodyOf(ctx);
  if (!body) return;
  // Some deployed clients compare it case-sensitively; RFC 6749 §5.1 makes it case-insensitive.
  if (ctx.status === 200 && body.token_type === 'Bearer') body.token_type = 'bearer';
  if (ctx.status !== 400) return;
  const grantType = String(ctx.oidc.params?.grant_type ?? '');
  if (body.error === 'invalid_request' && body.error_description === UPSTREAM_MESSAGES.grantTypeNotAllowed) {
    body.error = 'unauthorized_client';
    body.error_description = grantType === 'client_credentials'
      ? 'only payment initiation clients (PSP_PI role, pisp scope) may use the client_credentials grant'
      : `this client is not registered for the ${grantType} grant`;
    return;
  }
  if (grantType === 'refresh_token' && body.error === 'invalid_grant') {
    body.error_description = refreshRefusalText(String(body.error_description), state.grantError?.error_detail);
  }
};

/** The stable text of a refused refresh (DESIGN 3.5): expired, or invalid whatever the cause. */
export function refreshRefusalText(description: string | undefined, detail: string | undefined): string {
  if (description === REFRESH_TOKEN_EXPIRED) return description;
  return detail === UPSTREAM_MESSAGES.refreshTokenExpired ? REFRESH_TOKEN_EXPIRED : INVALID_REFRESH_TOKEN;
}
