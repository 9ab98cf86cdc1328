import { BODY_LIMITS } from '../body-limits.js';
import type { ResolvedOptions } from '../options/index.js';
import { INTERACTION_PATH, PAGE_ASSETS_PATH } from '../routes.js';

import { errorResponse, htmlPage, pageRedirect, pathParameter, redirect, ref, text, tooLarge, type Schema } from './responses.js';

/** A form the pages' body parser refused: a JSON error, since no page can be told from the request. */
const unparsedForm = (status: 400 | 413 | 415) => errorResponse(
  status === 413 ? 'The form is too large or has too many fields.' : status === 415 ? 'The form has an unsupported charset or content encoding.' : 'The form could not be read (e.g. a broken content encoding).',
  { invalid_request: 'the request could not be understood' },
);
const invalidFormJson = (unparsedForm(400).content as Record<string, unknown>)['application/json'];

/** A form of the PSU pages: `csrf` and the fields of the step. */
const pagePost = (name: string, description: string): Schema => ({
  post: {
    tags: ['PSU pages'],
    summary: name,
    description,
    operationId: `page${name.replace(/[^A-Za-z]/g, '')}`,
    security: [],
    parameters: [pathParameter('uid')],
    requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', required: ['csrf'], properties: { csrf: text } } } } },
    responses: {
      200: htmlPage('The step again, with the error.'),
      303: pageRedirect('The next step, or back to the TPP through the authorization endpoint.'),
      400: {
        description: 'Invalid input, or the authorization expired: a page. A form that could not be read: a JSON error.',
        content: { 'text/html': { schema: text }, 'application/json': invalidFormJson },
      },
      401: htmlPage('Sign-in failed.'),
      403: htmlPage('The form was posted without its CSRF token or from another origin; or the payment is to be debited from an account the PSU does not hold (only rejecting remains).'),
      404: htmlPage('No such page.'),
      413: {
        description: `The form is larger than ${BODY_LIMITS.pageForm / 1024} KiB (refused before it is read): a page. A form with too many fields: a JSON error.`,
        content: { 'text/html': { schema: text }, 'application/json': (unparsedForm(413).content as Record<string, unknown>)['application/json'] },
      },
      415: unparsedForm(415),
      429: htmlPage('Too many sign-in attempts.'),
      503: htmlPage('The token store is unavailable.'),
    },
  },
});

/** The PSU pages: each step, the forms posted to it, and oidc-provider's session confirmation. */
export function interactionPaths(options: ResolvedOptions): Record<string, unknown> {
  return {
    [`${INTERACTION_PATH}/{uid}`]: {
      get: {
        tags: ['PSU pages'],
        summary: 'The current step of the PSU pages',
        operationId: 'page',
        security: [],
        parameters: [pathParameter('uid'), { name: 'lang', in: 'query', required: false, schema: { enum: [...options.pages.languages] } }],
        responses: {
          200: htmlPage('Sign-in, second factor, consent, or the payment to confirm.'),
          303: pageRedirect('The PSU already decided: on to the TPP.'),
          400: htmlPage('The authorization expired or is unknown.'),
          503: htmlPage('The token store is unavailable.'),
        },
      },
    },
    [`${PAGE_ASSETS_PATH}/{hash}.css`]: {
      get: {
        tags: ['PSU pages'],
        summary: 'A stylesheet of the PSU pages',
        description: 'The pages\' own stylesheet, or the bank\'s (`pages.stylesheet`), named by a hash of its text: the pages link to them. Answers `HEAD` too.',
        operationId: 'pageStylesheet',
        security: [],
        parameters: [{ name: 'hash', in: 'path', required: true, description: 'A hash of the stylesheet\'s text, in hexadecimal.', schema: { type: 'string', pattern: '^[0-9a-f]+$' } }],
        responses: {
          200: {
            description: 'The stylesheet, to keep for good: another text has another name.',
            headers: { 'Cache-Control': { description: '`public, max-age=31536000, immutable`', required: true, schema: { type: 'string', const: 'public, max-age=31536000, immutable' } } },
            content: { 'text/css': { schema: text } },
          },
          404: htmlPage('No such stylesheet.'),
        },
      },
    },
    [`${INTERACTION_PATH}/{uid}/signin`]: pagePost('Sign in', 'Sandbox: `psu`; bank: `login`, `password`.'),
    [`${INTERACTION_PATH}/{uid}/second-factor`]: pagePost('Second factor', '`code`: the one-time code.'),
    [`${INTERACTION_PATH}/{uid}/consent`]: pagePost('Consent', '`decision` (`grant` or `refuse`) and `accounts` (ids, repeated). For a payment, `decision` alone: `grant` confirms it, `refuse` rejects it.'),
    [`${INTERACTION_PATH}/{uid}/cancel`]: pagePost('Cancel', 'Back to the TPP with `access_denied` (a payment is rejected).'),
    '/session/end/confirm': {
      post: {
        tags: ['PSU pages'],
        summary: 'Browser session confirmation of oidc-provider',
        description: 'Confirms ending a browser session when another PSU signs in in the same browser meanwhile; the server ends sessions after each authorization, so PSUs rarely meet it.',
        operationId: 'endSessionConfirm',
        security: [],
        responses: { 303: redirect('On to the authorization.'), 400: { description: 'Invalid request.', content: { 'application/json': { schema: ref('Error') }, 'text/html': { schema: text } } }, 413: tooLarge(BODY_LIMITS.form) },
      },
    },
  };
}
