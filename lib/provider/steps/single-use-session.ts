import type { AnswerStep } from './step.js';

/**
 * The browser session served only this authorization: every authorization asks for a fresh
 * sign-in, and a session left behind would meet the next PSU of the same browser. Every other
 * answer passes without a promise.
 */
export const endBrowserSession: AnswerStep = (ctx) => {
  if (ctx.oidc?.route === 'resume' && ctx.oidc.session?.accountId) return ctx.oidc.session.destroy();
};
