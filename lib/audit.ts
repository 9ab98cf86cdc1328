import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

import type { Logger } from './logger.js';
import { providerEvents } from './provider/internals.js';
import type { ProviderError } from './provider/request-state.js';

/** The request's client and route, for an audit line; never a token or a secret. */
function about(ctx: KoaContextWithOIDC | undefined): Record<string, unknown> {
  const clientId = ctx?.oidc?.client?.clientId;
  return {
    ...(clientId ? { clientId } : {}),
    ...(ctx?.oidc?.route ? { route: ctx.oidc.route } : {}),
  };
}

function failure(error: ProviderError): Record<string, unknown> {
  return {
    error: error.error ?? error.name,
    ...(error.error_description ? { description: error.error_description } : {}),
    ...(error.error_detail ? { detail: error.error_detail } : {}),
  };
}

/**
 * The audit trail of security events as structured log lines (`event` names them): registrations,
 * management, grants issued and refused, revocations. Certificate rejections, PSU sign-ins and
 * consents, withdrawals and suspensions are logged where they happen.
 */
export function auditProviderEvents(
  provider: Provider,
  logger: Logger,
  /** Runs `action` once the request's writes are stored (at once when they are not pipelined). */
  whenStored: (ctx: KoaContextWithOIDC, action: () => void) => void = (_ctx, action) => action(),
): void {
  const client = (event: string, message: string) => (_ctx: KoaContextWithOIDC, registered: { clientId: string; metadata(): Record<string, unknown> }) => {
    const metadata = registered.metadata();
    logger.info({
      event,
      clientId: registered.clientId,
      organization: metadata.provider_legal_id,
      environment: metadata.psd2_environment,
      scope: metadata.scope,
    }, message);
  };
  provider.on('registration_create.success', client('registration.created', 'client registered'));
  provider.on('registration_update.success', client('registration.updated', 'client metadata replaced'));
  provider.on('registration_delete.success', client('registration.deleted', 'client deleted'));
  for (const [name, event] of [
    ['registration_create.error', 'registration.refused'],
    ['registration_update.error', 'registration.update_refused'],
    ['registration_delete.error', 'registration.delete_refused'],
    ['grant.error', 'token.refused'],
    ['revocation.error', 'revocation.refused'],
    ['authorization.error', 'authorization.refused'],
  ] as const) {
    providerEvents(provider).on(name, (ctx: KoaContextWithOIDC, error: ProviderError) => {
      if ((error.status ?? 400) >= 500) return;
      logger.info({ event, ...about(ctx), ...failure(error) }, 'request refused');
    });
  }
  // Logged once the tokens are stored: a token that could not be stored was never issued.
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const { entities, params } = ctx.oidc;
    const token = entities.AccessToken ?? entities.ClientCredentials;
    const line = {
      event: 'token.issued',
      ...about(ctx),
      grantType: params?.grant_type,
      scope: token?.scope,
      ...(entities.Grant?.jti ? { grantId: entities.Grant.jti } : {}),
      ...(entities.Account?.accountId ? { psu: entities.Account.accountId } : {}),
    };
    whenStored(ctx, () => logger.info(line, 'token issued'));
  });
  provider.on('grant.revoked', (ctx: KoaContextWithOIDC, grantId: string) => {
    logger.info({ event: 'grant.revoked', ...about(ctx), grantId }, 'grant and its tokens revoked');
  });
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    logger.error({ event: 'server_error', ...about(ctx), err: error }, 'request failed');
  });
}
