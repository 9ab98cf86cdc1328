/**
 * Shared helpers of the registration (RFC 7591) and management (RFC 7592) tests.
 */
import { createPublicKey } from 'node:crypto';

import { expect } from 'chai';
import type { Response } from 'supertest';

import { MemoryStorage } from '../../adapters/memory.js';
import type { TppCredentials } from '../support/pki.js';
import { sandboxTpp } from '../support/pki.js';
import type { TestServer } from '../support/server.js';

/** Fields the server answers with besides the client metadata (RFC 7591 §3.2.1, RFC 7592 §3). */
export const REGISTRATION_RESPONSE_ONLY = ['registration_client_uri', 'registration_access_token', 'client_id_issued_at', 'client_secret_expires_at'] as const;

/** A minimal valid AISP registration body. */
export function aispBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { redirect_uris: ['https://tpp.example/callback'], client_name: 'Acme AIS', scope: 'aisp', ...overrides };
}

/** The public JWK of a certificate, with `x5c` carrying the certificate itself (DESIGN 3.5). */
export function jwkWithX5c(credentials: TppCredentials): Record<string, unknown> {
  const jwk = createPublicKey(credentials.certPem).export({ format: 'jwk' }) as Record<string, unknown>;
  return { ...jwk, use: 'sig', alg: 'ES256', kid: 'qseal-1', x5c: [credentials.der.toString('base64')] };
}

/** A QSealC of the same TPP as `options` describe (QcType eseal), for `jwks.keys[].x5c`. */
export function qsealc(options: Parameters<typeof sandboxTpp>[0] = {}): Promise<TppCredentials> {
  return sandboxTpp({ ...options, qcType: 'eseal' });
}

/** The registration body the way deployed TPP clients send it (DESIGN 3.5). */
export function deployedTppBody(jwk: Record<string, unknown>): Record<string, unknown> {
  return {
    redirect_uris: ['https://tpp.example/oauth/callback'],
    token_endpoint_auth_method: 'tls_client_auth',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    client_name: 'Acme Account Information',
    scope: 'aisp extended_transaction_history',
    contacts: ['psd2-ops@tpp.example'],
    jwks: { keys: [jwk] },
  };
}

/** The path of a registration_client_uri (the tests talk to the server by path). */
export function pathOf(uri: unknown): string {
  expect(uri).to.be.a('string');
  return new URL(uri as string).pathname;
}

export interface Registered {
  readonly clientId: string;
  readonly path: string;
  readonly token: string;
  readonly body: Record<string, unknown>;
}

/** Registers a client with `tpp` and expects 201. */
export async function register(server: TestServer, tpp: TppCredentials, body: Record<string, unknown> = aispBody()): Promise<Registered> {
  const res = await server.request(tpp).post('/oauth2/register').send(body);
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  const created = res.body as Record<string, unknown>;
  return {
    clientId: String(created.client_id),
    path: pathOf(created.registration_client_uri),
    token: String(created.registration_access_token),
    body: created,
  };
}

/** Expects an RFC-shaped JSON error: `status`, `error`, and an `error_description` matching `description`. */
export function expectError(res: Response, status: number, error: string, description?: RegExp): void {
  expect(res.status, `${res.status} ${res.text}`).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  expect(res.body).to.be.an('object');
  expect(res.body.error, res.text).to.equal(error);
  expect(res.body.error_description).to.be.a('string').and.not.equal('');
  if (description) expect(res.body.error_description).to.match(description);
}

/** The metadata a PUT sends back: everything registered, minus the fields RFC 7592 §2.2 forbids. */
export function fullMetadata(registered: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = { ...registered };
  for (const field of REGISTRATION_RESPONSE_ONLY) delete body[field];
  return body;
}

/** The storage of a test server, typed as the in-memory storage the tests pass in. */
export function memoryOf(server: TestServer): MemoryStorage {
  const { storage } = server.auth;
  expect(storage).to.be.instanceOf(MemoryStorage);
  return storage as MemoryStorage;
}

/**
 * Records the ids of every registration access token written to storage, so that a test can check
 * that the temporary ones used for mutual-TLS-only management calls are gone afterwards.
 */
export function watchRegistrationAccessTokens(storage: MemoryStorage): { readonly ids: string[]; stop(): void } {
  const adapter = storage.adapterFor('RegistrationAccessToken');
  const original = adapter.upsert.bind(adapter);
  const ids: string[] = [];
  adapter.upsert = async (id, payload, expiresIn) => {
    ids.push(id);
    return original(id, payload, expiresIn);
  };
  return {
    ids,
    stop: () => {
      adapter.upsert = original;
    },
  };
}
