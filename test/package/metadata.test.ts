import { expect } from 'chai';

import { startServer, type TestServer } from '../support/server.js';

describe('authorization server metadata (RFC 8414)', () => {
  let server: TestServer;
  before(async () => { server = await startServer(); });
  after(() => server.close());

  for (const path of ['/oauth2/.well-known/oauth-authorization-server', '/oauth2/.well-known/openid-configuration']) {
    it(`is served at ${path}`, async () => {
      const res = await server.request().get(path);
      expect(res.status).to.equal(200);
      expect(res.type).to.equal('application/json');
      const metadata = res.body as Record<string, unknown>;
      expect(metadata.issuer).to.equal(server.issuer);
      expect(metadata.authorization_endpoint).to.equal(`${server.issuer}/authorize`);
      expect(metadata.token_endpoint).to.equal(`${server.issuer}/token`);
      expect(metadata.revocation_endpoint).to.equal(`${server.issuer}/revoke`);
      expect(metadata.registration_endpoint).to.equal(`${server.issuer}/register`);
      expect(metadata.jwks_uri).to.equal(`${server.issuer}/jwks`);
      expect(metadata.token_endpoint_auth_methods_supported).to.deep.equal(['tls_client_auth']);
      expect(metadata.revocation_endpoint_auth_methods_supported).to.deep.equal(['tls_client_auth']);
      expect(metadata.tls_client_certificate_bound_access_tokens).to.equal(true);
      expect(metadata.scopes_supported).to.deep.equal(['aisp', 'extended_transaction_history', 'cbpii', 'pisp']);
      expect(metadata.grant_types_supported).to.have.members(['authorization_code', 'refresh_token', 'client_credentials']);
      expect(metadata.response_types_supported).to.deep.equal(['code']);
      expect(metadata.code_challenge_methods_supported).to.deep.equal(['S256']);
      expect(metadata.ui_locales_supported).to.deep.equal(['de', 'en', 'fr']);
    });
  }

  it('carries no OpenID Connect-only fields', async () => {
    const res = await server.request().get('/oauth2/.well-known/oauth-authorization-server');
    for (const field of ['claims_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported', 'userinfo_endpoint', 'end_session_endpoint', 'dpop_signing_alg_values_supported', 'pushed_authorization_request_endpoint']) {
      expect(res.body).to.not.have.property(field);
    }
  });
});
