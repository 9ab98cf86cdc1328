import type { IncomingMessage } from 'node:http';

import type { EnvironmentName } from '../certificates/identity.js';

/** How an authorization request reached the server when it came through an entry page alias. */
export interface EntryPage {
  readonly environment: EnvironmentName;
  /** The `{lang}` segment of the entry URL, when its path has one. */
  readonly language: string | undefined;
}

/** An oidc-provider error as its events report it. */
export interface ProviderError extends Error {
  error?: string;
  error_description?: string;
  error_detail?: string;
  status?: number;
}

/**
 * What the server learns about one request on its way through the Express glue, oidc-provider and
 * its events, for the steps that shape the answer. One record per request, gone with the request.
 */
export interface RequestState {
  /** The entry page alias the request came through. */
  entry?: EntryPage;
  /** A registration access token lent to a management request that came with mutual TLS alone. */
  lentRegistrationToken?: string;
  /** The token endpoint's refusal, as oidc-provider raised it (its `grant.error` event). */
  grantError?: ProviderError;
  /** The error behind an oidc-provider `server_error` answer. */
  serverError?: unknown;
  /** Whether an authorization request's over-long `state` was taken out (lib/provider/middleware.ts). */
  oversizedState?: boolean;
  /** What the request does once its writes are stored (audit lines of what it issued). */
  onceStored?: (() => void)[];
}

/**
 * Kept on the request under a symbol of this module's, not in a WeakMap, whose every entry for a
 * new request costs several times as much to write.
 */
const STATE = Symbol('request state');

/** The state of `req`, made on first use. */
export function stateOf(req: IncomingMessage): RequestState {
  return (req as IncomingMessage & { [STATE]?: RequestState })[STATE] ??= {};
}
