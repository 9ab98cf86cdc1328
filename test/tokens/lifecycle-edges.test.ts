/**
 * The token lifecycle at its edges: a withdrawal racing the code exchange, a suspension in the
 * middle of a PSU's authorization, a refused refresh under rotation, a reinstated TPP's
 * registration access token, and another client's code presented for revocation.
 */
import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import {
  authorizationUrl,
  entryPath,
  exchangeCode,
  openPages,
  pkce,
  redirectParams,
  registerClient,
  requestParams,
  sandboxAuthorization,
  submit,
  type TestClient,
} from '../authorization/helpers.js';
import { expectError } from '../registration/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser } from '../support/psu-browser.js';
import { startServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';

const SECRET = 'resource-server-secret-0123456789abcdef';

describe('token lifecycle edges', function edges() {
  this.timeout(30_000);
  const server = suiteServer({ options: { storage: new MemoryStorage(), resourceServers: [{ id: 'api', secret: SECRET }] } });
  let serial = 0;

  async function organization(roles: ('PSP_AI' | 'PSP_PI')[] = ['PSP_AI']): Promise<TestClient> {
    serial += 1;
    const tpp = await sandboxTpp({ roles, organization: `Edge ${serial}`, authorisationNumber: `EDGE${serial}` });
    return registerClient(server, { roles, tpp });
  }
  const refresh = (client: TestClient, token: string, tpp = client.tpp) => server.request(tpp).post('/oauth2/token').type('form')
    .send({ grant_type: 'refresh_token', refresh_token: token, client_id: client.clientId });
  const introspect = (token: string) => server.request().post('/oauth2/introspect').type('form')
    .set('Authorization', `Basic ${Buffer.from(`api:${SECRET}`).toString('base64')}`).send({ token });

  it('a consent withdrawn while its code is exchanged stays withdrawn: no refresh, no active token, not listed', async () => {
    const client = await organization();
    const { location, pair } = await sandboxAuthorization(server, client, { params: { scope: 'aisp extended_transaction_history' } });
    let withdrawal: Promise<boolean> | undefined;
    server.auth.provider.once('access_token.saved', (token: { grantId?: string }) => {
      withdrawal = server.auth.management.withdrawConsent('sandbox-anna', String(token.grantId));
    });
    const exchanged = await exchangeCode(server, client, redirectParams(location).get('code')!, pair);
    expect(await withdrawal).to.equal(true);
    if (exchanged.status === 200) {
      expectError(await refresh(client, exchanged.body.refresh_token), 400, 'invalid_grant', /^Invalid refresh token$/);
      expect((await introspect(exchanged.body.access_token)).body).to.deep.equal({ active: false });
    }
    expect((await server.auth.management.consentsOf('sandbox-anna')).some((c) => c.clientId === client.clientId)).to.equal(false);
  });

  it('a TPP suspended while the PSU signs in gets no consent and no code', async () => {
    const client = await organization();
    const browser = new PsuBrowser();
    const params = requestParams(client);
    const signIn = await openPages(server, browser, authorizationUrl(server, params, entryPath('sandbox')));
    const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
    await server.auth.management.suspendOrganization(`PSDFR-NCA-EDGE${serial}`);
    const done = await submit(server, browser, consent, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
    const back = redirectParams(done.location);
    expect(back.get('error')).to.equal('unauthorized_client');
    expect(back.get('code')).to.equal(null);
    expect(back.get('state')).to.equal(params.state);
    await server.auth.management.reinstateOrganization(`PSDFR-NCA-EDGE${serial}`);
    expect((await server.auth.management.consentsOf('sandbox-anna')).some((c) => c.clientId === client.clientId)).to.equal(false);
  });

  it('a TPP suspended between the consent and the return to the server gets no code', async () => {
    const client = await organization();
    const browser = new PsuBrowser();
    const params = requestParams(client);
    const signIn = await openPages(server, browser, authorizationUrl(server, params, entryPath('sandbox')));
    const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
    const decided = await browser.post(formAction(consent, '/consent'), { csrf: csrfOf(consent), decision: 'grant', accounts: 'sb-anna-1' });
    expect(decided.status).to.equal(303);
    await server.auth.management.suspendOrganization(`PSDFR-NCA-EDGE${serial}`);
    const done = await browser.follow(decided, server.url);
    const back = redirectParams(done.location);
    expect(back.get('error')).to.equal('unauthorized_client');
    expect(back.get('code')).to.equal(null);
    await server.auth.management.reinstateOrganization(`PSDFR-NCA-EDGE${serial}`);
  });

  it('under rotation, a refresh refused for a missing role leaves the refresh token usable', async () => {
    const rotating = await startServer({ options: { tokens: { rotateRefreshTokens: true } } });
    try {
      const client = await registerClient(rotating);
      const pair = pkce();
      const { location } = await sandboxAuthorization(rotating, client, { pair });
      const tokens = await exchangeCode(rotating, client, redirectParams(location).get('code')!, pair);
      const shrunk = await sandboxTpp({ roles: ['PSP_PI'] });
      const refused = await rotating.request(shrunk).post('/oauth2/token').type('form')
        .send({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: client.clientId });
      expectError(refused, 400, 'unauthorized_client', /PSP_AI/);
      const retried = await rotating.request(client.tpp).post('/oauth2/token').type('form')
        .send({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: client.clientId });
      expect(retried.status, retried.text).to.equal(200);
      expect(retried.body.refresh_token).to.be.a('string').and.not.equal(tokens.body.refresh_token);
    } finally {
      await rotating.close();
    }
  });

  it('a reinstated TPP keeps its registration access token', async () => {
    serial += 1;
    const tpp = await sandboxTpp({ organization: `Edge ${serial}`, authorisationNumber: `EDGE${serial}` });
    const created = await server.request(tpp).post('/oauth2/register').send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Rat' });
    expect(created.status).to.equal(201);
    await server.auth.management.suspendOrganization(`PSDFR-NCA-EDGE${serial}`);
    await server.auth.management.reinstateOrganization(`PSDFR-NCA-EDGE${serial}`);
    const read = await server.request(tpp).get(new URL(created.body.registration_client_uri).pathname)
      .set('Authorization', `Bearer ${created.body.registration_access_token}`);
    expect(read.status, read.text).to.equal(200);
  });

  it('another client\'s live code presented for revocation is answered like an unknown token, and still works for its client', async () => {
    const owner = await organization();
    const other = await organization();
    const pair = pkce();
    const { location } = await sandboxAuthorization(server, owner, { pair });
    const code = redirectParams(location).get('code')!;
    const res = await server.request(other.tpp).post('/oauth2/revoke').type('form').send({ token: code, client_id: other.clientId });
    expect(res.status, res.text).to.equal(200);
    expect((await exchangeCode(server, owner, code, pair)).status).to.equal(200);
  });
});
