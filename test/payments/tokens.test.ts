/**
 * The token of a confirmed payment: scope pisp, the confirmed payment in authorization_details,
 * for the payment API (RFC 8707), bound to the PISP's certificate, without a refresh token; what
 * introspection tells the payment API; PKCE when the PISP gave a challenge; no payment in a client
 * credentials token.
 */
import { createHash } from 'node:crypto';

import { expect } from 'chai';

import type { OpenedPaymentAuthorization } from '../../lib/index.js';
import { exchangeCode, pkce, REDIRECT_URI, suiteClient, type Pkce, type TestClient } from '../authorization/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';
import { decide, expectCode, paymentPage } from './harness.js';
import { PAYMENT, pispClient, request } from './helpers.js';

const SECRET = 'payment-api-introspection-secret-0123456789';
const NO_PKCE: Pkce = { verifier: '', challenge: '' };

describe('payment authorizations: the token of a confirmed payment', function tokens() {
  this.timeout(30_000);
  const server = suiteServer({ options: { resourceServers: [{ id: 'payment-api', secret: SECRET }] } });
  /** A PISP that is also an AISP registered for refresh tokens. */
  const client = suiteClient(server, async () => ({
    tpp: await sandboxTpp({ roles: ['PSP_AI', 'PSP_PI'], organization: 'All In One', authorisationNumber: 'ALLIN1' }),
    roles: ['PSP_AI', 'PSP_PI'],
    body: { grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], client_name: 'All In One' },
  }));

  const introspect = (token: string, on: TestServer = server) => on.request().post('/oauth2/introspect').auth('payment-api', SECRET).type('form').send({ token });
  const token = (form: Record<string, string>, by: TestClient = client) => server.request(by.tpp).post('/oauth2/token').type('form').send({ client_id: by.clientId, ...form });

  /** Opens a payment, has it confirmed by `psuId`, and returns its code. */
  async function confirmed(overrides: Parameters<typeof request>[1] = {}, by: TestClient = client, on: TestServer = server, psuId = 'sandbox-anna'): Promise<{ opened: OpenedPaymentAuthorization; code: string }> {
    const opened = await on.auth.payments.openInitiation(request(by, overrides));
    const { browser, page } = await paymentPage(on, opened.url, psuId);
    const code = expectCode(await decide(on, browser, page, { decision: 'grant' }), overrides.state ?? 'pisp-state-1');
    return { opened, code };
  }

  it('gives scope pisp and the confirmed payment, for the payment API, bound to the certificate, without a refresh token', async () => {
    const { opened, code } = await confirmed();
    const before = Math.floor(Date.now() / 1000);
    const res = await exchangeCode(server, client, code, NO_PKCE, { code_verifier: undefined });
    expect(res.status, res.text).to.equal(200);
    expect(res.headers['cache-control']).to.include('no-store');
    expect(res.body).to.include({ scope: 'pisp', token_type: 'bearer', expires_in: 600 });
    expect(res.body.authorization_details).to.deep.equal(opened.authorizationDetails);
    expect(res.body).to.not.have.any.keys('refresh_token', 'id_token');

    const answer = await introspect(res.body.access_token);
    expect(answer.status, answer.text).to.equal(200);
    const body = answer.body as Record<string, unknown>;
    expect(body).to.include({ active: true, client_id: client.clientId, scope: 'pisp', sub: 'sandbox-anna', token_type: 'Bearer', aud: `${server.url}/payments`, provider_legal_id: 'PSDFR-NCA-ALLIN1', psd2_environment: 'sandbox' });
    expect(body.authorization_details).to.deep.equal(opened.authorizationDetails);
    expect(body.cnf).to.deep.equal({ 'x5t#S256': createHash('sha256').update(client.tpp.der).digest('base64url') });
    expect(body.accounts).to.deep.equal([]);
    expect(body.sca_time).to.be.within(before - 60, before + 5);
    expect(body.exp).to.equal((body.iat as number) + 600);
    // A payment's token serves that payment alone: no lasting consent.
    expect(body).to.not.have.property('consent_expires_at');
  });

  it('names the PSU\'s account to debit when the payment gave one', async () => {
    const { opened, code } = await confirmed({ payment: { ...PAYMENT, debtorAccount: 'de02 1203 0000 0000 2020 51' } });
    expect(opened.authorizationDetails[0]!.debtorAccount).to.deep.equal({ iban: 'DE02120300000000202051' });
    const res = await exchangeCode(server, client, code, NO_PKCE, { code_verifier: undefined });
    expect(res.body.authorization_details).to.deep.equal(opened.authorizationDetails);
    const body = (await introspect(res.body.access_token)).body as Record<string, unknown>;
    expect(body.accounts).to.deep.equal([{ id: 'sb-anna-2', iban: 'DE02120300000000202051' }]);
    expect(body.authorization_details).to.deep.equal(opened.authorizationDetails);
  });

  it('carries a cancellation as a cancellation', async () => {
    const opened = await server.auth.payments.openCancellation(request(client, { state: 'cancel-1' }));
    const { browser, page } = await paymentPage(server, opened.url);
    const code = expectCode(await decide(server, browser, page, { decision: 'grant' }), 'cancel-1');
    const res = await exchangeCode(server, client, code, NO_PKCE, { code_verifier: undefined });
    expect(res.body.authorization_details).to.deep.equal([{ ...opened.authorizationDetails[0], type: 'payment_cancellation' }]);
    expect((await introspect(res.body.access_token)).body.authorization_details[0].type).to.equal('payment_cancellation');
  });

  it('ignores authorization_details sent with the code: the token carries what the PSU confirmed', async () => {
    const { opened, code } = await confirmed();
    const forged = [{ ...opened.authorizationDetails[0], instructedAmount: { currency: 'EUR', amount: '99999.00' }, paymentId: 'pmt-forged' }];
    const res = await exchangeCode(server, client, code, NO_PKCE, { code_verifier: undefined, authorization_details: JSON.stringify(forged) });
    if (res.status === 200) expect(res.body.authorization_details).to.deep.equal(opened.authorizationDetails);
    else expect(res.body.error).to.be.oneOf(['invalid_authorization_details', 'invalid_grant']);
  });

  it('uses the payment API\'s resource indicator from the options', async () => {
    const resource = 'https://api.bank.example/psd2/v1/payments';
    const other = await startServer({ options: { payments: { resource }, resourceServers: [{ id: 'payment-api', secret: SECRET }] } });
    try {
      const pisp = await pispClient(other);
      const { code } = await confirmed({}, pisp, other);
      const res = await exchangeCode(other, pisp, code, NO_PKCE, { code_verifier: undefined });
      expect(res.status, res.text).to.equal(200);
      expect((await introspect(res.body.access_token, other)).body.aud).to.equal(resource);
      const elsewhere = await other.request(pisp.tpp).post('/oauth2/token').type('form').send({ client_id: pisp.clientId, grant_type: 'client_credentials', scope: 'pisp', resource: `${other.url}/payments` });
      expect(elsewhere.status, elsewhere.text).to.equal(400);
      expect(elsewhere.body.error).to.equal('invalid_target');
    } finally {
      await other.close();
    }
  });

  describe('the code', () => {
    it('needs the verifier when the PISP gave a code challenge', async () => {
      const pair = pkce();
      const { code } = await confirmed({ codeChallenge: pair.challenge });
      for (const verifier of [undefined, '', pkce().verifier, `${pair.verifier}x`, pair.challenge]) {
        const res = await exchangeCode(server, client, code, pair, { code_verifier: verifier });
        expect(res.status, `${verifier} ${res.text}`).to.equal(400);
        expect(res.body.error).to.equal('invalid_grant');
        expect(res.body).to.not.have.property('access_token');
      }
      const res = await exchangeCode(server, client, code, pair);
      expect(res.status, res.text).to.equal(200);
      expect(res.body.scope).to.equal('pisp');
    });

    it('is redeemed without a verifier when the PISP gave no challenge', async () => {
      const { code } = await confirmed();
      const res = await exchangeCode(server, client, code, NO_PKCE, { code_verifier: undefined });
      expect(res.status, res.text).to.equal(200);
    });

    it('is the PISP\'s alone, for its redirect URI', async () => {
      const { code } = await confirmed();
      const thief = await pispClient(server, 'sandbox', 'Code Thief');
      const stolen = await exchangeCode(server, thief, code, NO_PKCE, { code_verifier: undefined });
      expect(stolen.status, stolen.text).to.equal(400);
      expect(stolen.body.error).to.equal('invalid_grant');
      // The PISP's certificate with another client's id authenticates no one.
      const borrowed = await server.request(client.tpp).post('/oauth2/token').type('form').send({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: thief.clientId });
      expect(borrowed.status, borrowed.text).to.be.oneOf([400, 401]);
      expect(borrowed.body).to.not.have.property('access_token');
      const elsewhere = await exchangeCode(server, client, code, NO_PKCE, { code_verifier: undefined, redirect_uri: 'https://tpp.example/other' });
      expect(elsewhere.status).to.equal(400);
      expect(elsewhere.body.error).to.equal('invalid_grant');
      const res = await exchangeCode(server, client, code, NO_PKCE, { code_verifier: undefined });
      expect(res.status, res.text).to.equal(200);
    });

    it('is refused for another resource than the payment API', async () => {
      const { code } = await confirmed();
      const res = await exchangeCode(server, client, code, NO_PKCE, { code_verifier: undefined, resource: 'https://evil.example/api' });
      expect(res.status, res.text).to.equal(400);
      expect(res.body.error).to.equal('invalid_target');
      expect(res.body).to.not.have.property('access_token');
    });
  });

  describe('client credentials', () => {
    it('never carry a payment: authorization_details are refused', async () => {
      const { opened } = await confirmed();
      const res = await token({ grant_type: 'client_credentials', scope: 'pisp', authorization_details: JSON.stringify(opened.authorizationDetails) });
      expect(res.status, res.text).to.equal(400);
      expect(res.body.error).to.equal('invalid_authorization_details');
      expect(res.body).to.not.have.property('access_token');
      const plain = await token({ grant_type: 'client_credentials', scope: 'pisp' });
      expect(plain.status, plain.text).to.equal(200);
      expect(plain.body).to.not.have.property('authorization_details');
      const body = (await introspect(plain.body.access_token)).body as Record<string, unknown>;
      expect(body).to.include({ active: true, scope: 'pisp' });
      expect(body).to.not.have.any.keys('authorization_details', 'sub', 'accounts');
    });

    it('are refused for another resource than the payment API', async () => {
      const res = await token({ grant_type: 'client_credentials', scope: 'pisp', resource: 'https://evil.example/api' });
      expect(res.status, res.text).to.equal(400);
      expect(res.body.error).to.equal('invalid_target');
    });
  });

  it('ends with its revocation by the PISP', async () => {
    const { code } = await confirmed();
    const res = await exchangeCode(server, client, code, NO_PKCE, { code_verifier: undefined });
    const revoked = await server.request(client.tpp).post('/oauth2/revoke').type('form').send({ token: res.body.access_token, client_id: client.clientId });
    expect(revoked.status, revoked.text).to.equal(200);
    expect((await introspect(res.body.access_token)).body).to.deep.equal({ active: false });
  });
});
