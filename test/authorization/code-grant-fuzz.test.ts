/**
 * The token endpoint's authorization_code grant under hostile input (properties): whatever form a
 * client posts, a 4xx JSON error, no leak, and never a token.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { Response } from 'supertest';

import { MemoryStorage } from '../../adapters/memory.js';
import { LEAK } from '../support/leak.js';
import { sandboxTpp, type TppCredentials } from '../support/pki.js';
import { suiteServer } from '../support/suite.js';
import { memoryOf } from '../registration/helpers.js';
import { expectTokens } from './answers.js';
import { exchangeCode, redirectParams, REDIRECT_URI, registerClient, sandboxAuthorization, type TestClient } from './helpers.js';

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'] as const;

describe('token endpoint: authorization_code grant under hostile input (properties)', function () {
  this.timeout(120_000);

  const server = suiteServer({ options: { storage: new MemoryStorage() } });
  let client: TestClient;
  let other: TestClient;
  /** Real codes of `client`, fresh or spent, each with the verifier that must never be sent. */
  const realCodes: { code: string; verifier: string }[] = [];
  let issuedTokens = 0;

  before(async () => {
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
