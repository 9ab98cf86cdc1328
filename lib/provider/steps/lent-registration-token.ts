import type Provider from 'oidc-provider';

import { destroyRegistrationToken } from '../internals.js';
import type { AnswerStep } from './step.js';
import { jsonBodyOf } from './step.js';

/**
 * A management request that came with mutual TLS alone was lent a registration access token
 * (lib/http/tpp-guards.ts): it never reaches the caller, and ends with the request. Any other
 * request passes without a promise.
 */
export function returnLentRegistrationToken(provider: Provider): AnswerStep {
  return (ctx, state) => {
    const lent = state.lentRegistrationToken;
    if (!lent) return;
    const body = jsonBodyOf(ctx);
    if (body?.registration_access_token === lent) delete body.registration_access_token;
    // It expires within a minute anyway when the storage cannot be reached now.
    return destroyRegistrationToken(provider, lent);
  };
}
