import { NotFoundError, answerWithError } from '../../errors.js';
import type { AnswerStep } from './step.js';

/** A path oidc-provider does not serve: the JSON 404 of every other API error. */
export function answerNotFound(mountPath: string): AnswerStep {
  return (ctx) => {
    if (ctx.status === 404 && !ctx.body) answerWithError(ctx, new NotFoundError(`there is no endpoint at ${ctx.method} ${mountPath}${ctx.path}`));
  };
}
