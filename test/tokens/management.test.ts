/**
 * The bank's management API: a PSU's consents, their withdrawal, the suspension of a TPP
 * organization; and the audit trail those and the endpoints leave, without secrets.
 */
import { expect } from 'chai';

import { exchangeCode, redirectParams, registerClient, requestParams, authorizationUrl, entryPath, sandboxAuthorization, type TestClient } from '../authorization/helpers.js';
import { expectError, aispBody } from '../registration/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { suiteClock, suiteServer } from '../support/suite.js';

const SECRET = 'resource-server-secret-0123456789abcdef';
const DAY = 24 * 60 * 60 * 1000;

describe('management by the bank', function management() {
  this.timeout(30_000);
  const clock = suiteClock();
  const server = suiteServer({ options: { now: clock.now, resourceServers: [{ id: 'api', secret: SECRET }] } });

  const introspect = (token: string) => server.request().post('/oauth2/introspect').type('form')
    .set('Authorization', `Basic ${Buffer.from(`api:${SECRET}`).toString('base64')}`).send({ token });
  const refresh = (client: TestClient, refreshToken: string) => server.request(client.tpp).post('/oauth2/token').type('form')
    .send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId });

  async function consent(client: TestClient, psuId: string, accounts: string[]): Promise<Record<string, string>> {
    const { location, pair } = await sandboxAuthorization(server, client, { psuId, accounts });
    const res = await exchangeCode(server, client, redirectParams(location).get('code')!, pair);
    expect(res.status, res.text).to.equal(200);
    return res.body as Record<string, string>;
  }

  async function organization(name: string, roles: ('PSP_AI' | 'PSP_PI')[] = ['PSP_AI']): Promise<TestClient> {
    const tpp = await sandboxTpp({ roles, organization: name, authorisationNumber: name.toUpperCase().replace(/[^A-Z0-9]/g, '') });
    return registerClient(server, { roles, tpp, body: { client_name: name } });
  }

  it('lists a PSU\'s consents in force, with the TPP, scope, accounts, SCA time and end', async () => {
    const alpha = await organization('Alpha Money');
    const beta = await organization('Beta Budget');
    await consent(alpha, 'sandbox-anna', ['sb-anna-1']);
    await consent(beta, 'sandbox-anna', ['sb-anna-1', 'sb-anna-2']);
    await consent(alpha, 'sandbox-claire', ['sb-claire-1']);
    const list = await server.auth.management.consentsOf('sandbox-anna');
    expect(list.map((c) => c.clientName).sort()).to.include.members(['Alpha Money', 'Beta Budget']);
    const betaConsent = list.find((c) => c.clientName === 'Beta Budget')!;
    expect(betaConsent).to.include({ clientId: beta.clientId, providerLegalId: 'PSDFR-NCA-BETABUDGET', environment: 'sandbox', scope: 'aisp' });
    expect(betaConsent.accounts.map((a) => a.id)).to.deep.equal(['sb-anna-1', 'sb-anna-2']);
    expect(betaConsent.expiresAt.getTime() - betaConsent.scaTime.getTime()).to.equal(180 * DAY);
    expect(list.every((c) => c.clientId !== undefined)).to.equal(true);
    expect((await server.auth.management.consentsOf('sandbox-claire')).map((c) => c.clientId)).to.deep.equal([alpha.clientId]);
    clock.offset = 181 * DAY;
    expect(await server.auth.management.consentsOf('sandbox-claire')).to.deep.equal([]);
  });

  it('withdraws a consent: the grant and every token go at once; another PSU cannot withdraw it', async () => {
    const gamma = await organization('Gamma Apps');
    const tokens = await consent(gamma, 'sandbox-claire', ['sb-claire-1']);
    const [mine] = (await server.auth.management.consentsOf('sandbox-claire')).filter((c) => c.clientId === gamma.clientId);
    expect(await server.auth.management.withdrawConsent('sandbox-anna', mine!.grantId)).to.equal(false);
    expect((await introspect(tokens.access_token!)).body.active).to.equal(true);
    expect(await server.auth.management.withdrawConsent('sandbox-claire', mine!.grantId)).to.equal(true);
    expect((await introspect(tokens.access_token!)).body).to.deep.equal({ active: false });
    expectError(await refresh(gamma, tokens.refresh_token!), 400, 'invalid_grant', /^Invalid refresh token$/);
    expect((await server.auth.management.consentsOf('sandbox-claire')).some((c) => c.grantId === mine!.grantId)).to.equal(false);
    expect(server.logs.some((line) => line.fields.event === 'consent.withdrawn' && line.fields.grantId === mine!.grantId)).to.equal(true);
  });

  it('suspends an organization: all its clients stop at once and its tokens are revoked; others go on; reinstating lets it start again', async () => {
    const delta = await organization('Delta Pay', ['PSP_AI', 'PSP_PI']);
    const other = await organization('Epsilon Data');
    const tokens = await consent(delta, 'sandbox-anna', ['sb-anna-1']);
    const otherTokens = await consent(other, 'sandbox-anna', ['sb-anna-2']);
    const { clientIds } = await server.auth.management.suspendOrganization('PSDFR-NCA-DELTAPAY');
    expect(clientIds).to.deep.equal([delta.clientId]);
    expect(await server.auth.management.isSuspended('PSDFR-NCA-DELTAPAY')).to.equal(true);

    expect((await introspect(tokens.access_token!)).body).to.deep.equal({ active: false });
    expectError(await refresh(delta, tokens.refresh_token!), 401, 'invalid_client', /suspended/);
    expectError(await server.request(delta.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: delta.clientId }), 401, 'invalid_client', /suspended/);
    expectError(await server.request(delta.tpp).post('/oauth2/register').send(aispBody()), 401, 'invalid_client', /suspended/);
    expectError(await server.request(delta.tpp).get(`/oauth2/register/${delta.clientId}`), 401, 'invalid_client', /suspended/);
    const params = requestParams(delta);
    const redirect = await new PsuBrowser().get(authorizationUrl(server, params, entryPath('sandbox')));
    const back = redirectParams(redirect.location);
    expect(back.get('error')).to.equal('unauthorized_client');
    expect(back.get('state')).to.equal(params.state);

    expect((await introspect(otherTokens.access_token!)).body.active).to.equal(true);
    expect((await refresh(other, otherTokens.refresh_token!)).status).to.equal(200);

    await server.auth.management.reinstateOrganization('PSDFR-NCA-DELTAPAY');
    expectError(await refresh(delta, tokens.refresh_token!), 400, 'invalid_grant', /^Invalid refresh token$/);
    const cc = await server.request(delta.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: delta.clientId });
    expect(cc.status, cc.text).to.equal(200);
  });

  it('keeps an audit trail of security events without tokens, secrets or certificates', async () => {
    const zeta = await organization('Zeta Finance');
    const tokens = await consent(zeta, 'sandbox-anna', ['sb-anna-1']);
    await refresh(zeta, 'not-a-token');
    await server.request(zeta.tpp).post('/oauth2/revoke').type('form').send({ token: tokens.refresh_token, client_id: zeta.clientId });
    await server.request(await sandboxTpp({ roles: [] })).post('/oauth2/register').send(aispBody());
    const events = new Set(server.logs.map((line) => line.fields.event));
    for (const event of ['registration.created', 'psu.consent_granted', 'token.issued', 'token.refused', 'grant.revoked', 'certificate.rejected', 'organization.suspended', 'consent.withdrawn']) {
      expect(events, event).to.include(event);
    }
    const issued = server.logs.find((line) => line.fields.event === 'token.issued' && line.fields.clientId === zeta.clientId);
    expect(issued?.fields).to.include({ grantType: 'authorization_code', scope: 'aisp', psu: 'sandbox-anna' });
    const text = JSON.stringify(server.logs);
    for (const secret of [tokens.access_token!, tokens.refresh_token!, SECRET, 'BEGIN CERTIFICATE', 'PRIVATE KEY']) {
      expect(text.includes(secret), `the logs hold ${secret.slice(0, 20)}`).to.equal(false);
    }
  });
});
