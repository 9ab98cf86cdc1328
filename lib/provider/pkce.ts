/**
 * PKCE as deployed TPP clients send it (README, "Compatibility with deployed TPP clients"): S256
 * challenges and verifiers with base64 padding, and a challenge a PISP appends to the payment
 * authorization URL the bank's payment API made.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

import { inspectLoadedCodes } from './internals.js';

/** An S256 PKCE challenge: the base64url SHA-256 of the verifier, without padding (RFC 7636 §4.2). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * A verifier ending in base64 padding, otherwise of RFC 7636 §4.1 characters, 43 to 128 in all:
 * what a client encoding 32 random bytes with a padding base64url encoder (Java's
 * `Base64.getUrlEncoder()`) sends.
 */
const PADDED_VERIFIER = /^(?=.{43,128}$)[\w.~-]+={1,2}$/;

const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

/**
 * Removes the one `=` of padded base64url from an S256 `code_challenge` before oidc-provider reads
 * it (it allows no `=`): deployed clients pad theirs. Only a challenge that is then a valid S256
 * one is changed; everything else reaches oidc-provider as sent.
 */
export function withoutChallengePadding(ctx: KoaContextWithOIDC): void {
  const query = new URLSearchParams(ctx.querystring);
  const challenges = query.getAll('code_challenge');
  const methods = query.getAll('code_challenge_method');
  if (challenges.length !== 1 || methods.length !== 1 || methods[0] !== 'S256' || !challenges[0]!.endsWith('=')) return;
  const challenge = challenges[0]!.slice(0, -1);
  if (!S256_CHALLENGE.test(challenge)) return;
  query.set('code_challenge', challenge);
  ctx.querystring = query.toString();
}

/**
 * A verifier with base64 padding is hashed exactly as sent and compared with the code's challenge
 * here: oidc-provider refuses its `=` before comparing. When it matches, the code's challenge is
 * replaced, in this request only (the stored code is not changed), by the challenge of a fresh
 * random verifier, which oidc-provider is then given to check as it checks any verifier; when it
 * does not match, that fresh verifier fails the check like any wrong verifier (`invalid_grant`).
 */
export function acceptPaddedVerifiers(provider: Provider): void {
  inspectLoadedCodes(provider, (code, ctx) => {
    const params = ctx?.oidc.route === 'token' ? ctx.oidc.params as Record<string, unknown> | undefined : undefined;
    const verifier = params?.code_verifier;
    if (!params || params.grant_type !== 'authorization_code' || typeof verifier !== 'string' || !PADDED_VERIFIER.test(verifier)) return;
    const standIn = randomBytes(32).toString('base64url');
    params.code_verifier = standIn;
    const challenge = code.codeChallenge;
    if (code.codeChallengeMethod === 'S256' && typeof challenge === 'string' && challenge.length === 43
      && timingSafeEqual(Buffer.from(s256(verifier)), Buffer.from(challenge))) {
      code.codeChallenge = s256(standIn);
    }
  });
}

/**
 * The PKCE challenge a PISP appended to the payment authorization URL, when the bank's payment API
 * set none: S256 only (padding removed as for any challenge); a challenge of another method, or a
 * method without a challenge, is ignored, as every other appended parameter is.
 */
export function appendedChallenge(ctx: KoaContextWithOIDC): { code_challenge: string; code_challenge_method: 'S256' } | undefined {
  const query = new URLSearchParams(ctx.querystring);
  const methods = query.getAll('code_challenge_method');
  const challenges = query.getAll('code_challenge');
  if (methods.length !== 1 || methods[0] !== 'S256' || !challenges.length) return undefined;
  if (challenges.length !== 1 || !S256_CHALLENGE.test(challenges[0]!)) {
    throw new errors.InvalidRequest('code_challenge appended to a payment authorization URL must be one S256 challenge: 43 base64url characters, padded or not');
  }
  return { code_challenge: challenges[0]!, code_challenge_method: 'S256' };
}
