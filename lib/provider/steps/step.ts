import type { KoaContextWithOIDC } from 'oidc-provider';

import type { RequestState } from '../request-state.js';

/**
 * One change the server makes to oidc-provider's answer once oidc-provider has made it. Steps run
 * in the order {@link ./index.ts} lists them; a step answering `'final'` ends the list.
 */
export type AnswerStep = (ctx: KoaContextWithOIDC, state: RequestState) => Promise<void | 'final'> | void | 'final';

/** Whether the answer's body is a JSON object oidc-provider made. */
export function jsonBodyOf(ctx: KoaContextWithOIDC): Record<string, unknown> | undefined {
  const { body } = ctx;
  return body && typeof body === 'object' && !Buffer.isBuffer(body) ? body as Record<string, unknown> : undefined;
}
