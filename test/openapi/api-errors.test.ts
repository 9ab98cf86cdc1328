/**
 * API endpoints answer RFC-shaped JSON errors whatever the client asks for, and metadata of the
 * wrong type is the TPP's mistake, never a server error.
 */
import { expect } from 'chai';

import { registerClient } from '../authorization/helpers.js';
import { expectError } from '../registration/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';

describe('API errors', function apiErrors() {
  this.timeout(30_000);
  let server: TestServer;
  before(async () => { server = await startServer(); });
  after(() => server.close());

  it('are JSON on the token, revocation and registration endpoints even when HTML is asked for', async () => {
    const client = await registerClient(server);
    const html = { Accept: 'text/html,application/xhtml+xml' };
    expectError(await server.request(client.tpp).post('/oauth2/token').set(html).type('form').send({ grant_type: 'refresh_token', refresh_token: 'x', client_id: client.clientId }), 400, 'invalid_grant');
    expectError(await server.request(client.tpp).post('/oauth2/revoke').set(html).type('form').send({ client_id: client.clientId }), 400, 'invalid_request');
    expectError(await server.request(client.tpp).post('/oauth2/register').set(html).send({ redirect_uris: ['http://tpp.example/cb'] }), 400, 'invalid_redirect_uri');
    expectError(await server.request(client.tpp).get(`/oauth2/register/${client.clientId}`).set(html).set('Authorization', 'Bearer wrong'), 401, 'invalid_token');
  });

  it('refuse metadata values of the wrong type with invalid_client_metadata, not a server error', async () => {
    const tpp = await sandboxTpp();
    for (const field of ['id_token_signed_response_alg', 'client_name', 'scope', 'redirect_uris']) {
      const res = await server.request(tpp).post('/oauth2/register').send({ redirect_uris: ['https://tpp.example/callback'], [field]: { toString: 0 } });
      expect(res.status, `${field}: ${res.text}`).to.equal(400);
      expect(res.body.error, field).to.be.oneOf(['invalid_client_metadata', 'invalid_redirect_uri', 'invalid_request']);
    }
  });
});
