/**
 * Longest values, in characters, of the authorization request parameters that carry free text.
 * Anyone holding a link can send them, before any authentication, and oidc-provider keeps every
 * recognised parameter with the interaction: without limits only Node's header limit (16 KB)
 * bounds what one request makes the server store. `client_id`, `redirect_uri` and `request_uri`
 * need no limit of their own: each must equal a value the server issued or registered.
 */
export const AUTHORIZATION_PARAMETER_LIMITS = {
  /** Returned unchanged to the TPP; 2,048 fits the signed or encrypted states real clients send. */
  state: 2048,
  /** RFC 7636 §4.1–4.2: a verifier, and so a plain challenge, is 43 to 128 characters. */
  code_challenge: 128,
  code_challenge_method: 16,
  nonce: 256,
  ui_locales: 256,
  claims_locales: 256,
  login_hint: 256,
  acr_values: 256,
  id_token_hint: 2048,
  scope: 256,
  prompt: 64,
  response_type: 64,
  response_mode: 32,
  display: 32,
  max_age: 16,
} as const;

export type BoundedParameter = keyof typeof AUTHORIZATION_PARAMETER_LIMITS;

const BOUNDED = Object.entries(AUTHORIZATION_PARAMETER_LIMITS) as [BoundedParameter, number][];

/** Whether a `state` parameter is too long to be stored or returned to the TPP. */
export function stateTooLong(value: unknown): boolean {
  return typeof value === 'string' && value.length > AUTHORIZATION_PARAMETER_LIMITS.state;
}

/** The first bounded parameter of `params` longer than its limit, with that limit. */
export function oversizedParameter(params: Readonly<Record<string, unknown>>): { name: BoundedParameter; limit: number } | undefined {
  for (const [name, limit] of BOUNDED) {
    const value = params[name];
    if (typeof value === 'string' && value.length > limit) return { name, limit };
  }
  return undefined;
}
