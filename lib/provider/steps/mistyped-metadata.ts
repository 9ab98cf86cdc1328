import { InvalidClientMetadataError, answerWithError } from '../../errors.js';
import type { AnswerStep } from './step.js';

/**
 * oidc-provider trips over some metadata values of the wrong type (an object where a string is
 * due) before checking their type: that is the TPP's mistake, `400 invalid_client_metadata`.
 */
export const refuseMistypedMetadata: AnswerStep = (ctx, state) => {
  const route = ctx.oidc?.route;
  if (ctx.status !== 500 || !(state.serverError instanceof TypeError) || (route !== 'registration' && route !== 'client_update')) return;
  answerWithError(ctx, new InvalidClientMetadataError('a client metadata value has the wrong type'));
};
