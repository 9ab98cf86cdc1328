import { registrationAnswer } from '../../registration/answer.js';
import type { AnswerStep } from './step.js';
import { jsonBodyOf } from './step.js';

/** oidc-provider's registration, read and update routes, whose answers keep the reference bank's shape. */
const REGISTRATION_ANSWERS = new Set(['registration', 'client', 'client_update']);

/** The registration answer in the reference bank's shape (lib/registration/answer.ts). */
export const shapeRegistrationAnswer: AnswerStep = (ctx) => {
  const body = jsonBodyOf(ctx);
  if (body && ctx.status < 300 && REGISTRATION_ANSWERS.has(String(ctx.oidc?.route))) ctx.body = registrationAnswer(body);
};
