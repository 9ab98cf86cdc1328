import type { AnswerStep } from './step.js';

/**
 * The browser session served only this authorization: every authorization asks for a fresh
 * sign-in, and a session left behind would meet the next PSU of the same browser.
 */
export const endBrowserSession: AnswerStep = async (ctx) => {
  if (ctx.oidc?.route === 'resume' && ctx.oidc.session?.accountId) await ctx.oidc.session.destroy();
};
