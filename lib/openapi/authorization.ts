import type { ResolvedOptions } from '../options/index.js';
import { AUTHORIZATION_PARAMETER_LIMITS } from '../parameter-limits.js';
import { AUTHORIZATION_SCOPE_SETS } from '../psd2/authorization.js';
import { ROUTES } from '../routes.js';

import { htmlPage, NOT_FOUND, pathParameter, redirect, text, type Schema } from './responses.js';

// A payment authorization arrives as client_id and request_uri alone: the other parameters are
// in the request the bank's payment API pushed.
const UNLESS_PAYMENT = 'Required, except in a payment authorization (`request_uri`).';
const AUTHORIZATION_PARAMETERS: readonly Schema[] = [
  { name: 'response_type', in: 'query', required: false, description: UNLESS_PAYMENT, schema: { const: 'code' } },
  { name: 'client_id', in: 'query', required: true, schema: text },
  {
    name: 'request_uri',
    in: 'query',
    required: false,
    description: 'A payment initiation or cancellation opened by the bank\'s payment API (RFC 9126 request URI, RFC 9396 `authorization_details`): the PSU arrives with `client_id` and `request_uri` only, at the URL the payment API gave the PISP. Usable once, until it expires; otherwise the PSU goes back to the PISP with `invalid_request_uri`. A TPP cannot push requests itself, nor send `authorization_details`. When the payment API set no `code_challenge`, a PISP may append its own `code_challenge` with `code_challenge_method=S256` to the URL (padded or not; a malformed one is refused with `invalid_request`); every other parameter appended is ignored.',
    schema: { type: 'string', pattern: '^urn:ietf:params:oauth:request_uri:', examples: ['urn:ietf:params:oauth:request_uri:gqrkWF0ES8vNAiZPjBdmnZbJc_l2rfzs89rkMDdpPgh'] },
  },
  { name: 'redirect_uri', in: 'query', required: false, description: 'As registered (may be omitted when the client has one).', schema: { type: 'string', format: 'uri' } },
  { name: 'scope', in: 'query', required: false, description: `Exactly one of the scope sets, within the client's roles. ${UNLESS_PAYMENT} \`pisp\` is granted only in a payment authorization.`, schema: { enum: [...AUTHORIZATION_SCOPE_SETS] } },
  { name: 'state', in: 'query', required: false, description: `Returned unchanged. At most ${AUTHORIZATION_PARAMETER_LIMITS.state} characters: a longer state is refused with \`invalid_request\` and not returned.`, schema: { type: 'string', maxLength: AUTHORIZATION_PARAMETER_LIMITS.state } },
  { name: 'code_challenge', in: 'query', required: false, description: `PKCE (RFC 7636), 43–128 characters. An S256 challenge may end in the one \`=\` of padded base64url (44 characters), which is removed. ${UNLESS_PAYMENT}`, schema: { type: 'string', minLength: 43, maxLength: AUTHORIZATION_PARAMETER_LIMITS.code_challenge } },
  { name: 'code_challenge_method', in: 'query', required: false, description: UNLESS_PAYMENT, schema: { const: 'S256' } },
  { name: 'ui_locales', in: 'query', required: false, description: 'Preferred languages of the PSU pages.', schema: { type: 'string', maxLength: AUTHORIZATION_PARAMETER_LIMITS.ui_locales } },
  { name: 'login_hint', in: 'query', required: false, description: 'Not used by the pages; bounded like every free parameter.', schema: { type: 'string', maxLength: AUTHORIZATION_PARAMETER_LIMITS.login_hint } },
  { name: 'prompt', in: 'query', required: false, description: '`none` is answered with `login_required`: every authorization needs the PSU.', schema: text },
  { name: 'response_mode', in: 'query', required: false, schema: { enum: ['query', 'fragment', 'form_post'] } },
];

/** How the authorization endpoint and the return from the PSU pages answer. */
export const AUTHORIZATION_RESPONSES = {
  200: htmlPage('`response_mode=form_post`: a page posting the response to the redirect URI.'),
  302: redirect(`Back to the TPP with \`error\`, \`error_description\`, \`state\` and \`iss\` (RFC 6749 §4.1.2.1): invalid_request (among others a parameter longer than its limit: state ${AUTHORIZATION_PARAMETER_LIMITS.state} characters, code_challenge ${AUTHORIZATION_PARAMETER_LIMITS.code_challenge}, scope, ui_locales and login_hint ${AUTHORIZATION_PARAMETER_LIMITS.login_hint}; an over-long state is not returned), invalid_target (a \`resource\` parameter: only payment authorizations have one, set by the server), invalid_scope, unsupported_response_type, unauthorized_client, login_required, access_denied (refused, cancelled, a payment rejected or expired), invalid_request_uri (a payment authorization link used twice, expired, decided or unknown), invalid_authorization_details (\`authorization_details\` the bank's payment API did not register), server_error, temporarily_unavailable. A confirmed payment goes back with \`code\`, \`state\` and \`iss\`.`),
  303: redirect('To the PSU pages (`/interaction/{uid}`), or back to the TPP as for 302.'),
  400: htmlPage('The client or redirect URI is not valid: a page in the PSU\'s language; nobody is redirected.'),
  431: { description: 'The request line and headers exceed the HTTP server\'s limit (16 KB in Node by default): its own answer, without a body.' },
  503: htmlPage('The token store is unavailable: a page asking to try again.'),
};

const authorizationOperation = (summary: string, description: string, extra: Schema[] = []): Schema => ({
  tags: ['Authorization'],
  summary,
  description,
  security: [],
  parameters: [...extra, ...AUTHORIZATION_PARAMETERS],
  responses: AUTHORIZATION_RESPONSES,
});

/**
 * The `{lang}` of an entry path: a language tag, as entryPattern (routes.ts) matches it; anything
 * else is no page at all (404).
 */
function langParameter(options: ResolvedOptions): Schema {
  const languages = [...options.pages.languages];
  return { name: 'lang', in: 'path', required: true, description: `Language of the pages (${languages.join(', ')}); any other language tag falls back to ${options.pages.defaultLanguage}.`, schema: { type: 'string', pattern: '^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$', examples: languages } };
}

/** The entry pages of the environments: where TPPs send PSUs, at the paths the options set. */
function entryPaths(options: ResolvedOptions): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [environment, pages] of [['sandbox', options.sandbox], ['bank', options.bank]] as const) {
    if (!pages) continue;
    const hasLang = pages.entryPath.includes('{lang}');
    paths[pages.entryPath] = {
      get: {
        ...authorizationOperation(
          `${environment === 'sandbox' ? 'Sandbox' : 'Bank'} sign-in page`,
          environment === 'sandbox'
            ? 'The authorization endpoint for sandbox clients: a simulated PSU grants or refuses access, or confirms or rejects a payment. Payment authorizations arrive here as `client_id` and `request_uri`, in the URL the bank\'s payment API returned.'
            : 'The authorization endpoint for bank clients: the PSU signs in with the bank and grants access to accounts, or confirms or rejects a payment. Payment authorizations arrive here as `client_id` and `request_uri`, in the URL the bank\'s payment API returned.',
          hasLang ? [langParameter(options)] : [],
        ),
        operationId: `${environment}Authorization`,
        ...(hasLang ? { responses: { ...AUTHORIZATION_RESPONSES, 404: NOT_FOUND } } : {}),
      },
    };
  }
  return paths;
}

/** The authorization endpoint, the entry pages, and the return from the PSU pages. */
export function authorizationPaths(options: ResolvedOptions): Record<string, unknown> {
  return {
    [ROUTES.authorization]: { get: { ...authorizationOperation('Authorization endpoint (RFC 6749 §4.1.1)', 'Sends the PSU to the sign-in page of the client\'s environment. Payment authorizations arrive at the entry pages as `client_id` and `request_uri` (here too).'), operationId: 'authorize' } },
    ...entryPaths(options),
    [`${ROUTES.authorization}/{uid}`]: {
      get: {
        tags: ['PSU pages'],
        summary: 'Return from the PSU pages',
        description: 'Where the pages send the browser once the PSU decided; answers like the authorization endpoint.',
        operationId: 'resume',
        security: [],
        parameters: [pathParameter('uid')],
        responses: AUTHORIZATION_RESPONSES,
      },
    },
  };
}
