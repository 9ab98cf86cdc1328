/**
 * Token answers as deployed TPP clients of the reference bank read them: `token_type` spelled
 * `bearer` (one client maps it case-sensitively) in the code exchange, the refresh and the client
 * credentials grant; `pisp` by default for a PISP's client credentials request without scope
 * (RFC 6749 §3.3); `introspection_endpoint` in the metadata. Request bodies are form bodies
 * exactly as those clients send them, over mutual TLS.
 */
import { expect } from 'chai';
import * as oauth from 'oauth4webapi';

import { exchangeCode, redirectParams, registerClient, sandboxAuthorization } from '../authorization/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { suiteServer } from '../support/suite.js';

describe('compatibility: token answers deployed TPP clients read', function () {
  this.timeout(60_000);
  const server = suiteServer();

  it('answers token_type "bearer" to the code exchange and to a refresh with scope=aisp or without scope', async () => {
    const client = await registerClient(server);
    const { location, pair } = await sandboxAuthorization(server, client);
    const code = redirectParams(location).get('code')!;
    const exchanged = await server.request(client.tpp).post('/oauth2/token').type('form')
      .send(`grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent('https://tpp.example/callback')}&code_verifier=${pair.verifier}&client_id=${encodeURIComponent(client.clientId)}`);
    expect(exchanged.status, exchanged.text).to.equal(200);
    expect(exchanged.body.token_type).to.equal('bearer');
    const refreshToken = exchanged.body.refresh_token as string;
    for (const scope of ['&scope=aisp', '']) {
      const refreshed = await server.request(client.tpp).post('/oauth2/token').type('form')
        .send(`grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}${scope}&client_id=${encodeURIComponent(client.clientId)}`);
      expect(refreshed.status, refreshed.text).to.equal(200);
      expect(refreshed.body.token_type, `refresh${scope}`).to.equal('bearer');
      expect(refreshed.body.scope).to.equal('aisp');
    }
  });

  it('gives a PISP a pisp token for client_credentials with or without scope, token_type "bearer"', async () => {
    const tpp = await sandboxTpp({ roles: ['PSP_PI'], organization: 'Compat Payments' });
    const client = await registerClient(server, { tpp, roles: ['PSP_PI'], body: { scope: 'pisp', grant_types: ['client_credentials'], redirect_uris: undefined } });
    for (const body of [`grant_type=client_credentials&scope=pisp&client_id=${encodeURIComponent(client.clientId)}`, `grant_type=client_credentials&client_id=${encodeURIComponent(client.clientId)}`]) {
      const res = await server.request(tpp).post('/oauth2/token').type('form').send(body);
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ token_type: 'bearer', scope: 'pisp', expires_in: 600 });
      expect(res.body).not.to.have.property('refresh_token');
      const stored = await server.auth.provider.ClientCredentials.find(res.body.access_token as string);
      expect(stored?.scope, 'the stored token holds pisp too').to.equal('pisp');
    }
  });

  it('still refuses an AISP the client_credentials grant when it sends no scope', async () => {
    const client = await registerClient(server);
    const res = await server.request(client.tpp).post('/oauth2/token').type('form')
      .send(`grant_type=client_credentials&client_id=${encodeURIComponent(client.clientId)}`);
    expect(res.status, res.text).to.equal(400);
    expect(res.body.error).to.equal('unauthorized_client');
  });

  it('publishes introspection_endpoint in both metadata documents', async () => {
    for (const path of ['/oauth2/.well-known/oauth-authorization-server', '/oauth2/.well-known/openid-configuration']) {
      const res = await server.request().get(path);
      expect(res.status).to.equal(200);
      expect(res.body.introspection_endpoint).to.equal(`${server.issuer}/introspect`);
    }
  });

  it('a token answer with "bearer" is accepted by oauth4webapi and openid-client\'s processing', async () => {
    const client = await registerClient(server);
    const { location, pair } = await sandboxAuthorization(server, client);
    const res = await exchangeCode(server, client, redirectParams(location).get('code')!, pair);
    expect(res.body.token_type).to.equal('bearer');
    const as: oauth.AuthorizationServer = { issuer: server.issuer, token_endpoint: `${server.issuer}/token` };
    const processed = await oauth.processAuthorizationCodeResponse(as, { client_id: client.clientId }, new Response(res.text, { status: 200, headers: { 'content-type': 'application/json' } }));
    expect(processed.token_type).to.equal('bearer');
    expect(processed.access_token).to.equal(res.body.access_token);
  });
});
