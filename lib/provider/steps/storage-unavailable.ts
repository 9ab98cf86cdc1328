import { StorageUnavailableError, answerWithError, isUnavailable } from '../../errors.js';
import type { AnswerStep } from './step.js';
import { jsonBodyOf } from './step.js';

/**
 * The storage did not answer: API callers get `503 temporarily_unavailable` (RFC 6749 §4.1.2.1's
 * code, with Retry-After), and a PSU already on its way back to the TPP carries that code.
 */
export const reportStorageUnavailable: AnswerStep = (ctx, state) => {
  if (!isUnavailable(state.serverError)) return undefined;
  const unavailable = new StorageUnavailableError('storage');
  const location = ctx.response.get('location');
  if (location && ctx.status >= 300 && ctx.status < 400) {
    const url = new URL(location);
    for (const params of [url.searchParams, new URLSearchParams(url.hash.slice(1))]) {
      if (params.get('error') !== 'server_error') continue;
      params.set('error', unavailable.error);
      params.set('error_description', unavailable.error_description);
      if (params !== url.searchParams) url.hash = params.toString();
    }
    ctx.redirect(url.href);
  } else if (jsonBodyOf(ctx)?.error === 'server_error') {
    answerWithError(ctx, unavailable);
  }
  return 'final';
};
