/**
 * No CORS on any endpoint: TPPs call the API from their servers and PSUs reach the pages by
 * navigation, so no answer lets a page of another origin read it, and preflight requests are
 * answered like any other method without an endpoint.
 */
import { request as httpsRequest } from 'node:https';

import { expect } from 'chai';
import fc from 'fast-check';

import { sandboxTpp, testPki, type TppCredentials } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';
import { register } from '../registration/helpers.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

const PATHS = [
  '/token', '/revoke', '/register', '/register/some-client', '/introspect', '/authorize', '/jwks', '/request',
  '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/openapi.json', '/interaction/abc',
  '/en/sandbox/signin.html', '/fr/banque/oauth2_authorization.aspx', '/',
];

const corsHeaders = (headers: Answer['headers']): string[] => Object.keys(headers).filter((name) => name.toLowerCase().startsWith('access-control-'));

describe('no CORS on any endpoint', function () {
  this.timeout(60_000);
  let server: TestServer;
  let tpp: TppCredentials;
  let ca: string;

  before(async () => {
    server = await startServer();
    tpp = await sandboxTpp({ roles: ['PSP_AI', 'PSP_PI'] });
    ca = (await testPki()).serverCa.certPem;
  });
  after(() => server.close());

  function send(method: string, path: string, headers: Record<string, string>, options: { body?: string; cert?: TppCredentials } = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(`${server.issuer}${path}`, {
        method,
        ca,
        headers: { ...headers, ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}) },
        ...(options.cert ? { cert: options.cert.chainPem, key: options.cert.keyPem } : {}),
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { text += chunk; });
        res.on('end', () => {
          const answer = { status: res.statusCode ?? 0, headers: res.headers, text };
          server.openApi.checkResponse(method, `/oauth2${path}`, answer);
          resolve(answer);
        });
      });
      req.on('error', reject);
      req.end(options.body);
    });
  }

  for (const path of PATHS) {
    it(`answers a preflight request on ${path} with 404 not_found and no Access-Control-* header`, async () => {
      for (const cert of [undefined, tpp]) {
        const res = await send('OPTIONS', path, {
          origin: 'https://evil.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, authorization',
        }, { ...(cert ? { cert } : {}) });
        expect(res.status, res.text).to.equal(404);
        expect(corsHeaders(res.headers), `${path}: ${JSON.stringify(res.headers)}`).to.deep.equal([]);
        expect(JSON.parse(res.text)).to.deep.equal({ error: 'not_found', error_description: `there is no endpoint at OPTIONS /oauth2${path}` });
      }
    });
  }

  it('adds no Access-Control-* header to the token, revocation, registration, discovery and key set answers, with or without Origin', async () => {
    const client = await register(server, tpp, { redirect_uris: ['https://tpp.example/cb'], scope: 'pisp', grant_types: ['client_credentials'] });
    const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
    for (const origin of [undefined, 'https://evil.example', 'null']) {
      const headers: Record<string, string> = origin ? { origin } : {};
      const answers = [
        await send('POST', '/token', { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, { cert: tpp, body: form({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId }) }),
        await send('POST', '/token', { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, { body: form({ grant_type: 'client_credentials' }) }),
        await send('POST', '/revoke', { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, { cert: tpp, body: form({ token: 'unknown', client_id: client.clientId }) }),
        await send('POST', '/register', { ...headers, 'content-type': 'application/json' }, { cert: tpp, body: '{}' }),
        await send('GET', '/.well-known/oauth-authorization-server', headers),
        await send('GET', '/jwks', headers),
        await send('GET', `/register/${client.clientId}`, headers, { cert: tpp }),
      ];
      for (const res of answers) expect(corsHeaders(res.headers), `${origin}: ${res.status} ${JSON.stringify(res.headers)}`).to.deep.equal([]);
    }
  });

  it('still issues tokens to a TPP calling from its server (no Origin)', async () => {
    const client = await register(server, tpp, { redirect_uris: ['https://tpp.example/cb'], scope: 'pisp', grant_types: ['client_credentials'] });
    const res = await server.request(tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId });
    expect(res.status, res.text).to.equal(200);
    expect(corsHeaders(res.headers)).to.deep.equal([]);
  });

  it('property: any origin, requested method and headers on any endpoint get no CORS permission', async () => {
    const origin = fc.oneof(fc.webUrl().map((url) => new URL(url).origin), fc.constantFrom('null', '*', server.url, 'https://tpp.example'));
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH');
    const requested = fc.array(fc.constantFrom('content-type', 'authorization', 'x-requested-with', 'dpop', 'client-cert'), { maxLength: 3 }).map((names) => names.join(', '));
    await fc.assert(fc.asyncProperty(fc.constantFrom(...PATHS), origin, method, requested, fc.boolean(), async (path, from, wanted, names, withCert) => {
      const res = await send('OPTIONS', path, { origin: from, 'access-control-request-method': wanted, ...(names ? { 'access-control-request-headers': names } : {}) }, withCert ? { cert: tpp } : {});
      expect(res.status).to.equal(404);
      expect(corsHeaders(res.headers)).to.deep.equal([]);
    }), { numRuns: 60 });
  });
});
