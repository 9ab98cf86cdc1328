/**
 * The token endpoint's PSD2 rules after a PSU's consent (DESIGN 3.2–3.3): the consent's end
 * 180 days after SCA, scope narrowing on refresh, the stable refresh error texts, rotation, the
 * client credentials grant for payment initiators only, lifetimes per scope, and the roles of the
 * certificate presented at each request.
 */
import { createHash } from 'node:crypto';

import { expect } from 'chai';

import {
  exchangeCode,
  redirectParams,
  registerClient,
  sandboxAuthorization,
  type TestClient,
} from '../authorization/helpers.js';
import { expectError } from '../registration/helpers.js';
import { sandboxTpp, type TppCredentials } from '../support/pki.js';
import { startServer, type StartOptions, type TestServer } from '../support/server.js';
import { suiteClock, suiteServer } from '../support/suite.js';

const DAY = 24 * 60 * 60 * 1000;

function refresh(server: TestServer, client: TestClient, refreshToken: string, extra: Record<string, string> = {}, tpp: TppCredentials = client.tpp) {
  return server.request(tpp).post('/oauth2/token').type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId, ...extra });
}

/** Authorizes `scope` for `client` through the sandbox page and exchanges the code. */
async function tokensFor(server: TestServer, client: TestClient, scope = 'aisp'): Promise<Record<string, string>> {
  const { location, pair } = await sandboxAuthorization(server, client, { params: { scope } });
  const res = await exchangeCode(server, client, redirectParams(location).get('code')!, pair);
  expect(res.status, res.text).to.equal(200);
  return res.body as Record<string, string>;
}

describe('token endpoint: PSD2 policies', function tokenPolicy() {
  this.timeout(30_000);
  const clock = suiteClock();

  async function serverWith(options: StartOptions['options'] = {}): Promise<TestServer> {
    return startServer({ options: { now: clock.now, ...options } });
  }

  describe('refresh within the consent', () => {
    const server = suiteServer({ options: { now: clock.now } });

    it('works until 180 days after the SCA; refreshing never moves that date', async () => {
      const client = await registerClient(server);
      const tokens = await tokensFor(server, client);
      clock.offset = 100 * DAY;
      const early = await refresh(server, client, tokens.refresh_token!);
      expect(early.status, early.text).to.equal(200);
      expect(early.body.access_token).to.be.a('string');
      clock.offset = 180 * DAY - 60_000;
      expect((await refresh(server, client, tokens.refresh_token!)).status).to.equal(200);
      clock.offset = 180 * DAY + 1000;
      expectError(await refresh(server, client, tokens.refresh_token!), 400, 'invalid_grant', /^Refresh token has expired$/);
    });

    it('yields aisp only for an aisp extended_transaction_history grant; asking for the history is invalid_scope', async () => {
      const client = await registerClient(server);
      const tokens = await tokensFor(server, client, 'aisp extended_transaction_history');
      expect(tokens.scope!.split(' ').sort()).to.deep.equal(['aisp', 'extended_transaction_history']);
      const plain = await refresh(server, client, tokens.refresh_token!);
      expect(plain.body.scope).to.equal('aisp');
      const asked = await refresh(server, client, tokens.refresh_token!, { scope: 'aisp' });
      expect(asked.body.scope).to.equal('aisp');
      for (const scope of ['extended_transaction_history', 'aisp extended_transaction_history']) {
        expectError(await refresh(server, client, tokens.refresh_token!, { scope }), 400, 'invalid_scope', /extended_transaction_history/);
      }
    });

    it('answers "Invalid refresh token" for an unknown, a revoked and another client\'s refresh token', async () => {
      const client = await registerClient(server);
      const other = await registerClient(server, { tpp: await sandboxTpp({ organization: 'Other Ltd', authorisationNumber: 'OTHER1' }) });
      const tokens = await tokensFor(server, client);
      expectError(await refresh(server, client, 'not-a-refresh-token'), 400, 'invalid_grant', /^Invalid refresh token$/);
      expectError(await refresh(server, other, tokens.refresh_token!), 400, 'invalid_grant', /^Invalid refresh token$/);
      const revoked = await server.request(client.tpp).post('/oauth2/revoke').type('form')
        .send({ token: tokens.refresh_token, token_type_hint: 'refresh_token', client_id: client.clientId });
      expect(revoked.status).to.equal(200);
      expectError(await refresh(server, client, tokens.refresh_token!), 400, 'invalid_grant', /^Invalid refresh token$/);
    });

    it('gives 3600-second access tokens for aisp, and keeps the same refresh token (rotation is off)', async () => {
      const client = await registerClient(server);
      const tokens = await tokensFor(server, client);
      expect(Number(tokens.expires_in)).to.be.within(3590, 3600);
      const refreshed = await refresh(server, client, tokens.refresh_token!);
      expect([undefined, tokens.refresh_token]).to.include(refreshed.body.refresh_token);
      expect(refreshed.body.expires_in).to.be.within(3590, 3600);
    });
  });

  describe('certificates at each token request', () => {
    const server = suiteServer({ options: { now: clock.now } });

    it('a renewed certificate of the same organization keeps working without re-registration', async () => {
      const client = await registerClient(server);
      const tokens = await tokensFor(server, client);
      const renewed = await sandboxTpp({ roles: ['PSP_AI'] });
      expect(renewed.der.equals(client.tpp.der)).to.equal(false);
      const res = await refresh(server, client, tokens.refresh_token!, {}, renewed);
      expect(res.status, res.text).to.equal(200);
      const stored = await server.auth.provider.AccessToken.find(res.body.access_token);
      expect(stored?.['x5t#S256'], 'bound to the renewed certificate').to.equal(createHash('sha256').update(renewed.der).digest('base64url'));
    });

    it('a certificate that lost the PSP_AI role loses aisp: unauthorized_client naming the role', async () => {
      const client = await registerClient(server);
      const tokens = await tokensFor(server, client);
      const shrunk = await sandboxTpp({ roles: ['PSP_PI'] });
      expectError(await refresh(server, client, tokens.refresh_token!, {}, shrunk), 400, 'unauthorized_client', /PSP_AI/);
    });

    it('a certificate of another organization is invalid_client', async () => {
      const client = await registerClient(server);
      const tokens = await tokensFor(server, client);
      const stranger = await sandboxTpp({ roles: ['PSP_AI'], organization: 'Stranger', authorisationNumber: 'STRANGER' });
      expectError(await refresh(server, client, tokens.refresh_token!, {}, stranger), 401, 'invalid_client');
    });
  });

  describe('client credentials', () => {
    const server = suiteServer({ options: { now: clock.now, tokens: { accessTokenLifetime: { pisp: 300 } } } });

    const clientCredentials = (client: TestClient, tpp: TppCredentials = client.tpp) => server.request(tpp).post('/oauth2/token').type('form')
      .send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId });

    it('gives a payment initiator a short-lived pisp token bound to its certificate, without refresh token', async () => {
      const client = await registerClient(server, { roles: ['PSP_PI'], body: { scope: 'pisp', redirect_uris: undefined } });
      const res = await clientCredentials(client);
      expect(res.status, res.text).to.equal(200);
      expect(res.body.scope).to.equal('pisp');
      expect(res.body.expires_in).to.be.within(290, 300);
      expect(res.body.refresh_token).to.equal(undefined);
    });

    it('refuses any client without the PSP_PI role with unauthorized_client', async () => {
      const client = await registerClient(server, { roles: ['PSP_AI'] });
      expectError(await clientCredentials(client), 400, 'unauthorized_client', /PSP_PI/);
    });

    it('refuses a payment initiator whose certificate lost the PSP_PI role', async () => {
      const client = await registerClient(server, { roles: ['PSP_PI'], body: { scope: 'pisp', redirect_uris: undefined } });
      expectError(await clientCredentials(client, await sandboxTpp({ roles: ['PSP_AI'] })), 400, 'unauthorized_client', /PSP_PI/);
    });
  });

  describe('options', () => {
    it('take access token lifetimes per scope', async () => {
      const server = await serverWith({ tokens: { accessTokenLifetime: { aisp: 1200 } } });
      try {
        const client = await registerClient(server);
        const tokens = await tokensFor(server, client);
        expect(Number(tokens.expires_in)).to.be.within(1190, 1200);
      } finally {
        await server.close();
      }
    });

    it('rotate refresh tokens when asked; reusing a rotated one revokes the grant', async () => {
      const server = await serverWith({ tokens: { rotateRefreshTokens: true } });
      try {
        const client = await registerClient(server);
        const tokens = await tokensFor(server, client);
        const first = await refresh(server, client, tokens.refresh_token!);
        expect(first.body.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
        expectError(await refresh(server, client, tokens.refresh_token!), 400, 'invalid_grant', /^Invalid refresh token$/);
        expectError(await refresh(server, client, first.body.refresh_token), 400, 'invalid_grant', /^Invalid refresh token$/);
        expect(await server.auth.provider.AccessToken.find(first.body.access_token)).to.equal(undefined);
      } finally {
        await server.close();
      }
    });

    it('refuse a consent lifetime beyond 180 days', async () => {
      let thrown: unknown;
      try {
        await serverWith({ tokens: { consentLifetime: 181 * 86_400 } });
      } catch (error) {
        thrown = error;
      }
      expect((thrown as Error).message).to.match(/tokens\.consentLifetime.*180 days/);
    });
  });
});
