/**
 * The token endpoint's authorization_code grant (RFC 6749 §4.1.3, RFC 7636, RFC 8705): a TPP
 * exchanges the code over mutual TLS (`tls_client_auth`) and gets a certificate-bound access
 * token, a refresh token for account access, and RFC 6749 §5.2 JSON errors otherwise.
 */
import { createHash } from 'node:crypto';

import { expect } from 'chai';
import fc from 'fast-check';
import type { Response } from 'supertest';

import { MemoryStorage } from '../../adapters/memory.js';
import { bankTpp, sandboxTpp, type TppCredentials } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';
import { expectError, memoryOf } from '../registration/helpers.js';
import {
  bankAuthorization,
  exchangeCode,
  pkce,
  redirectParams,
  REDIRECT_URI,
  registerClient,
  sandboxAuthorization,
  type Pkce,
  type TestClient,
} from './helpers.js';
import { LEAK } from '../support/leak.js';

type Environment = 'sandbox' | 'bank';

/** `x5t#S256` of a certificate: base64url SHA-256 of its DER (RFC 8705 §3.1). */
function thumbprint(tpp: TppCredentials): string {
  return createHash('sha256').update(tpp.der).digest('base64url');
}

/** Posts a form to the token endpoint with `tpp`'s certificate (or none), dropping undefined fields. */
function tokenRequest(server: TestServer, tpp: TppCredentials | undefined, fields: Record<string, string | undefined>) {
  const form: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form[name] = value;
  return server.request(tpp).post('/oauth2/token').type('form').send(form);
}

/** A refusal of the token endpoint: RFC 6749 §5.2 JSON, and no token of any kind. */
function expectRefusal(res: Response, status: number | readonly number[], error: string | readonly string[]): void {
  const statuses = typeof status === 'number' ? [status] : status;
  const errors = typeof error === 'string' ? [error] : error;
  expect(statuses, `${res.status} ${res.text}`).to.include(res.status);
  expect(errors, res.text).to.include((res.body as Record<string, unknown>)?.error);
  expectError(res, res.status, String((res.body as Record<string, unknown>).error));
  expect(res.body).not.to.have.any.keys('access_token', 'refresh_token', 'id_token', 'token_type');
}

interface Issued {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly body: Record<string, unknown>;
}

/** Expects a successful token response and returns its tokens. */
function expectTokens(res: Response): Issued {
  expect(res.status, res.text).to.equal(200);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  expect(res.headers['cache-control'], 'RFC 6749 §5.1: Cache-Control: no-store').to.match(/\bno-store\b/);
  const body = res.body as Record<string, unknown>;
  expect(body.access_token).to.be.a('string').and.not.equal('');
  expect(String(body.token_type).toLowerCase(), 'token_type').to.equal('bearer');
  expect(body.expires_in).to.be.a('number').above(0);
  expect(body, 'a pure OAuth 2 server issues no id_token').not.to.have.property('id_token');
  return {
    accessToken: String(body.access_token),
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    body,
  };
}

function scopeWords(scope: unknown): string[] {
  expect(scope).to.be.a('string');
  return String(scope).split(' ').filter(Boolean).sort();
}

describe('token endpoint: authorization_code grant (tls_client_auth, PKCE, certificate-bound tokens)', function () {
  this.timeout(60_000);

  let server: TestServer;

  before(async () => {
    server = await startServer({ options: { storage: new MemoryStorage() } });
  });
  after(() => server.close());

  const authorize = (client: TestClient, options: { params?: Record<string, string | undefined>; pair?: Pkce } = {}) => (
    client.environment === 'sandbox' ? sandboxAuthorization(server, client, options) : bankAuthorization(server, client, options)
  );

  /** A whole authorization of `client`; returns the code and what was sent with it. */
  async function codeFor(client: TestClient, options: { params?: Record<string, string | undefined>; pair?: Pkce } = {}) {
    const { location, params, pair } = await authorize(client, options);
    const response = redirectParams(location);
    expect(response.get('error'), location).to.equal(null);
    expect(response.get('state')).to.equal(params.state);
    const code = response.get('code');
    expect(code, location).to.be.a('string').and.not.equal('');
    return { code: code!, pair, params };
  }

  const tpps: Record<Environment, (options: Parameters<typeof sandboxTpp>[0]) => Promise<TppCredentials>> = { sandbox: sandboxTpp, bank: bankTpp };

  for (const environment of ['sandbox', 'bank'] as const) {
    describe(`${environment} client`, () => {
      let client: TestClient;

      before(async () => {
        client = await registerClient(server, {
          environment,
          tpp: await tpps[environment]({ roles: ['PSP_AI'], organization: `Code Grant ${environment} AIS` }),
        });
      });

      it('exchanges the code for a Bearer access token bound to the client certificate, and a refresh token for aisp', async () => {
        const { code, pair } = await codeFor(client);
        const res = await exchangeCode(server, client, code, pair);
        const issued = expectTokens(res);
        expect(scopeWords(issued.body.scope)).to.deep.equal(['aisp']);
        expect(issued.refreshToken, 'aisp gets a refresh token').to.be.a('string').and.not.equal('');

        const stored = await server.auth.provider.AccessToken.find(issued.accessToken);
        expect(stored, 'the access token is stored').not.to.equal(undefined);
        const record = stored as unknown as Record<string, unknown>;
        expect(record.clientId).to.equal(client.clientId);
        expect(record['x5t#S256'], 'cnf.x5t#S256 of the access token').to.equal(thumbprint(client.tpp));
        expect(record.scope).to.equal('aisp');
        expect(await server.auth.provider.RefreshToken.find(issued.refreshToken!), 'the refresh token is stored').not.to.equal(undefined);
      });

      it('answers "aisp extended_transaction_history" with both scopes, and a refresh token', async () => {
        const { code, pair } = await codeFor(client, { params: { scope: 'aisp extended_transaction_history' } });
        const issued = expectTokens(await exchangeCode(server, client, code, pair));
        expect(scopeWords(issued.body.scope)).to.deep.equal(['aisp', 'extended_transaction_history']);
        expect(issued.refreshToken).to.be.a('string').and.not.equal('');
        const stored = await server.auth.provider.AccessToken.find(issued.accessToken);
        expect(scopeWords((stored as unknown as Record<string, unknown>).scope)).to.deep.equal(['aisp', 'extended_transaction_history']);
      });

      it('gives a CBPII client (PSP_IC, scope cbpii) a bound access token and a refresh token', async () => {
        const cbpii = await registerClient(server, {
          environment,
          tpp: await tpps[environment]({ roles: ['PSP_IC'], organization: `Code Grant ${environment} CBPII` }),
          body: { scope: 'cbpii' },
        });
        const { code, pair } = await codeFor(cbpii, { params: { scope: 'cbpii' } });
        const issued = expectTokens(await exchangeCode(server, cbpii, code, pair));
        expect(scopeWords(issued.body.scope)).to.deep.equal(['cbpii']);
        expect(issued.refreshToken, 'cbpii gets a refresh token').to.be.a('string').and.not.equal('');
        const stored = await server.auth.provider.AccessToken.find(issued.accessToken);
        expect((stored as unknown as Record<string, unknown>)['x5t#S256']).to.equal(thumbprint(cbpii.tpp));
      });

      it('takes a code once: the second use is invalid_grant and revokes the tokens of the first', async () => {
        const { code, pair } = await codeFor(client);
        const first = expectTokens(await exchangeCode(server, client, code, pair));
        expect(first.refreshToken).to.be.a('string');

        const second = await exchangeCode(server, client, code, pair);
        expectRefusal(second, 400, 'invalid_grant');

        expect(await server.auth.provider.AccessToken.find(first.accessToken), 'access token of the first exchange').to.equal(undefined);
        expect(await server.auth.provider.RefreshToken.find(first.refreshToken!), 'refresh token of the first exchange').to.equal(undefined);
        // The revoked refresh token no longer works either.
        const refresh = await tokenRequest(server, client.tpp, { grant_type: 'refresh_token', refresh_token: first.refreshToken, client_id: client.clientId });
        expectRefusal(refresh, 400, 'invalid_grant');
      });

      it('refuses a wrong code_verifier with invalid_grant', async () => {
        const { code, pair } = await codeFor(client);
        expectRefusal(await exchangeCode(server, client, code, pair, { code_verifier: pkce().verifier }), 400, 'invalid_grant');
      });

      it('refuses a missing code_verifier with invalid_grant', async () => {
        const { code, pair } = await codeFor(client);
        expectRefusal(await exchangeCode(server, client, code, pair, { code_verifier: undefined }), 400, 'invalid_grant');
      });

      it('refuses a redirect_uri other than the authorization request\'s with invalid_grant', async () => {
        const other = 'https://tpp.example/other-callback';
        const twoUris = await registerClient(server, {
          environment,
          tpp: await tpps[environment]({ roles: ['PSP_AI'], organization: `Code Grant ${environment} Two URIs` }),
          body: { redirect_uris: [REDIRECT_URI, other] },
        });
        const { code, pair } = await codeFor(twoUris);
        // Another URI registered by the same client is still not the one the code was issued for.
        expectRefusal(await exchangeCode(server, twoUris, code, pair, { redirect_uri: other }), 400, 'invalid_grant');
        for (const uri of [`${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, REDIRECT_URI.replace('https:', 'http:'), REDIRECT_URI.toUpperCase()]) {
          expectRefusal(await exchangeCode(server, twoUris, code, pair, { redirect_uri: uri }), 400, 'invalid_grant');
        }
      });

      it('never gives tokens for a code presented by another client (its own certificate and client_id)', async () => {
        const thief = await registerClient(server, {
          environment,
          tpp: await tpps[environment]({ roles: ['PSP_AI'], organization: `Code Grant ${environment} Thief` }),
        });
        const { code, pair } = await codeFor(client);
        const res = await exchangeCode(server, thief, code, pair);
        expectRefusal(res, [400, 401], ['invalid_grant', 'invalid_client']);
      });

      it('refuses the right client_id with a certificate of another organization: 401 invalid_client', async () => {
        const foreign = await tpps[environment]({ roles: ['PSP_AI'], organization: `Code Grant ${environment} Foreign` });
        const { code, pair } = await codeFor(client);
        const res = await exchangeCode(server, { ...client, tpp: foreign }, code, pair);
        expectRefusal(res, 401, 'invalid_client');
      });

      it('refuses the right client_id with a certificate of the same organization from the other environment: 401 invalid_client', async () => {
        const other = environment === 'sandbox' ? bankTpp : sandboxTpp;
        const twin = await other({ roles: ['PSP_AI'], organization: `Code Grant ${environment} AIS` });
        const { code, pair } = await codeFor(client);
        expectRefusal(await exchangeCode(server, { ...client, tpp: twin }, code, pair), 401, 'invalid_client');
      });

      it('refuses a request without a client certificate: 401 invalid_client', async () => {
        const { code, pair } = await codeFor(client);
        const res = await tokenRequest(server, undefined, {
          grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pair.verifier, client_id: client.clientId,
        });
        expectRefusal(res, 401, 'invalid_client');
      });

      it('refuses an unknown code with invalid_grant', async () => {
        const { pair } = await codeFor(client);
        expectRefusal(await exchangeCode(server, client, 'x'.repeat(43), pair), 400, 'invalid_grant');
        expectRefusal(await exchangeCode(server, client, 'unknown-code', pair), 400, 'invalid_grant');
      });

      it('refuses an expired code with invalid_grant', async () => {
        const { code, pair } = await codeFor(client);
        // Ages the stored code past its expiry (the record itself stays in storage).
        const adapter = memoryOf(server).adapterFor('AuthorizationCode');
        const payload = await adapter.find(code);
        expect(payload, 'the code is stored under its value').not.to.equal(undefined);
        const now = Math.floor(Date.now() / 1000);
        await adapter.upsert(code, { ...payload!, iat: now - 3600, exp: now - 60 }, 3600);
        expectRefusal(await exchangeCode(server, client, code, pair), 400, 'invalid_grant');
      });

      it('refuses a code whose record is gone (lifetime over) with invalid_grant', async () => {
        const { code, pair } = await codeFor(client);
        await memoryOf(server).adapterFor('AuthorizationCode').destroy(code);
        expectRefusal(await exchangeCode(server, client, code, pair), 400, 'invalid_grant');
      });
    });
  }
});


const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'] as const;

describe('token endpoint: authorization_code grant under hostile input (properties)', function () {
  this.timeout(120_000);

  let server: TestServer;
  let client: TestClient;
  let other: TestClient;
  /** Real codes of `client`, fresh or spent, each with the verifier that must never be sent. */
  const realCodes: { code: string; verifier: string }[] = [];
  let issuedTokens = 0;

  before(async () => {
    server = await startServer({ options: { storage: new MemoryStorage() } });
    [client, other] = await Promise.all([
      registerClient(server, { tpp: await sandboxTpp({ roles: ['PSP_AI', 'PSP_IC'], organization: 'Grant Fuzz Corp' }) }),
      registerClient(server, { tpp: await sandboxTpp({ roles: ['PSP_AI'], organization: 'Grant Fuzz Other' }) }),
    ]);
    for (let i = 0; i < 3; i += 1) {
      const { location, pair } = await sandboxAuthorization(server, client);
      realCodes.push({ code: redirectParams(location).get('code')!, verifier: pair.verifier });
    }
    // One of them spent already: a replay then meets a consumed code.
    const spent = realCodes[0]!;
    expectTokens(await exchangeCode(server, client, spent.code, { verifier: spent.verifier, challenge: '' }));
    // Counts every access or refresh token written from here on.
    for (const model of ['AccessToken', 'RefreshToken']) {
      const adapter = memoryOf(server).adapterFor(model);
      const upsert = adapter.upsert.bind(adapter);
      adapter.upsert = async (id, payload, expiresIn) => {
        issuedTokens += 1;
        return upsert(id, payload, expiresIn);
      };
    }
  });
  after(() => server.close());

  afterEach(() => {
    expect(issuedTokens, 'a hostile token request made the server store a token').to.equal(0);
  });

  const hostile: fc.Arbitrary<string> = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.stringMatching(/^[A-Za-z0-9\-._~]{43,128}$/),
    fc.integer({ min: 129, max: 20_000 }).map((n) => 'A'.repeat(n)),
    fc.constantFrom(
      '', ' ', '\u0000', '\t\n', '%00', '%', '%zz', '+', '&', '=', '../../../etc/passwd', '<script>alert(1)</script>', '${7*7}',
      '{{7*7}}', '%s%n%x', "' OR 1=1 --", 'null', 'undefined', 'true', '[]', '{}', '[object Object]', '\ud800', '\u202e',
      REDIRECT_URI, `${REDIRECT_URI}/`, 'https://evil.example/callback', 'javascript:alert(1)', '/callback',
      'authorization_code', 'refresh_token', 'client_credentials', 'aisp', 'pisp', ...POLLUTION_KEYS,
    ),
  ).filter((value) => !LEAK.test(value));

  /** Codes: hostile strings, and real ones (fresh or consumed) that come without their verifier. */
  const code = (): fc.Arbitrary<string> => fc.oneof(
    { weight: 3, arbitrary: hostile },
    { weight: 2, arbitrary: fc.constantFrom(0, 1, 2).map((i) => realCodes[i]!.code) },
  );
  const verifier = (): fc.Arbitrary<string> => hostile.filter((value) => !realCodes.some((real) => value.includes(real.verifier)));
  const clientId = (): fc.Arbitrary<string> => fc.oneof(
    { weight: 3, arbitrary: fc.constant(client.clientId) },
    { weight: 1, arbitrary: fc.constant(other.clientId) },
    { weight: 2, arbitrary: hostile },
  );

  type Field = readonly [string, string];

  /** The parameters of a token request: standard ones (each maybe missing, replaced or repeated) and extra ones. */
  const fields = (): fc.Arbitrary<Field[]> => fc.tuple(
    fc.option(fc.oneof({ weight: 5, arbitrary: fc.constant('authorization_code') }, { weight: 1, arbitrary: hostile }), { nil: undefined, freq: 10 }),
    fc.option(code(), { nil: undefined, freq: 10 }),
    fc.option(verifier(), { nil: undefined, freq: 8 }),
    fc.option(fc.oneof({ weight: 3, arbitrary: fc.constant(REDIRECT_URI) }, { weight: 2, arbitrary: hostile }), { nil: undefined, freq: 8 }),
    fc.option(clientId(), { nil: undefined, freq: 8 }),
    fc.array(fc.tuple(
      fc.oneof(
        fc.constantFrom('grant_type', 'code', 'code_verifier', 'redirect_uri', 'client_id', 'client_secret', 'client_assertion',
          'client_assertion_type', 'scope', 'resource', 'refresh_token', 'state', 'nonce', 'dpop', 'authorization_details', ...POLLUTION_KEYS),
        hostile.filter((name) => name.length < 50),
      ),
      hostile,
    ), { maxLength: 4 }),
    fc.array(fc.constantFrom('grant_type', 'code', 'code_verifier', 'redirect_uri', 'client_id'), { maxLength: 2 }),
  ).map(([grantType, theCode, theVerifier, redirectUri, theClientId, extra, duplicated]) => {
    const list: Field[] = [];
    for (const [name, value] of [['grant_type', grantType], ['code', theCode], ['code_verifier', theVerifier], ['redirect_uri', redirectUri], ['client_id', theClientId]] as const) {
      if (value !== undefined) list.push([name, value]);
    }
    list.push(...extra);
    for (const name of duplicated) list.push([name, list.find(([n]) => n === name)?.[1] ?? 'duplicate']);
    return list;
  });

  function encode(list: readonly Field[]): string {
    const body = new URLSearchParams();
    for (const [name, value] of list) body.append(name, value);
    return body.toString();
  }

  function checkAnswer(res: Response, what: string): void {
    const context = `${what} → ${res.status} ${res.text?.slice(0, 500)}`;
    expect(res.status, context).to.be.within(400, 499);
    expect(res.text ?? '', `leak: ${context}`).not.to.match(LEAK);
    expect(res.headers['content-type'], context).to.match(/^application\/json/);
    const body: unknown = JSON.parse(res.text);
    expect(body, context).to.be.an('object');
    const { error, error_description: description } = body as Record<string, unknown>;
    expect(error, context).to.be.a('string').and.match(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
    expect(description, context).to.be.a('string');
    expect(body, context).not.to.have.any.keys('access_token', 'refresh_token', 'id_token', 'token_type');
  }

  const RUNS = { numRuns: Number(process.env.FUZZ_RUNS ?? 150) } as const;

  it('any authorization_code form with the client certificate: a 4xx JSON error, no leak, never a token', async () => {
    await fc.assert(fc.asyncProperty(fields(), async (list) => {
      const body = encode(list);
      const res = await server.request(client.tpp).post('/oauth2/token').type('form').send(body);
      checkAnswer(res, body.slice(0, 300));
    }), RUNS);
  });

  it('the same without a certificate, or with another organization\'s: a 4xx JSON error, never a token', async () => {
    const foreign = await sandboxTpp({ roles: ['PSP_AI'], organization: 'Grant Fuzz Foreign' });
    await fc.assert(fc.asyncProperty(fields(), fc.constantFrom<TppCredentials | undefined>(undefined, foreign), async (list, tpp) => {
      const body = encode(list);
      const res = await server.request(tpp).post('/oauth2/token').type('form').send(body);
      checkAnswer(res, `${tpp ? 'foreign' : 'no'} certificate: ${body.slice(0, 300)}`);
    }), { numRuns: 60 });
  });

  it('any content type and raw body: a 4xx JSON error, no leak, never a token', async () => {
    const contentType = fc.oneof(
      fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=latin1',
        'application/x-www-form-urlencoded; charset=bogus', 'application/json', 'text/plain', 'multipart/form-data; boundary=x', '*/*'),
      fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
    );
    const raw = fc.oneof(
      fields().map(encode),
      fields().map((list) => JSON.stringify(Object.fromEntries(list))),
      hostile,
    );
    await fc.assert(fc.asyncProperty(contentType, raw, async (type, body) => {
      const res = await server.request(client.tpp).post('/oauth2/token').set('Content-Type', type).send(body);
      checkAnswer(res, `[${type}] ${body.slice(0, 200)}`);
    }), { numRuns: 60 });
  });
});
