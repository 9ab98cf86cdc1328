/**
 * Token revocation (RFC 7009) over mutual TLS: the cascade from a refresh token to its access
 * tokens, an access token revoked alone, only one's own tokens, and the types that are not revoked.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { exchangeCode, redirectParams, registerClient, sandboxAuthorization, suiteClient, type TestClient } from '../authorization/helpers.js';
import { expectError, register } from '../registration/helpers.js';
import { LEAK } from '../support/leak.js';
import { sandboxTpp } from '../support/pki.js';
import { suiteServer } from '../support/suite.js';

describe('token revocation (RFC 7009)', function revocation() {
  this.timeout(30_000);
  const server = suiteServer();
  const client = suiteClient(server);

  const revoke = (token: string, hint?: string, who: TestClient = client) => server.request(who.tpp).post('/oauth2/revoke').type('form')
    .send({ token, client_id: who.clientId, ...(hint ? { token_type_hint: hint } : {}) });
  const refresh = (refreshToken: string) => server.request(client.tpp).post('/oauth2/token').type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId });

  /** A consent with two access tokens (from the code and from a refresh) and its refresh token. */
  async function consent(): Promise<{ first: string; second: string; refreshToken: string; grantId: string }> {
    const { location, pair } = await sandboxAuthorization(server, client);
    const tokens = await exchangeCode(server, client, redirectParams(location).get('code')!, pair);
    const refreshed = await refresh(tokens.body.refresh_token);
    expect(refreshed.status, refreshed.text).to.equal(200);
    const stored = await server.auth.provider.AccessToken.find(tokens.body.access_token);
    return { first: tokens.body.access_token, second: refreshed.body.access_token, refreshToken: tokens.body.refresh_token, grantId: stored!.grantId! };
  }

  it('revoking a refresh token revokes it, every access token issued under it, and the consent', async () => {
    const { first, second, refreshToken, grantId } = await consent();
    const res = await revoke(refreshToken, 'refresh_token');
    expect(res.status).to.equal(200);
    const { provider } = server.auth;
    expect(await provider.RefreshToken.find(refreshToken)).to.equal(undefined);
    expect(await provider.AccessToken.find(first)).to.equal(undefined);
    expect(await provider.AccessToken.find(second)).to.equal(undefined);
    expect(await provider.Grant.find(grantId)).to.equal(undefined);
    expectError(await refresh(refreshToken), 400, 'invalid_grant', /^Invalid refresh token$/);
  });

  it('revoking an access token revokes only that token: the refresh token, the other access tokens and the consent stay', async () => {
    const { first, second, refreshToken, grantId } = await consent();
    expect((await revoke(first, 'access_token')).status).to.equal(200);
    const { provider } = server.auth;
    expect(await provider.AccessToken.find(first)).to.equal(undefined);
    expect(await provider.AccessToken.find(second)).to.not.equal(undefined);
    expect(await provider.RefreshToken.find(refreshToken)).to.not.equal(undefined);
    expect(await provider.Grant.find(grantId)).to.not.equal(undefined);
    expect((await refresh(refreshToken)).status).to.equal(200);
  });

  it('revokes with no hint or a wrong hint too', async () => {
    const { first, refreshToken } = await consent();
    expect((await revoke(first, 'refresh_token')).status).to.equal(200);
    expect(await server.auth.provider.AccessToken.find(first)).to.equal(undefined);
    expect((await revoke(refreshToken)).status).to.equal(200);
    expect(await server.auth.provider.RefreshToken.find(refreshToken)).to.equal(undefined);
  });

  it('answers 200 for unknown and already revoked tokens', async () => {
    expect((await revoke('no-such-token')).status).to.equal(200);
    const { first } = await consent();
    expect((await revoke(first)).status).to.equal(200);
    const again = await revoke(first);
    expect(again.status).to.equal(200);
    expect(again.text).to.equal('');
  });

  it('refuses to revoke another client\'s token, which stays valid', async () => {
    const { first, refreshToken } = await consent();
    const other = await registerClient(server, { tpp: await sandboxTpp({ organization: 'Other Ltd', authorisationNumber: 'OTHER2' }) });
    expectError(await revoke(first, 'access_token', other), 400, 'unauthorized_client');
    expectError(await revoke(refreshToken, 'refresh_token', other), 400, 'unauthorized_client');
    expect(await server.auth.provider.AccessToken.find(first)).to.not.equal(undefined);
    expect(await server.auth.provider.RefreshToken.find(refreshToken)).to.not.equal(undefined);
  });

  it('answers unsupported_token_type for an authorization code or a registration access token', async () => {
    const { location } = await sandboxAuthorization(server, client);
    const code = redirectParams(location).get('code')!;
    expectError(await revoke(code), 400, 'unsupported_token_type');
    const registered = await register(server, await sandboxTpp({ organization: 'Rat Ltd', authorisationNumber: 'RAT1' }));
    const owner: TestClient = { clientId: registered.clientId, tpp: (await sandboxTpp({ organization: 'Rat Ltd', authorisationNumber: 'RAT1' })), environment: 'sandbox' };
    expectError(await revoke(registered.token, undefined, owner), 400, 'unsupported_token_type');
  });

  it('revokes a client credentials token', async () => {
    const pisp = await registerClient(server, { roles: ['PSP_PI'], tpp: await sandboxTpp({ roles: ['PSP_PI'], organization: 'Pay Ltd', authorisationNumber: 'PAY1' }), body: { scope: 'pisp', redirect_uris: undefined } });
    const token = await server.request(pisp.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: pisp.clientId });
    expect(token.status, token.text).to.equal(200);
    expect((await revoke(token.body.access_token, 'access_token', pisp)).status).to.equal(200);
    expect(await server.auth.provider.ClientCredentials.find(token.body.access_token)).to.equal(undefined);
  });

  it('requires the client certificate', async () => {
    const res = await server.request().post('/oauth2/revoke').type('form').send({ token: 'x', client_id: client.clientId });
    expectError(res, 401, 'invalid_client');
  });

  it('never answers a 5xx or leaks a stack trace, whatever is posted', async () => {
    await fc.assert(fc.asyncProperty(
      fc.dictionary(fc.constantFrom('token', 'token_type_hint', 'client_id', 'extra', '__proto__'), fc.oneof(fc.string({ maxLength: 40 }), fc.constant(client.clientId))),
      async (fields) => {
        const res = await server.request(client.tpp).post('/oauth2/revoke').type('form').send(fields);
        expect(res.status, res.text).to.be.below(500);
        expect(res.text).not.to.match(LEAK);
        if (res.status >= 400) expect(res.body.error).to.be.a('string');
      },
    ), { numRuns: 100 });
  });
});
