import { createHash } from 'node:crypto';
import { Agent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';

import { expect } from 'chai';

import { testPki, sandboxTpp, type TppCredentials } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';

interface Reply { status: number; body: Record<string, unknown>; reused: boolean }

/** A raw https request through `agent`, reporting whether the TLS session was resumed. */
async function call(
  server: TestServer, agent: Agent, method: string, path: string, body?: unknown, headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${server.url}${path}`, {
      method,
      agent,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        try {
          // Raw requests are held to the OpenAPI document like those of server.request().
          server.openApi.checkResponse(method, path, { status: res.statusCode ?? 0, headers: res.headers, text });
        } catch (error) {
          reject(error);
          return;
        }
        resolve({
          status: res.statusCode ?? 0,
          body: text ? JSON.parse(text) as Record<string, unknown> : {},
          reused: (res.socket as TLSSocket).isSessionReused(),
        });
      });
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

describe('hardening', () => {
  let server: TestServer;
  before(async () => { server = await startServer(); });
  after(() => server.close());

  it('keeps recognising a TPP whose resumed TLS session carries no intermediate', async () => {
    const pki = await testPki();
    const tpp: TppCredentials = await sandboxTpp({ roles: ['PSP_AI'] });
    const agent = new Agent({ keepAlive: false, maxCachedSessions: 10, ca: pki.serverCa.certPem, cert: tpp.chainPem, key: tpp.keyPem });
    const created = await call(server, agent, 'POST', '/oauth2/register', { redirect_uris: ['https://tpp.example/cb'], scope: 'aisp' });
    expect(created.status).to.equal(201);
    const path = new URL(String(created.body.registration_client_uri)).pathname;
    const read = await call(server, agent, 'GET', path);
    expect(read.reused, 'the second connection should resume the TLS session').to.equal(true);
    expect(read.status).to.equal(200);
    agent.destroy();
  });

  it('publishes URLs from the issuer whatever Host or X-Forwarded-Host a client sends', async () => {
    const pki = await testPki();
    const agent = new Agent({ ca: pki.serverCa.certPem, servername: 'localhost' });
    const res = await call(server, agent, 'GET', '/oauth2/.well-known/oauth-authorization-server', undefined, {
      host: 'evil.example', 'x-forwarded-host': 'evil.example',
    });
    agent.destroy();
    expect(res.status).to.equal(200);
    for (const field of ['token_endpoint', 'registration_endpoint', 'jwks_uri', 'authorization_endpoint']) {
      expect(res.body[field]).to.match(new RegExp(`^${server.issuer}/`));
    }
  });

  describe('client_credentials', () => {
    let tpp: TppCredentials;
    let clientId: string;
    before(async () => {
      tpp = await sandboxTpp({ roles: ['PSP_AI', 'PSP_PI'], organization: 'Both Roles' });
      const res = await server.request(tpp).post('/oauth2/register').send({ redirect_uris: ['https://tpp.example/cb'] });
      expect(res.status).to.equal(201);
      expect(res.body.grant_types).to.include('client_credentials');
      clientId = res.body.client_id as string;
    });

    it('gives a certificate-bound pisp token, without refresh token', async () => {
      const res = await server.request(tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', client_id: clientId, scope: 'pisp' });
      expect(res.status).to.equal(200);
      expect(res.body.scope).to.equal('pisp');
      expect(res.body.token_type).to.equal('bearer');
      expect(res.body).to.not.have.property('refresh_token');
      const stored = await server.auth.storage.adapterFor('ClientCredentials').find(res.body.access_token as string);
      expect(stored?.['x5t#S256']).to.equal(createHash('sha256').update(tpp.der).digest('base64url'));
    });

    for (const scope of ['aisp', 'aisp extended_transaction_history', 'pisp aisp']) {
      it(`refuses scope "${scope}": account access needs the PSU's consent`, async () => {
        const before = (server.auth.storage as unknown as { size: number }).size;
        const res = await server.request(tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', client_id: clientId, scope });
        expect(res.status).to.equal(400);
        expect(res.body.error).to.equal('invalid_scope');
        expect(res.body.error_description).to.match(/only the pisp scope/);
        expect((server.auth.storage as unknown as { size: number }).size).to.equal(before);
      });
    }

    it('gives pisp to a request without scope (RFC 6749 §3.3 default)', async () => {
      const res = await server.request(tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', client_id: clientId });
      expect(res.status, res.text).to.equal(200);
      expect(res.body.scope).to.equal('pisp');
    });
  });
});

describe('a router mounted at another path than the issuer', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ mountPath: '/auth' });
  });
  after(() => server.close());

  it('logs the misconfiguration on the first request', async () => {
    await server.request().get('/auth/.well-known/oauth-authorization-server');
    const entry = server.logs.find((log) => log.fields.event === 'configuration.mount_path');
    expect(entry?.level).to.equal('error');
    expect(entry?.fields).to.include({ mountedAt: '/auth', issuerPath: '/oauth2' });
  });
});
