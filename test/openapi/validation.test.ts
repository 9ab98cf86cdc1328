/**
 * The response validator of the test suites (test/support/openapi.ts): it fails on what the
 * OpenAPI document does not describe, every response of `server.request()` goes through it, and
 * hostile requests to the documented endpoints get documented answers.
 */
import { expect } from 'chai';

import { openApiDocument } from '../../lib/openapi/index.js';
import { resolveOptions } from '../../lib/options/index.js';
import { createOpenApiValidator, type CheckedResponse, type OpenApiValidator } from '../support/openapi.js';
import { sandboxTpp, testPki, type TppCredentials } from '../support/pki.js';
import { SANDBOX_PSUS } from '../support/psus.js';
import { startServer, testSigningKey, type TestServer } from '../support/server.js';
import { aispBody, register, type Registered } from '../registration/helpers.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** A synthetic response: JSON `body` unless `text` is given. */
function response(status: number, body?: unknown, headers: Record<string, string> = {}, text?: string): CheckedResponse {
  const payload = text ?? (body === undefined ? '' : JSON.stringify(body));
  return {
    status,
    headers: { ...(payload ? { 'content-type': JSON_TYPE, 'content-length': String(Buffer.byteLength(payload)) } : {}), ...headers },
    text: payload,
    body: body ?? {},
  };
}

const TOKENS = { access_token: 'at', token_type: 'bearer', expires_in: 300, scope: 'aisp', refresh_token: 'rt' };
const NO_STORE = { 'cache-control': 'no-store' };

/** The message of the AssertionError `check` throws. */
function failure(check: () => void): string {
  try {
    check();
  } catch (error) {
    expect(error).to.be.an('error');
    expect((error as Error).name).to.equal('AssertionError');
    return (error as Error).message;
  }
  expect.fail('the validator accepted the response');
}

describe('the OpenAPI response validator', function validation() {
  this.timeout(60_000);
  let validator: OpenApiValidator;

  before(async () => {
    const pki = await testPki();
    validator = createOpenApiValidator(openApiDocument(resolveOptions({
      issuer: 'https://api.bank.example/oauth2',
      signingKeys: { keys: [testSigningKey()] },
      cookieKeys: ['0123456789abcdef0123456789abcdef'],
      environments: { sandbox: { trustAnchors: pki.sandboxRoot.certPem, testPsus: SANDBOX_PSUS } },
    })));
  });

  describe('refuses what the document does not describe', () => {
    it('an undocumented status', () => {
      const message = failure(() => validator.checkResponse('POST', '/oauth2/token', response(500, { error: 'server_error', error_description: 'x' })));
      expect(message).to.contain('POST /oauth2/token → 500').and.contain('status 500 is not documented').and.contain('server_error');
    });

    it('an extra field in a token response', () => {
      const message = failure(() => validator.checkResponse('POST', '/oauth2/token', response(200, { ...TOKENS, id_token: 'x' }, NO_STORE)));
      expect(message).to.contain('must NOT have additional properties').and.contain('id_token');
    });

    it('a missing required field', () => {
      const { expires_in: _, ...rest } = TOKENS;
      const message = failure(() => validator.checkResponse('POST', '/oauth2/token', response(200, rest, NO_STORE)));
      expect(message).to.contain('must have required property').and.contain('expires_in');
    });

    it('a field of the wrong type, and an error code the status does not list', () => {
      expect(failure(() => validator.checkResponse('POST', '/oauth2/token', response(200, { ...TOKENS, expires_in: '300' }, NO_STORE)))).to.contain('/expires_in must be integer');
      expect(failure(() => validator.checkResponse('POST', '/oauth2/token', response(401, { error: 'invalid_grant', error_description: 'x' })))).to.contain('/error must be equal to one of the allowed values');
    });

    it('a wrong content type', () => {
      const message = failure(() => validator.checkResponse('POST', '/oauth2/token', response(200, undefined, { ...NO_STORE, 'content-type': 'text/html; charset=utf-8' }, '<p>tokens</p>')));
      expect(message).to.contain('content type text/html is not documented (documented: application/json)');
    });

    it('a body without a content type, a body where none is described, and no body where one is', () => {
      expect(failure(() => validator.checkResponse('GET', '/oauth2/jwks', { status: 200, headers: {}, text: '{"keys":[]}' }))).to.contain('has no Content-Type');
      expect(failure(() => validator.checkResponse('DELETE', '/oauth2/register/abc', response(204, { deleted: true })))).to.contain('the document describes none');
      expect(failure(() => validator.checkResponse('GET', '/oauth2/jwks', response(200)))).to.contain('the response has no body');
    });

    it('a body that is not JSON under a JSON content type', () => {
      expect(failure(() => validator.checkResponse('GET', '/oauth2/jwks', response(200, undefined, { 'content-type': JSON_TYPE }, '{"keys":')))).to.contain('not JSON');
    });

    it('a missing required header, and a header that fails its schema', () => {
      expect(failure(() => validator.checkResponse('POST', '/oauth2/token', response(200, TOKENS)))).to.contain('the required header Cache-Control is missing');
      expect(failure(() => validator.checkResponse('POST', '/oauth2/token', response(200, TOKENS, { 'cache-control': 'public' })))).to.contain('header Cache-Control: "public" does not match');
      const unavailable = { error: 'temporarily_unavailable', error_description: 'x' };
      expect(failure(() => validator.checkResponse('POST', '/oauth2/revoke', response(503, unavailable)))).to.contain('Retry-After is missing');
      expect(failure(() => validator.checkResponse('POST', '/oauth2/revoke', response(503, unavailable, { 'retry-after': 'soon' })))).to.contain('Retry-After: "soon"');
      expect(failure(() => validator.checkResponse('GET', '/oauth2/authorize', response(303)))).to.contain('Location is missing');
    });

    it('a method the path does not list, unless answered with the document\'s 404', () => {
      const message = failure(() => validator.checkResponse('PUT', '/oauth2/token', response(200, TOKENS, NO_STORE)));
      expect(message).to.contain('the method is not documented for this path (documented: POST)');
      validator.checkResponse('PUT', '/oauth2/token', response(404, { error: 'not_found', error_description: 'there is no endpoint at PUT /oauth2/token' }));
      expect(failure(() => validator.checkResponse('PUT', '/oauth2/token', response(404, { error: 'invalid_request', error_description: 'x' })))).to.contain('/error must be equal to one of the allowed values');
    });
  });

  describe('accepts what the document describes', () => {
    it('documented answers, with path parameters and query strings', () => {
      validator.checkResponse('POST', '/oauth2/token', response(200, TOKENS, NO_STORE));
      validator.checkResponse('POST', '/oauth2/token', response(400, { error: 'invalid_scope', error_description: 'x', scope: 'aisp' }, NO_STORE));
      validator.checkResponse('POST', '/oauth2/revoke', response(503, { error: 'temporarily_unavailable', error_description: 'x' }, { 'retry-after': '30' }));
      validator.checkResponse('DELETE', '/oauth2/register/abc?x=1', response(204));
      validator.checkResponse('GET', '/oauth2/en/sandbox/signin.html?client_id=x', response(303, undefined, { location: '/oauth2/interaction/abc', 'content-type': 'text/plain' }, 'Redirecting to /oauth2/interaction/abc.'));
      validator.checkResponse('GET', 'https://api.bank.example/oauth2/jwks', response(200, { keys: [] }, { 'content-type': 'application/jwk-set+json; charset=utf-8' }));
    });

    it('skips HEAD, paths outside the mount path, and paths no template matches', () => {
      validator.checkResponse('HEAD', '/oauth2/token', response(500));
      validator.checkResponse('GET', '/api/health', response(500));
      validator.checkResponse('GET', '/oauth2/no/such/endpoint', response(404, { anything: true }));
      // `%2e%2e` is not resolved, and a segment that does not percent-decode is no client id.
      validator.checkResponse('GET', '/oauth2/register/x/%2e%2e', response(418));
      validator.checkResponse('GET', '/oauth2/register/%E0%A4%A', response(418));
    });
  });
});

describe('responses of server.request()', function requests() {
  this.timeout(60_000);
  let server: TestServer;
  let tpp: TppCredentials;
  let registered: Registered;
  const secret = 'a-resource-server-secret-of-32-chars!';

  before(async () => {
    server = await startServer({
      options: { resourceServers: [{ id: 'accounts-api', secret }] },
      // A host app answering inside the mount path, with what the document does not describe.
      beforeMount: (app) => app.get('/oauth2/.well-known/openid-configuration', (_req, res) => {
        res.status(200).json({ issuer: server.issuer, undocumented: true });
      }),
    });
    tpp = await sandboxTpp({ roles: ['PSP_AI', 'PSP_PI'] });
    registered = await register(server, tpp, aispBody());
  });
  after(() => server.close());

  it('are all checked: an undocumented answer fails the request', async () => {
    let error: unknown;
    try {
      await server.request().get('/oauth2/.well-known/openid-configuration');
    } catch (caught) {
      error = caught;
    }
    expect(error, 'the undocumented answer was accepted').to.be.an('error');
    expect((error as Error).message).to.contain('GET /oauth2/.well-known/openid-configuration → 200').and.contain('undocumented');
  });

  it('that are real answers pass, and the validator agrees when called directly', async () => {
    const res = await server.request(tpp).get(registered.path);
    expect(res.status).to.equal(200);
    server.openApi.checkResponse('GET', registered.path, res);
    const metadata = await server.request().get('/oauth2/.well-known/oauth-authorization-server');
    expect(metadata.status).to.equal(200);
    server.openApi.checkResponse('GET', '/oauth2/.well-known/oauth-authorization-server', metadata);
    // The same real answer, with one field added, is refused.
    expect(failure(() => server.openApi.checkResponse('GET', registered.path, { ...res, text: JSON.stringify({ ...res.body, client_secret: 'x' }) }))).to.contain('client_secret');
  });

  // Each of these is checked against the document by server.request() itself; the statuses
  // say which refusal answered.
  const big = 'x'.repeat(100_000);
  const hostile: [string, number, () => PromiseLike<{ status: number }>][] = [
    ['a JSON body at the token endpoint', 400, () => server.request(tpp).post('/oauth2/token').send({ grant_type: 'client_credentials' })],
    ['a body over the token endpoint\'s 8 KiB', 413, () => server.request(tpp).post('/oauth2/token').type('form').send(`scope=${big}`)],
    ['a malformed Authorization header at the revocation endpoint', 400, () => server.request(tpp).post('/oauth2/revoke').set('Authorization', 'Bearer a b').type('form').send({ token: 'x' })],
    ['a form body at the registration endpoint', 400, () => server.request(tpp).post('/oauth2/register').type('form').send('scope=aisp')],
    ['malformed JSON at the registration endpoint', 400, () => server.request(tpp).post('/oauth2/register').set('Content-Type', 'application/json').send('{"scope":')],
    ['a JSON array at the registration endpoint', 400, () => server.request(tpp).post('/oauth2/register').send([aispBody()])],
    ['a body over 56 KiB on a registered client', 413, () => server.request(tpp).put(registered.path).set('Content-Type', 'application/json').send(`{"client_name":"${big}"}`)],
    ['a malformed Authorization header on a registered client', 400, () => server.request(tpp).get(registered.path).set('Authorization', 'Bearer a b')],
    ['a body over 8 KB at the introspection endpoint', 413, () => server.request().post('/oauth2/introspect').auth('accounts-api', secret).type('form').send(`token=${big}`)],
    ['more than 20 parameters at the introspection endpoint', 413, () => server.request().post('/oauth2/introspect').auth('accounts-api', secret).type('form').send(Array.from({ length: 30 }, (_, i) => `p${i}=1`).join('&'))],
    ['an unsupported charset at the introspection endpoint', 415, () => server.request().post('/oauth2/introspect').auth('accounts-api', secret).set('Content-Type', 'application/x-www-form-urlencoded; charset=latin1').send('token=x')],
    ['an unknown content encoding at the introspection endpoint', 415, () => server.request().post('/oauth2/introspect').auth('accounts-api', secret).set('Content-Type', 'application/x-www-form-urlencoded').set('Content-Encoding', 'bogus').send('token=x')],
    ['a broken gzip body at the introspection endpoint', 400, () => server.request().post('/oauth2/introspect').auth('accounts-api', secret).set('Content-Type', 'application/x-www-form-urlencoded').set('Content-Encoding', 'gzip').send(Buffer.from('not gzip'))],
    ['a form over 16 KB on a PSU page', 413, () => server.request().post('/oauth2/interaction/abc/signin').type('form').send(`csrf=${big}`)],
    ['an unsupported charset on a PSU page', 415, () => server.request().post('/oauth2/interaction/abc/consent').set('Content-Type', 'application/x-www-form-urlencoded; charset=latin1').send('csrf=x')],
    ['a broken gzip form on a PSU page', 400, () => server.request().post('/oauth2/interaction/abc/cancel').set('Content-Type', 'application/x-www-form-urlencoded').set('Content-Encoding', 'gzip').send(Buffer.from('not gzip'))],
    ['another method on a PSU page', 404, () => server.request().put('/oauth2/interaction/abc')],
    ['another method on an endpoint', 404, () => server.request(tpp).delete('/oauth2/token')],
    ['POST on a registered client', 404, () => server.request(tpp).post(registered.path).send({ client_id: registered.clientId })],
    ['an unknown asset of the document view', 404, () => server.request().get('/oauth2/docs/x')],
    ['an entry path whose language is no language tag', 404, () => server.request().get('/oauth2/%20/sandbox/signin.html')],
    ['an unknown interaction', 400, () => server.request().get('/oauth2/interaction/abc')],
    ['an unknown authorization to resume', 400, () => server.request().get('/oauth2/authorize/abc')],
    ['a browser-session confirmation without a session', 400, () => server.request().post('/oauth2/session/end/confirm').type('form').send('xsrf=x')],
  ];
  for (const [what, status, send] of hostile) {
    it(`hostile requests get documented answers: ${what} → ${status}`, async () => {
      expect((await send()).status).to.equal(status);
    });
  }
});
