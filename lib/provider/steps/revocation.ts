import type { KoaContextWithOIDC } from 'oidc-provider';

import { UnsupportedTokenTypeError, answerWithError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { AnswerStep } from './step.js';

/**
 * RFC 7009 §2.2.1: only access and refresh tokens are revoked here; an authorization code or a
 * registration access token presented for revocation is `unsupported_token_type`.
 */
async function refuseUnrevocable(ctx: KoaContextWithOIDC): Promise<void> {
  const { entities, params, provider } = ctx.oidc;
  if (entities.AccessToken || entities.RefreshToken || entities.ClientCredentials) return;
  const value = params?.token;
  if (typeof value !== 'string' || !value) return;
  const found = await provider.AuthorizationCode.find(value) ?? await provider.RegistrationAccessToken.find(value);
  // Another client's code is not even acknowledged: 200, as for an unknown token.
  if (!found || found.clientId !== ctx.oidc.client?.clientId) return;
  answerWithError(ctx, new UnsupportedTokenTypeError('only access tokens and refresh tokens can be revoked'));
}

/**
 * A revocation: refused for codes and registration tokens, audited for the tokens it ends. Every
 * other answer passes without a promise.
 */
export function auditRevocation(logger: Logger, recordRevocation: (kind: 'access_token' | 'refresh_token') => void): AnswerStep {
  const audit = async (ctx: KoaContextWithOIDC): Promise<void> => {
    await refuseUnrevocable(ctx);
    const { entities } = ctx.oidc;
    const kind = entities.RefreshToken ? 'refresh_token' : entities.AccessToken ? 'access_token' : entities.ClientCredentials ? 'client_credentials' : undefined;
    if (!kind || ctx.status !== 200) return;
    logger.info({ event: 'token.revoked', clientId: ctx.oidc.client?.clientId, kind }, 'token revoked by its client');
    recordRevocation(kind === 'refresh_token' ? 'refresh_token' : 'access_token');
  };
  return (ctx) => (ctx.oidc?.route !== 'revocation' || ctx.status !== 200 ? undefined : audit(ctx));
}
