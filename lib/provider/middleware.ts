/**
 * The server's Koa middleware inside oidc-provider: what every request meets before oidc-provider
 * reads it, and how its answer leaves once oidc-provider made it.
 */
import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';

import { NotFoundError, StorageUnavailableError, answerWithError, isUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import { stateTooLong } from '../parameter-limits.js';
import { ROUTES } from '../routes.js';
import type { Storage } from '../storage.js';
import { withoutChallengePadding } from './pkce.js';
import { stateOf } from './request-state.js';
import { isThenable, returnLentRegistrationToken, runSteps, type AnswerStep } from './steps/index.js';

/**
 * Takes an over-long `state` out of an authorization request before oidc-provider reads it, so
 * that no answer carries it back: returned in the redirect, a state of up to Node's 16 KB header
 * limit would make a Location header that proxies and the TPP's own server may refuse. Whether
 * the request had one is remembered, and it is refused with `invalid_request`.
 */
function withoutOversizedState(ctx: KoaContextWithOIDC): boolean {
  const query = new URLSearchParams(ctx.querystring);
  if (!query.getAll('state').some(stateTooLong)) return false;
  query.delete('state');
  ctx.querystring = query.toString();
  return true;
}

/**
 * First of the server's Koa middleware: no CORS on any endpoint (oidc-provider answers preflight
 * requests and adds Access-Control-Allow-Origin for any origin to its token, revocation, discovery
 * and key set answers), and the authorization query made readable for oidc-provider.
 */
export function requestMiddleware(mountPath: string) {
  return async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> => {
    if (ctx.method === 'OPTIONS') {
      answerWithError(ctx, new NotFoundError(`there is no endpoint at ${ctx.method} ${mountPath}${ctx.path}`));
      return;
    }
    if (ctx.path === ROUTES.authorization) {
      if (withoutOversizedState(ctx)) stateOf(ctx.req).oversizedState = true;
      withoutChallengePadding(ctx);
    }
    try {
      await next();
    } finally {
      // Node's names of the headers set, lower case, without copying their values.
      for (const header of ctx.res.getHeaderNames()) {
        if (header.startsWith('access-control-')) ctx.remove(header);
      }
    }
  };
}

export interface AnswerParts {
  readonly provider: Provider;
  readonly storage: Storage;
  readonly logger: Logger;
  readonly steps: readonly AnswerStep[];
  /** The page a PSU's browser gets when the storage cannot be reached during an authorization. */
  renderUnavailablePage(ctx: KoaContextWithOIDC, error: unknown): Promise<void>;
}

/**
 * One request through oidc-provider: its writes go out together, its answer goes through the
 * steps, and leaves once all the writes are stored; then what waited for them (audit lines) runs.
 */
export function answerMiddleware(parts: AnswerParts) {
  const returnLentToken = returnLentRegistrationToken(parts.provider);
  const handle = async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> => {
    const state = stateOf(ctx.req);
    try {
      await next();
    } finally {
      // Awaited only when there is something to wait for: each await costs a microtask turn.
      const returning = returnLentToken(ctx, state);
      if (isThenable(returning)) await returning;
    }
    const running = runSteps(parts.steps, ctx, state);
    if (running) await running;
  };
  const { storage, logger } = parts;
  return async (ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> => {
    const onceStored: (() => void)[] = [];
    stateOf(ctx.req).onceStored = onceStored;
    try {
      await (storage.batch ? storage.batch(() => handle(ctx, next)) : handle(ctx, next));
      for (const action of onceStored) action();
    } catch (error) {
      // oidc-provider saves the session after its own error handling, and a pipelined write fails
      // after the answer is made: such storage failures reach this far.
      if (!isUnavailable(error)) throw error;
      logger.error({ err: error, event: 'storage.unavailable', path: ctx.path }, 'the storage could not be reached');
      ctx.remove('Location');
      if (ctx.oidc?.route === 'authorization' || ctx.oidc?.route === 'resume') await parts.renderUnavailablePage(ctx, error);
      else answerWithError(ctx, new StorageUnavailableError('storage'));
    }
  };
}
