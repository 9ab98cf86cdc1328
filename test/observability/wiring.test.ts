/**
 * Observability as the server wires it, over real HTTPS with mutual TLS: the interaction id of a
 * TPP's request echoed and logged, the token endpoint's requests and tokens in the metrics, the
 * PSU's journey through the pages, the bank's revocations, the pages' requests in the PSD2
 * statistics, and nothing a TPP or PSU could be recognised by in the scraped text.
 */
import { expect } from 'chai';

import { exchangeCode, pkce, redirectParams, registerClient, submit, suiteClient, type TestClient } from '../authorization/helpers.js';
import { openSandboxConsent, openSignIn } from '../pages/helpers.js';
import { openPayment, request as paymentRequest, sandboxSignIn } from '../payments/helpers.js';
import { paymentsSuite } from '../support/pages.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { logsPerTest, suiteServer } from '../support/suite.js';
import { sample } from './helpers.js';

const UUID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const today = () => new Date().toISOString().slice(0, 10);

describe('observability: wired into the server', function wiring() {
  this.timeout(30_000);
  const server = suiteServer();
  const pisp = suiteClient(server, { roles: ['PSP_PI'], body: { scope: 'pisp', redirect_uris: undefined } });
  const aisp = suiteClient(server);
  logsPerTest(server);

  const scrape = async () => (await server.auth.metrics.scrape()).body;
  const clientCredentials = (client: TestClient, scope = 'pisp') => server.request(client.tpp).post('/oauth2/token').type('form')
    .send({ grant_type: 'client_credentials', scope, client_id: client.clientId });
  const journey = async (step: string) => sample(await scrape(), 'psd2_as_psu_journey_total', { step }) ?? 0;

  describe('x-fapi-interaction-id', () => {
    it('echoes a TPP\'s valid id, and writes it on the log lines of its request', async () => {
      const res = await clientCredentials(pisp).set('x-fapi-interaction-id', UUID);
      expect(res.status, res.text).to.equal(200);
      expect(res.headers['x-fapi-interaction-id']).to.equal(UUID);
      const issued = await server.logged((entry) => entry.fields.event === 'token.issued');
      expect(issued.fields).to.include({ interactionId: UUID });
    });

    it('replaces an id that is not a UUID with one of its own, logged as replaced', async () => {
      const res = await clientCredentials(pisp).set('x-fapi-interaction-id', '<script>alert(1)</script>');
      expect(res.status, res.text).to.equal(200);
      const answered = String(res.headers['x-fapi-interaction-id']);
      expect(answered).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const issued = await server.logged((entry) => entry.fields.event === 'token.issued');
      expect(issued.fields).to.include({ interactionId: answered, interactionIdReplaced: true });
      expect(JSON.stringify(server.logs)).not.to.contain('<script>');
    });

    it('gives every answer one, an error and a request without certificate included', async () => {
      const refused = await server.request().post('/oauth2/token').type('form').send({ grant_type: 'client_credentials' });
      expect(refused.status).to.equal(401);
      expect(refused.headers['x-fapi-interaction-id']).to.be.a('string').with.length(36);
    });
  });

  describe('the token endpoint in the metrics', () => {
    it('counts a client_credentials request by grant_type and status class, and the token by scope', async () => {
      const before = await scrape();
      const requests = (text: string) => sample(text, 'psd2_as_http_requests_total', { endpoint: 'token', status: '2xx', grant_type: 'client_credentials' }) ?? 0;
      const tokens = (text: string) => sample(text, 'psd2_as_tokens_issued_total', { grant_type: 'client_credentials', scope: 'pisp' }) ?? 0;
      const res = await clientCredentials(pisp);
      expect(res.status, res.text).to.equal(200);
      const after = await scrape();
      expect(requests(after) - requests(before)).to.equal(1);
      expect(tokens(after) - tokens(before)).to.equal(1);
      expect(after).to.match(/^psd2_as_http_request_duration_seconds_count\{endpoint="token"\} [1-9]\d*$/m);
    });

    it('counts a refused request by its RFC error code', async () => {
      const res = await clientCredentials(pisp, 'aisp');
      expect(res.status, res.text).to.equal(400);
      expect(res.body.error).to.equal('invalid_scope');
      expect(sample(await scrape(), 'psd2_as_http_requests_total', { endpoint: 'token', status: '4xx', grant_type: 'client_credentials', error: 'invalid_scope' })).to.equal(1);
    });
  });

  describe('the PSU journey', () => {
    it('counts started once per interaction however often its first page is shown, then signed_in and consent_granted', async () => {
      const [started, signedIn, granted] = [await journey('started'), await journey('signed_in'), await journey('consent_granted')];
      const browser = new PsuBrowser();
      const pair = pkce();
      const { page: signIn } = await openSignIn(server, browser, aisp, { pair });
      expect((await browser.get(signIn.url)).status, 'the first page again').to.equal(200);
      expect(await journey('started') - started).to.equal(1);
      const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
      expect(await journey('signed_in') - signedIn).to.equal(1);
      const done = await submit(server, browser, consent, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      expect(await journey('consent_granted') - granted).to.equal(1);
      const token = await exchangeCode(server, aisp, redirectParams(done.location).get('code')!, pair);
      expect(token.status, token.text).to.equal(200);
    });

    it('counts the PSU\'s return to the authorization endpoint as authorization, not other', async () => {
      // Every request of one endpoint, whatever its status, grant type or error.
      const requests = (text: string, endpoint: string) => text.split('\n')
        .filter((line) => line.startsWith('psd2_as_http_requests_total{') && line.includes(`endpoint="${endpoint}"`))
        .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
      const before = await scrape();
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, aisp);
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      expect(redirectParams(done.location).get('code'), 'the PSU came back through /authorize/{uid}').to.be.a('string');
      // The return is counted when its connection reports the answer finished, just after the browser has it.
      const deadline = Date.now() + 2000;
      let after = await scrape();
      while (requests(after, 'authorization') - requests(before, 'authorization') < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        after = await scrape();
      }
      expect(requests(after, 'authorization') - requests(before, 'authorization'), 'the authorization request and the return').to.equal(2);
      expect(requests(after, 'other') - requests(before, 'other')).to.equal(0);
    });

    it('counts a refusal, and a page of an interaction that is gone as expired', async () => {
      const [refused, expired] = [await journey('consent_refused'), await journey('expired')];
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, aisp);
      await submit(server, browser, page, '/consent', { decision: 'refuse' });
      expect(await journey('consent_refused') - refused).to.equal(1);
      const gone = await browser.get(`${server.issuer}/interaction/unknown-interaction`);
      expect(gone.status).to.equal(400);
      expect(await journey('expired') - expired).to.equal(1);
    });

    it('counts the pages\' requests in the PSD2 statistics, for the services of the authorization\'s scope', async () => {
      const figures = async () => (await server.auth.statistics.report(today(), today())).days.find((day) => day.service === 'account_information')!.requests;
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, aisp);
      const before = await figures();
      expect((await browser.get(page.url)).status).to.equal(200);
      expect(await figures() - before, 'one page shown, for aisp').to.equal(1);
    });
  });

  describe('the PSU journey of a payment authorization', () => {
    const payments = paymentsSuite();
    const step = async (name: string) => sample((await payments.server.auth.metrics.scrape()).body, 'psd2_as_psu_journey_total', { step: name }) ?? 0;

    it('counts a payment confirmed and a payment rejected', async () => {
      for (const decision of ['grant', 'refuse']) {
        const opened = await payments.server.auth.payments.openInitiation(paymentRequest(payments.client));
        const { browser, page } = await openPayment(payments.server, opened.url);
        const payment = await sandboxSignIn(payments.server, browser, page);
        await submit(payments.server, browser, payment, '/consent', { decision });
      }
      expect([await step('started'), await step('signed_in'), await step('payment_confirmed'), await step('payment_rejected')]).to.deep.equal([2, 2, 1, 1]);
      expect(await step('consent_granted'), 'a payment is no account consent').to.equal(0);
    });
  });

  describe('the bank\'s revocations', () => {
    it('counts a consent withdrawn through the management API', async () => {
      const before = sample(await scrape(), 'psd2_as_revocations_total', { kind: 'consent_withdrawn' }) ?? 0;
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, aisp);
      await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      const granted = await server.logged((entry) => entry.fields.event === 'psu.consent_granted');
      expect(await server.auth.management.withdrawConsent('sandbox-anna', String(granted.fields.grantId))).to.equal(true);
      expect(sample(await scrape(), 'psd2_as_revocations_total', { kind: 'consent_withdrawn' })).to.equal(before + 1);
    });
  });

  it('shows no token, code, PSU, client or interaction in the scraped text, whatever the requests carried', async () => {
    const client = await registerClient(server, { roles: ['PSP_AI'] });
    const browser = new PsuBrowser();
    const pair = pkce();
    const { page } = await openSandboxConsent(server, browser, client, { pair, psuId: 'sandbox-anna' });
    const uid = new URL(page.url).pathname.split('/').at(-1)!;
    const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
    const code = redirectParams(done.location).get('code')!;
    const tokens = await exchangeCode(server, client, code, pair);
    expect(tokens.status, tokens.text).to.equal(200);
    const refreshed = await server.request(client.tpp).post('/oauth2/token').type('form')
      .send({ grant_type: 'refresh_token', refresh_token: String(tokens.body.refresh_token), client_id: client.clientId });
    expect(refreshed.status, refreshed.text).to.equal(200);
    // Hostile values where a label could come from: the grant type, the scope, the path, the id header.
    await server.request(client.tpp).post('/oauth2/token').type('form').set('x-fapi-interaction-id', 'tok-en"}')
      .send({ grant_type: `x${String(tokens.body.access_token)}`, scope: 'sandbox-anna', client_id: client.clientId });
    await server.request().get(`/oauth2/${String(tokens.body.refresh_token)}`);
    const text = await scrape();
    const secrets = {
      accessToken: String(tokens.body.access_token),
      refreshToken: String(tokens.body.refresh_token),
      refreshed: String(refreshed.body.access_token),
      code,
      psu: 'sandbox-anna',
      account: 'sb-anna-1',
      clientId: client.clientId,
      interaction: uid,
      header: 'tok-en',
    };
    for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} in the scraped text`).to.equal(false);
    expect(text).to.contain('grant_type="other"');
  });
});
