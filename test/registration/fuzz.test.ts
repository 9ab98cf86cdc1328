/**
 * Property tests: whatever a TPP (or anyone) sends to the registration endpoints, the answer is never
 * a 5xx, never a redirect, never a stack trace, and every 4xx is an RFC-shaped JSON error.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { Response, Test } from 'supertest';

import { MemoryStorage } from '../../adapters/memory.js';
import { BODY_LIMITS } from '../../lib/body-limits.js';
import { sandboxTpp, type TppCredentials } from '../support/pki.js';
import { suiteServer } from '../support/suite.js';
import { aispBody, memoryOf, register, type Registered } from './helpers.js';
import { LEAK } from '../support/leak.js';

/** Checks the invariants every answer of the registration endpoints keeps. */
function checkAnswer(res: Response, what: string): void {
  const context = `${what} → ${res.status} ${res.text?.slice(0, 500)}`;
  expect(res.status, context).to.be.below(500);
  expect(res.status >= 300 && res.status < 400, `redirect: ${context}`).to.equal(false);
  expect(res.headers.location, context).to.equal(undefined);
  expect(res.text ?? '', `leak: ${context}`).not.to.match(LEAK);
  if (res.status === 204) return;
  expect(res.headers['content-type'], context).to.match(/^application\/json/);
  const body: unknown = JSON.parse(res.text);
  expect(body, context).to.be.an('object');
  if (res.status >= 400) {
    const { error, error_description: description } = body as Record<string, unknown>;
    expect(error, context).to.be.a('string').and.match(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
    expect(description, context).to.be.a('string').and.not.equal('');
  }
}

const FIELDS = [
  'redirect_uris', 'token_endpoint_auth_method', 'grant_types', 'response_types', 'client_name', 'scope', 'contacts',
  'jwks', 'jwks_uri', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'software_id', 'software_version',
  'software_statement', 'application_type', 'tls_client_auth_subject_dn', 'tls_client_auth_san_dns',
  'tls_client_certificate_bound_access_tokens', 'provider_legal_id', 'psd2_environment', 'client_id', 'client_secret',
  'client_secret_expires_at', 'client_id_issued_at', 'registration_access_token', 'registration_client_uri',
  'default_max_age', 'id_token_signed_response_alg', 'subject_type', 'response_modes', 'require_auth_time',
  'dpop_bound_access_tokens', 'post_logout_redirect_uris', 'authorization_signed_response_alg', 'sector_identifier_uri',
] as const;

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'] as const;

/** Strings that an echo in an error_description could not confuse with a leak. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '', ' ', '\u0000', '\t\n', '../../../etc/passwd', '<script>alert(1)</script>', '${7*7}', '{{7*7}}', '%s%n%x',
    'aisp', 'aisp extended_transaction_history', 'cbpii', 'pisp', 'openid', 'tls_client_auth', 'client_secret_basic',
    'authorization_code', 'client_credentials', 'implicit', 'code', 'token', 'sandbox', 'bank', 'PSDFR-NCA-X',
    'https://tpp.example/cb', 'http://tpp.example/cb', 'http://localhost/cb', 'https://tpp.example/cb#f', '/cb',
    'javascript:alert(1)', 'CN=x,O=y', '/C=FR/O=Acme', 'a@b.example', '\ud800', '\u202e', 'null', 'true', '[]', '{}',
    ...POLLUTION_KEYS,
  ),
).filter((value) => !LEAK.test(value));

/** Strings past the sizes any field expects; past 56 kB the body is refused as a whole. */
const hugeString: fc.Arbitrary<string> = fc.integer({ min: 1000, max: 60_000 }).map((n) => 'A'.repeat(n));

const key: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FIELDS) },
  { weight: 2, arbitrary: fc.constantFrom(...POLLUTION_KEYS) },
  { weight: 1, arbitrary: hostileString.filter((value) => value.length < 100) },
);

const scalar: fc.Arbitrary<string> = fc.oneof(
  hostileString.map((value) => JSON.stringify(value)),
  hugeString.map((value) => JSON.stringify(value)),
  fc.integer().map(String),
  fc.constantFrom('0', '-1', '1e308', '-0', '1.5', '9007199254740993', 'true', 'false', 'null'),
  fc.double().map((value) => JSON.stringify(value)),
);

/**
 * JSON texts built by hand, so that objects may carry duplicate keys and own `__proto__` keys
 * (JSON.stringify of an object literal would silently drop them).
 */
const { json } = fc.letrec<{ json: string; array: string; object: string }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('json'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
  object: fc.array(fc.tuple(key, tie('json')), { maxLength: 6 })
    .map((entries) => `{${entries.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(',')}}`),
}));

/** A registration-like body: a plausible base with some fields replaced by hostile JSON. */
const metadataBody: fc.Arbitrary<string> = fc.tuple(
  fc.constantFrom<Record<string, unknown>>(aispBody(), {}, { scope: 'pisp', grant_types: ['client_credentials'] }),
  fc.array(fc.tuple(key, json), { maxLength: 6 }),
).map(([base, entries]) => {
  const parts = Object.entries(base).map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);
  for (const [name, value] of entries) parts.push(`${JSON.stringify(name)}:${value}`);
  return `{${parts.join(',')}}`;
});

const deepNesting = fc.integer({ min: 100, max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`);

/** Any body text sent with content-type application/json. */
const jsonBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: metadataBody },
  { weight: 2, arbitrary: json },
  { weight: 1, arbitrary: deepNesting },
  { weight: 1, arbitrary: fc.tuple(metadataBody, fc.nat()).map(([text, cut]) => text.slice(0, cut % (text.length + 1))) },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: hugeString },
);

const contentType: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'application/json', 'application/json; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=bogus',
    'application/json; charset=utf-16le', 'APPLICATION/JSON', 'application/jose', 'application/jwt', 'text/plain',
    'text/html', 'application/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '*/*',
    'application/json, text/plain', 'application/octet-stream', 'application/merge-patch+json',
  ),
  fc.stringMatching(/^[\x21-\x7e]{1,60}$/),
);

/** Header values Node accepts: printable ASCII. */
const authorization = (token: () => string): fc.Arbitrary<string | undefined> => fc.option(
  fc.oneof(
    fc.constant('__token__').map(() => `Bearer ${token()}`),
    fc.stringMatching(/^[\x21-\x7e]{0,80}$/).map((value) => `Bearer ${value}`),
    fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,80}$/),
    fc.constantFrom('Bearer', 'Basic Zm9vOmJhcg==', 'DPoP abc', 'bearer  x', 'Bearer a b c'),
  ),
  { nil: undefined },
);

type Method = 'get' | 'post' | 'put' | 'delete';

/** Sends `body` raw with `type` (supertest would otherwise serialize or drop it). */
function withBody(test: Test, type: string | undefined, body: string | undefined): Test {
  if (type !== undefined) test.set('Content-Type', type);
  return body === undefined ? test : test.send(body);
}

/** FUZZ_RUNS=1000 for a longer search. */
const RUNS = { numRuns: Number(process.env.FUZZ_RUNS ?? 80) } as const;

describe('registration endpoints under hostile input (properties)', function () {
  this.timeout(180_000);

  const server = suiteServer({ options: { storage: new MemoryStorage() } });
  let storage: MemoryStorage;
  let tpp: TppCredentials;
  let foreign: TppCredentials;
  let registered: Registered;
  const prototypes = () => [Object.prototype, Array.prototype, Function.prototype].map((proto) => Object.getOwnPropertyNames(proto).sort().join());
  let pristine: string[];

  before(async () => {
    storage = memoryOf(server);
    [tpp, foreign] = await Promise.all([
      sandboxTpp({ organization: 'Fuzz Corp', roles: ['PSP_AI', 'PSP_IC', 'PSP_PI'] }),
      sandboxTpp({ organization: 'Other Corp', roles: ['PSP_AI', 'PSP_IC', 'PSP_PI'] }),
    ]);
    registered = await register(server, tpp);
    pristine = prototypes();
  });

  afterEach(() => {
    expect(prototypes(), 'a built-in prototype was polluted').to.deep.equal(pristine);
    expect(({} as Record<string, unknown>).redirect_uris).to.equal(undefined);
  });

  /** The registered client, registered again when a property run deleted or broke it. */
  async function liveClient(): Promise<Registered> {
    const res = await server.request(tpp).get(registered.path);
    if (res.status !== 200) registered = await register(server, tpp);
    return registered;
  }

  it('POST /oauth2/register with any JSON body: no 5xx, no redirect, no leak; a refusal stores nothing', async () => {
    await fc.assert(fc.asyncProperty(jsonBody, async (body) => {
      const before = storage.size;
      const res = await withBody(server.request(tpp).post('/oauth2/register'), 'application/json', body);
      checkAnswer(res, `POST ${body.slice(0, 300)}`);
      // 413: a body over the registration limit, refused before it is read.
      expect([201, 400, 413], res.text).to.include(res.status);
      if (res.status === 201) {
        expect(res.body).not.to.have.property('client_secret');
        expect(res.body).to.include({ token_endpoint_auth_method: 'tls_client_auth', provider_legal_id: 'PSDFR-NCA-FUZZCORP' });
        expect(await storage.adapterFor('Client').find(String(res.body.client_id))).to.include({ psd2_environment: 'sandbox', tls_client_certificate_bound_access_tokens: true });
        for (const uri of res.body.redirect_uris as string[]) expect(uri).to.match(/^(?:https:\/\/|http:\/\/(?:localhost|127\.0\.0\.1|\[::1\])[:/])/);
      } else {
        expect(storage.size, `${body.slice(0, 300)} was refused but stored something`).to.equal(before);
      }
    }), RUNS);
  });

  it('POST /oauth2/register with any content type and raw body: no 5xx, no redirect, no leak', async () => {
    const raw = fc.oneof(hostileString, jsonBody, fc.constantFrom('a=b&scope=aisp', 'scope=aisp&redirect_uris=https%3A%2F%2Fa', '<xml/>', ''));
    await fc.assert(fc.asyncProperty(contentType, raw, async (type, body) => {
      const res = await withBody(server.request(tpp).post('/oauth2/register'), type, body);
      checkAnswer(res, `POST [${type}] ${body.slice(0, 200)}`);
    }), RUNS);
  });

  it('POST /oauth2/register without a certificate, whatever the body: 401 invalid_client', async () => {
    await fc.assert(fc.asyncProperty(jsonBody, async (body) => {
      const res = await withBody(server.request().post('/oauth2/register'), 'application/json', body);
      checkAnswer(res, `POST (no certificate) ${body.slice(0, 200)}`);
      // A body over the registration limit is refused for its size before the certificate is looked at.
      expect(res.status).to.equal(Buffer.byteLength(body) > BODY_LIMITS.registration ? 413 : 401);
      expect(res.body.error).to.equal(res.status === 413 ? 'invalid_request' : 'invalid_client');
    }), { numRuns: 40 });
  });

  it('PUT on a registered client with any body and Authorization header: no 5xx, no redirect, no leak', async () => {
    const body = fc.oneof(
      jsonBody,
      // Bodies that pass the client_id check, to reach the registration policy.
      metadataBody.map((text) => (text === '{}' ? '{"client_id":"__client_id__"}' : `{"client_id":"__client_id__",${text.slice(1)}`)),
    );
    await fc.assert(fc.asyncProperty(body, authorization(() => registered.token), fc.option(contentType, { nil: undefined }), async (text, auth, type) => {
      const client = await liveClient();
      const test = server.request(tpp).put(client.path);
      if (auth) test.set('Authorization', auth);
      const res = await withBody(test, type ?? 'application/json', text.replace('__client_id__', client.clientId));
      checkAnswer(res, `PUT [${type}] [${auth}] ${text.slice(0, 300)}`);
      if (res.status === 200) {
        expect(res.body).to.include({ client_id: client.clientId, provider_legal_id: 'PSDFR-NCA-FUZZCORP', token_endpoint_auth_method: 'tls_client_auth' });
      }
    }), RUNS);
  });

  it('GET and DELETE on a registered client with any Authorization header: no 5xx, no redirect, no leak', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom<Method>('get', 'delete'), authorization(() => registered.token), async (method, auth) => {
      const client = await liveClient();
      const test = server.request(tpp)[method](client.path);
      if (auth) test.set('Authorization', auth);
      const res = await test;
      checkAnswer(res, `${method} [${auth}]`);
    }), { numRuns: 60 });
  });

  it('another organization gets 401 on any call to a client, whatever the body and token, and changes nothing', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom<Method>('get', 'put', 'delete'),
      fc.option(jsonBody, { nil: undefined }),
      authorization(() => registered.token),
      async (method, body, auth) => {
        const client = await liveClient();
        const before = await storage.adapterFor('Client').find(client.clientId);
        const test = server.request(foreign)[method](client.path);
        if (auth) test.set('Authorization', auth);
        const sent = body?.replace('__client_id__', client.clientId);
        const res = await withBody(test, body === undefined ? undefined : 'application/json', sent);
        checkAnswer(res, `${method} (foreign) [${auth}] ${body?.slice(0, 200)}`);
        // A PUT body over the registration limit is refused for its size before anything else.
        const tooLarge = method === 'put' && Buffer.byteLength(sent ?? '') > BODY_LIMITS.registration;
        expect(res.status).to.equal(tooLarge ? 413 : 401);
        expect(res.body.error).to.equal(tooLarge ? 'invalid_request' : 'invalid_token');
        expect(await storage.adapterFor('Client').find(client.clientId)).to.deep.equal(before);
      },
    ), { numRuns: 60 });
  });

  it('any method on any path under /oauth2/register/: no 5xx, no redirect, no leak, JSON errors', async () => {
    const segment = fc.oneof(
      { weight: 4, arbitrary: fc.string({ maxLength: 30 }).map(encodeURIComponent) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }).map((value) => encodeURIComponent(value.replace(/[\ud800-\udfff]/g, 'x'))) },
      { weight: 2, arbitrary: fc.constantFrom('', '.', '..', '%2e%2e', '%2F', 'register', '__proto__', 'constructor', '%00', 'a%20b', 'REGISTER', '~', '*', ':id', '__client__') },
      // Malformed percent-encoding.
      { weight: 1, arbitrary: fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%C3', '%u0041', '%%', 'abc%', '__client__%') },
    );
    const path = fc.tuple(fc.array(segment, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.option(fc.string({ maxLength: 20 }), { nil: undefined }))
      .map(([segments, slash, query]) => `/oauth2/register/${segments.join('/')}${slash ? '/' : ''}${query === undefined ? '' : `?${encodeURIComponent(query)}`}`);
    const who = fc.constantFrom<'owner' | 'foreign' | 'none'>('owner', 'foreign', 'none');
    await fc.assert(fc.asyncProperty(fc.constantFrom<Method>('get', 'post', 'put', 'delete'), path, who, fc.option(jsonBody, { nil: undefined }), authorization(() => registered.token), async (method, raw, whom, body, auth) => {
      const client = await liveClient();
      const target = raw.replaceAll('__client__', client.clientId);
      const test = server.request(whom === 'owner' ? tpp : whom === 'foreign' ? foreign : undefined)[method](target);
      if (auth) test.set('Authorization', auth);
      const res = await withBody(test, body === undefined ? undefined : 'application/json', body);
      checkAnswer(res, `${method} ${target} as ${whom} [${auth}] ${body?.slice(0, 200)}`);
    }), { numRuns: 100 });
  });

  it('answers JSON, not an HTML page with a stack trace, for a malformed percent-encoding in the client id', async () => {
    const malformed = fc.tuple(fc.string({ maxLength: 10 }).map(encodeURIComponent), fc.constantFrom('%', '%E0%A4%A', '%ZZ', '%C3', '%u0041', '%%'))
      .map(([prefix, bad]) => `/oauth2/register/${prefix}${bad}`);
    // Express fails to decode such a `:clientId` route parameter before any handler of ours runs.
    for (const path of ['/oauth2/register/%E0%A4%A', '/oauth2/register/abc%']) {
      for (const method of ['get', 'put', 'delete'] as const) {
        for (const res of [await server.request(tpp)[method](path), await server.request()[method](path)]) {
          checkAnswer(res, `${method} ${path}`);
          expect(res.status).to.be.oneOf([400, 401]);
        }
      }
    }
    await fc.assert(fc.asyncProperty(fc.constantFrom<Method>('get', 'post', 'put', 'delete'), malformed, async (method, path) => {
      checkAnswer(await server.request(tpp)[method](path), `${method} ${path}`);
    }), { numRuns: 30 });
  });
});
