/**
 * Strict-Transport-Security (RFC 6797) on every page and API answer under the mount path: one
 * year, includeSubDomains unless `strictTransportSecurity.includeSubDomains` is false.
 */
import { request } from 'node:https';

import { expect } from 'chai';

import { ConfigurationError } from '../../lib/index.js';
import { resolveOptions, type ResolvedOptions } from '../../lib/options/index.js';
import { authorizationUrl, entryPath, registerClient, requestParams, type TestClient } from '../authorization/helpers.js';
import { testPki } from '../support/pki.js';
import { PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { SANDBOX_PSUS } from '../support/psus.js';
import { startServer, testSigningKey, type TestServer } from '../support/server.js';

const ONE_YEAR = 'max-age=31536000; includeSubDomains';

/** Valid options with `extra` added, resolved. */
async function resolveOptionsForTest(extra: Record<string, unknown>): Promise<ResolvedOptions> {
  const pki = await testPki();
  return resolveOptions({
    issuer: 'https://bank.example/oauth2',
    signingKeys: { keys: [testSigningKey()] },
    cookieKeys: ['0123456789abcdef0123456789abcdef'],
    environments: { sandbox: { trustAnchors: pki.sandboxRoot.certPem, testPsus: SANDBOX_PSUS } },
    ...extra,
  });
}

/** A raw request (any method), its answer's status and headers. */
function raw(server: TestServer, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    void testPki().then((pki) => {
      const req = request(`${server.url}${path}`, { method, ca: pki.serverCa.certPem, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    }, reject);
  });
}

describe('Strict-Transport-Security', function hsts() {
  this.timeout(30_000);
  let server: TestServer;
  let client: TestClient;

  before(async () => {
    server = await startServer({
      afterMount: (app) => app.get('/outside', (_req, res) => { res.send('the host app'); }),
    });
    client = await registerClient(server);
  });
  after(() => server?.close());

  it('is on every API answer (metadata, keys, the document, errors, registration, 404, OPTIONS, 413), not on the host app\'s', async () => {
    const answers: [string, { status: number; headers: Record<string, unknown> }][] = [
      ['metadata', await server.request().get('/oauth2/.well-known/oauth-authorization-server')],
      ['jwks', await server.request().get('/oauth2/jwks')],
      ['openapi.json', await server.request().get('/oauth2/openapi.json')],
      ['docs', await server.request().get('/oauth2/docs')],
      ['token without certificate', await server.request().post('/oauth2/token').type('form').send({ grant_type: 'client_credentials' })],
      ['token refused', await server.request(client.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId })],
      ['registration', await server.request(client.tpp).post('/oauth2/register').send({ redirect_uris: ['https://tpp.example/cb'], scope: 'aisp' })],
      ['introspection refused', await server.request().post('/oauth2/introspect').type('form').send({ token: 'x' })],
      ['no such endpoint', await server.request().get('/oauth2/nothing-here')],
      ['too large', await server.request(client.tpp).post('/oauth2/token').type('form').send({ x: 'a'.repeat(10_000) })],
      ['OPTIONS', await raw(server, 'OPTIONS', '/oauth2/token', { origin: 'https://tpp.example', 'access-control-request-method': 'POST' })],
    ];
    for (const [what, answer] of answers) {
      expect(answer.headers['strict-transport-security'], `${what} (${answer.status})`).to.equal(ONE_YEAR);
    }
    expect(answers.map(([, answer]) => answer.status)).to.include.members([200, 201, 400, 401, 404, 413]);
    // Outside the mount path the host app decides.
    const outside = await raw(server, 'GET', '/outside');
    expect(outside.status).to.equal(200);
    expect(outside.headers['strict-transport-security']).to.equal(undefined);
  });

  it('is on every PSU page: the entry redirect, the sign-in page, a refused form, an error page', async () => {
    const browser = new PsuBrowser();
    const pages: [string, PageResponse][] = [];
    const start = await browser.get(authorizationUrl(server, requestParams(client), entryPath('sandbox', 'de')));
    pages.push(['entry', start]);
    const signIn = await browser.follow(start, server.url);
    pages.push(['sign-in', signIn]);
    pages.push(['form without token', await browser.post(signIn.url.replace(/\?.*$/, '') + '/signin', { psu: 'sandbox-anna' })]);
    pages.push(['unknown client', await browser.get(authorizationUrl(server, requestParams({ ...client, clientId: 'nobody' })))]);
    pages.push(['unknown interaction', await browser.get(`${server.issuer}/interaction/unknown`)]);
    for (const [what, page] of pages) {
      expect(page.headers['strict-transport-security'], `${what} (${page.status})`).to.equal(ONE_YEAR);
    }
    expect(pages.map(([, page]) => page.status)).to.deep.equal([303, 200, 403, 400, 400]);
  });

  it('leaves includeSubDomains out when strictTransportSecurity.includeSubDomains is false', async () => {
    const own = await startServer({ options: { strictTransportSecurity: { includeSubDomains: false } } });
    try {
      const metadata = await own.request().get('/oauth2/.well-known/oauth-authorization-server');
      expect(metadata.headers['strict-transport-security']).to.equal('max-age=31536000');
    } finally {
      await own.close();
    }
  });

  it('is a validated option: a value of the wrong type or an unknown key names its path', async () => {
    for (const [value, path, message] of [
      [{ includeSubDomains: 'yes' }, 'strictTransportSecurity.includeSubDomains', /boolean/],
      [{ maxAge: 60 }, 'strictTransportSecurity.maxAge', /unknown option/],
      [true, 'strictTransportSecurity', /object/],
    ] as const) {
      let thrown: unknown;
      try {
        await resolveOptionsForTest({ strictTransportSecurity: value });
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(value)).to.be.instanceOf(ConfigurationError);
      expect((thrown as ConfigurationError).path, JSON.stringify(value)).to.equal(path);
      expect((thrown as Error).message, JSON.stringify(value)).to.match(message);
    }
    expect((await resolveOptionsForTest({})).strictTransportSecurity).to.deep.equal({ includeSubDomains: true });
  });
});
