/**
 * The events a host can listen to, in the product's own types: oidc-provider emits them (with its
 * request context first), and the public declarations name no oidc-provider or Koa type, so that
 * a bank's project type-checks without either's type packages.
 */

/** The request an event is about: a few facts of oidc-provider's request context. */
export interface EventContext {
  readonly method: string;
  readonly path: string;
  /** oidc-provider's per-request facts (route, client, entities); shape owned by oidc-provider. */
  readonly oidc?: { readonly route?: string; readonly client?: { readonly clientId: string } };
}

/** A client as the registration events give it. */
export interface RegisteredClient {
  readonly clientId: string;
  /** Its metadata (RFC 7591 names, and `provider_legal_id`, `psd2_environment`). */
  metadata(): Record<string, unknown>;
}

/** An error as the `*.error` events give it: the RFC error code and its description. */
export interface EventError extends Error {
  readonly error?: string;
  readonly error_description?: string;
  readonly status?: number;
}

/** A stored code or token as the `*.saved`, `*.destroyed` and `*.consumed` events give it. */
export interface StoredToken {
  readonly jti: string;
  readonly kind: string;
  readonly clientId?: string;
  readonly grantId?: string;
  readonly scope?: string;
}

type TokenModel = 'access_token' | 'authorization_code' | 'refresh_token' | 'client_credentials' | 'grant';

/** Each event and what its listener receives. */
export type ServerEventMap = {
  [E in 'registration_create.success' | 'registration_update.success' | 'registration_delete.success']: [ctx: EventContext, client: RegisteredClient];
} & {
  [E in 'grant.success' | 'authorization.accepted' | 'interaction.ended']: [ctx: EventContext];
} & {
  [E in `${'authorization' | 'grant' | 'revocation' | 'introspection' | 'registration_create' | 'registration_update' | 'registration_delete' | 'registration_read' | 'discovery' | 'jwks'}.error` | 'server_error']: [ctx: EventContext, error: EventError];
} & {
  'grant.revoked': [ctx: EventContext, grantId: string];
} & {
  [E in `${TokenModel}.${'saved' | 'destroyed' | 'consumed'}`]: [token: StoredToken];
};

/** The server's event emitter (oidc-provider's), for the events of {@link ServerEventMap}. */
export interface ServerEvents {
  on<E extends keyof ServerEventMap>(event: E, listener: (...args: ServerEventMap[E]) => void): this;
  once<E extends keyof ServerEventMap>(event: E, listener: (...args: ServerEventMap[E]) => void): this;
  off<E extends keyof ServerEventMap>(event: E, listener: (...args: ServerEventMap[E]) => void): this;
}
