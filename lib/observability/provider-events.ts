/**
 * What oidc-provider's events tell the metrics and the request observer: the grant type and RFC
 * error of each token request, tokens issued, refreshes refused, registrations, revocations.
 */
import type { IncomingMessage } from 'node:http';

import type { ServerEvents } from '../events.js';
import { refreshRefusalText } from '../provider/steps/token-answer.js';
import { refreshRefusalReason } from './labels.js';
import type { ServerMetrics } from './metrics.js';
import { noteRequest } from './requests.js';

/** What the listeners read of oidc-provider's request context. */
interface Context {
  readonly req: IncomingMessage;
  readonly oidc: {
    readonly params?: Readonly<Record<string, unknown>>;
    readonly client?: { metadata(): Record<string, unknown> };
    readonly entities: { readonly AccessToken?: { scope?: string }; readonly ClientCredentials?: { scope?: string } };
  };
}

const ERROR_EVENTS = [
  'authorization.error', 'grant.error', 'revocation.error', 'introspection.error', 'registration_create.error',
  'registration_update.error', 'registration_delete.error', 'registration_read.error', 'discovery.error', 'jwks.error', 'server_error',
] as const;

/**
 * Listens to `events` for the metrics; `whenStored` runs an action once the request's writes are
 * stored (a token that could not be stored was never issued).
 */
export function observeProviderEvents(events: ServerEvents, metrics: ServerMetrics, whenStored: (ctx: Context, action: () => void) => void): void {
  const ctxOf = (ctx: unknown): Context => ctx as Context;
  for (const name of ERROR_EVENTS) {
    events.on(name, (ctx, error) => {
      const { req, oidc } = ctxOf(ctx);
      noteRequest(req, { error: error.error ?? 'server_error', ...(oidc?.params?.grant_type ? { grantType: String(oidc.params.grant_type) } : {}) });
      if (name === 'grant.error' && oidc?.params?.grant_type === 'refresh_token') {
        // As the client reads it once the token answer step has restated it.
        const description = error.error === 'invalid_grant' ? refreshRefusalText(error.error_description, (error as { error_detail?: string }).error_detail) : error.error_description;
        metrics.recordRefreshRefused(refreshRefusalReason({ error: error.error, error_description: description }));
      }
      if (name.startsWith('registration_') && name !== 'registration_read.error') metrics.recordRegistration('refused', oidc?.client ? String(oidc.client.metadata().psd2_environment) : undefined);
    });
  }
  events.on('grant.success', (ctx) => {
    const { req, oidc } = ctxOf(ctx);
    const grantType = String(oidc.params?.grant_type ?? '');
    noteRequest(req, { grantType });
    const token = oidc.entities.AccessToken ?? oidc.entities.ClientCredentials;
    whenStored(ctxOf(ctx), () => metrics.recordToken({ grantType, ...(token?.scope ? { scope: token.scope } : {}) }));
  });
  for (const [name, action] of [
    ['registration_create.success', 'created'],
    ['registration_update.success', 'updated'],
    ['registration_delete.success', 'deleted'],
  ] as const) {
    events.on(name, (_ctx, client) => metrics.recordRegistration(action, String(client.metadata().psd2_environment)));
  }
  events.on('grant.revoked', () => metrics.recordRevocation('grant'));
  events.on('registration_delete.success', () => metrics.recordRevocation('client_deleted'));
}
