/**
 * The PKCE of a deployed TPP agent: its verifier is Java's `Base64.getUrlEncoder()` of 32 random
 * bytes (44 characters, one `=`), its challenge the same encoder's SHA-256 of the verifier; and
 * its code exchange, written as it writes it.
 */
import { createHash, randomBytes } from 'node:crypto';

import { REDIRECT_URI, type TestClient } from '../authorization/helpers.js';
import type { TestServer } from '../support/server.js';

/** Java's `Base64.getUrlEncoder()`: base64url with its padding. */
const paddedBase64Url = (bytes: Buffer): string => bytes.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

export interface PaddedPkce {
  /** 44 characters ending in `=`. */
  readonly verifier: string;
  /** 44 characters ending in `=`. */
  readonly challenge: string;
}

export function paddedPkce(): PaddedPkce {
  const verifier = paddedBase64Url(randomBytes(32));
  return { verifier, challenge: paddedBase64Url(createHash('sha256').update(verifier, 'ascii').digest()) };
}

/** A value in a query or form as the agent writes it: `=` as `%3D`. */
export const agentEncoded = (value: string): string => value.replace(/=/g, '%3D');

/** The agent's code exchange, byte for byte: a form whose verifier's `=` is `%3D`. */
export function agentExchange(server: TestServer, client: TestClient, code: string, verifier: string) {
  const body = `grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`
    + `&code_verifier=${encodeURIComponent(verifier)}&client_id=${encodeURIComponent(client.clientId)}`;
  return server.request(client.tpp).post('/oauth2/token').set('Content-Type', 'application/x-www-form-urlencoded').send(body);
}
