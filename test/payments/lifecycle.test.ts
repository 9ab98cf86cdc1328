/**
 * The life of a payment authorization on a clock the tests move (options.now): it expires
 * `payments.requestLifetime` after it was opened, whoever notices first (the PSU, a late visit of
 * the URL, statusOf) tells the bank once; its URL is used once and its code redeemed once.
 */
import { expect } from 'chai';

import { ConfigurationError, createAuthorizationServer, type AuthorizationServerOptions } from '../../lib/index.js';
import { exchangeCode, submit } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser } from '../support/psu-browser.js';
import { paymentsSuite } from '../support/pages.js';
import { startServer, testSigningKey } from '../support/server.js';
import { testPki } from '../support/pki.js';
import { SANDBOX_PSUS } from '../support/psus.js';
import { Clock, decide, expectCode, expectDenied, expectOutcome, paymentPage, tppRedirect, toldOnce } from './harness.js';
import { openPayment, pispClient, request } from './helpers.js';

const LIFETIME = 120;
const SECRET = 'payments-resource-server-secret-0123456789';

describe('payment authorizations: expiry and single use', function lifecycle() {
  this.timeout(30_000);
  const clock = new Clock();
  const { server, client, outcomes } = paymentsSuite({
    options: { now: clock.now, payments: { requestLifetime: LIFETIME }, resourceServers: [{ id: 'payment-api', secret: SECRET }] },
  });
  let serial = 0;
  afterEach(() => clock.reset());

  const open = async () => {
    serial += 1;
    const state = `life-${serial}`;
    return { opened: await server.auth.payments.openInitiation(request(client, { state })), state };
  };

  /**
   * The answer to a visit of an authorization's URL that must not reach the pages: back to the TPP
   * with invalid_request_uri, and its state while the pushed request can still be read (`null`:
   * once a code was issued for it, oidc-provider has consumed it and knows no state).
   */
  const expectRefusedVisit = async (url: string, state: string | null, browser = new PsuBrowser()) => {
    const visit = await browser.get(url);
    expect(visit.location ?? '', 'no PSU page').to.not.include('/interaction/');
    const params = tppRedirect(visit);
    expect(params.get('error')).to.equal('invalid_request_uri');
    expect(params.get('state')).to.equal(state);
    expect(params.get('code')).to.equal(null);
  };

  describe('expiry', () => {
    it('expires requestLifetime seconds after it was opened, on the server\'s clock', async () => {
      clock.advance(-3600);
      const before = clock.now().getTime();
      const { opened } = await open();
      expect(opened.expiresAt.getTime()).to.be.within(Math.floor(before / 1000) * 1000 + LIFETIME * 1000, clock.now().getTime() + LIFETIME * 1000);
      expect((await server.auth.payments.statusOf(opened.id))?.expiresAt.getTime()).to.equal(opened.expiresAt.getTime());
    });

    it('is still confirmed a moment before it expires', async () => {
      const { opened, state } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      clock.advance(LIFETIME - 2);
      expectCode(await decide(server, browser, page, { decision: 'grant' }), state);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'sandbox-anna' });
    });

    it('past its lifetime, the PSU\'s confirmation sends access_denied to the TPP and the bank is told "expired", once', async () => {
      const { opened, state } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      clock.advance(LIFETIME + 1);
      expectDenied(await decide(server, browser, page, { decision: 'grant' }), state);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'expired' });
      const status = await server.auth.payments.statusOf(opened.id);
      expect(status?.status).to.equal('expired');
      expect(status?.outcome?.status).to.equal('expired');
      await server.auth.payments.statusOf(opened.id);
      toldOnce(outcomes.received, opened);
    });

    it('past its lifetime, a rejection is told as the expiry it is', async () => {
      const { opened, state } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      clock.advance(LIFETIME);
      expectDenied(await decide(server, browser, page, { decision: 'refuse' }), state);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'expired' });
    });

    it('past its lifetime, a cancel is told as the expiry it is, not as the PSU\'s rejection', async () => {
      const { opened, state } = await open();
      const { browser, page } = await openPayment(server, opened.url);
      clock.advance(LIFETIME + 30);
      expectDenied(await submit(server, browser, page, '/cancel', {}), state);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'expired' });
      expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('expired');
    });

    it('statusOf decides the expiry on the way, tells the bank once, and the URL is refused afterwards', async () => {
      const { opened, state } = await open();
      expect(await server.auth.payments.statusOf(opened.id)).to.deep.equal({
        id: opened.id,
        type: 'payment_initiation',
        paymentId: 'pmt-0001',
        clientId: client.clientId,
        status: 'pending',
        expiresAt: opened.expiresAt,
      });
      expect(outcomes.of(opened.id)).to.deep.equal([]);
      clock.advance(LIFETIME + 1);
      const expired = await server.auth.payments.statusOf(opened.id);
      expect(expired?.status).to.equal('expired');
      const outcome = toldOnce(outcomes.received, opened);
      expectOutcome(outcome, opened, client, { status: 'expired' });
      expect(expired?.outcome).to.deep.equal(outcome);
      expect(outcome.decidedAt.getTime()).to.be.at.least(opened.expiresAt.getTime());
      await Promise.all([server.auth.payments.statusOf(opened.id), server.auth.payments.statusOf(opened.id)]);
      await expectRefusedVisit(opened.url, state);
      toldOnce(outcomes.received, opened);
    });

    it('a URL first used after expiry is refused, and the expiry is told once', async () => {
      const { opened, state } = await open();
      clock.advance(LIFETIME + 5);
      await expectRefusedVisit(opened.url, state);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'expired' });
      await expectRefusedVisit(opened.url, state);
      expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('expired');
      toldOnce(outcomes.received, opened);
    });

    for (const action of ['grant', 'refuse', 'cancel'] as const) {
      it(`the PSU still on the page when the bank learned of the expiry goes back to the TPP with access_denied (${action})`, async () => {
        const { opened, state } = await open();
        const { browser, page } = await paymentPage(server, opened.url);
        clock.advance(LIFETIME + 1);
        // The bank's payment API polls (or the server's own timer fires) before the PSU decides.
        expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('expired');
        const answer = action === 'cancel'
          ? await browser.follow(await browser.post(formAction(page, '/consent').replace(/consent$/, 'cancel'), { csrf: csrfOf(page) }), server.url)
          : await decide(server, browser, page, { decision: action });
        expectDenied(answer, state);
        expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'expired' });
      });
    }

    it('a decided authorization stays as decided when its lifetime has passed', async () => {
      for (const decision of ['grant', 'refuse'] as const) {
        const { opened } = await open();
        const { browser, page } = await paymentPage(server, opened.url);
        await decide(server, browser, page, { decision });
        clock.advance(LIFETIME * 10);
        expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal(decision === 'grant' ? 'confirmed' : 'rejected');
        toldOnce(outcomes.received, opened);
        clock.reset();
      }
    });

    it('knows nothing of ids it did not issue', async () => {
      const { opened } = await open();
      for (const id of ['', 'nope', `${opened.id}x`, opened.id.slice(1), 'x'.repeat(500), '../../etc/passwd', `${opened.id} `, 'a\nb']) {
        expect(await server.auth.payments.statusOf(id), JSON.stringify(id)).to.equal(undefined);
      }
    });
  });

  describe('single use', () => {
    it('refuses the URL opened a second time, in another browser or the same, while the first visit carries on', async () => {
      const { opened, state } = await open();
      const first = new PsuBrowser();
      const { page } = await openPayment(server, opened.url, first);
      await expectRefusedVisit(opened.url, state);
      await expectRefusedVisit(opened.url, state, first);
      const payment = await submit(server, first, page, '/signin', { psu: 'sandbox-anna' });
      expectCode(await decide(server, first, payment, { decision: 'grant' }), state);
      await expectRefusedVisit(opened.url, null);
      await expectRefusedVisit(opened.url, null, first);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'sandbox-anna' });
    });

    it('refuses the URL of a rejected authorization', async () => {
      const { opened, state } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      expectDenied(await decide(server, browser, page, { decision: 'refuse' }), state);
      await expectRefusedVisit(opened.url, state);
      toldOnce(outcomes.received, opened);
    });

    it('redeems the code once: a second redemption fails and ends the tokens of the first', async () => {
      const { opened, state } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      const code = expectCode(await decide(server, browser, page, { decision: 'grant' }), state);
      const pair = { verifier: '', challenge: '' };
      const first = await exchangeCode(server, client, code, pair, { code_verifier: undefined });
      expect(first.status, first.text).to.equal(200);
      const introspect = (token: string) => server.request().post('/oauth2/introspect').auth('payment-api', SECRET).type('form').send({ token });
      expect((await introspect(first.body.access_token)).body.active).to.equal(true);
      const second = await exchangeCode(server, client, code, pair, { code_verifier: undefined });
      expect(second.status, second.text).to.equal(400);
      expect(second.body.error).to.equal('invalid_grant');
      expect(second.body).to.not.have.property('access_token');
      expect((await introspect(first.body.access_token)).body).to.deep.equal({ active: false });
      toldOnce(outcomes.received, opened);
    });
  });

  describe('the requestLifetime option', () => {
    it('is 300 seconds unless set', async () => {
      const plain = await startServer();
      try {
        const pisp = await pispClient(plain);
        const before = Date.now();
        const opened = await plain.auth.payments.openInitiation(request(pisp));
        expect(opened.expiresAt.getTime()).to.be.within(Math.floor(before / 1000) * 1000 + 300_000, Date.now() + 300_000);
      } finally {
        await plain.close();
      }
    });

    it('lies between 60 and 1800 seconds, a whole number', async () => {
      const pki = await testPki();
      const options = (requestLifetime: unknown): AuthorizationServerOptions => ({
        issuer: 'https://bank.example/oauth2',
        signingKeys: { keys: [testSigningKey()] },
        cookieKeys: ['test-cookie-key-0123456789abcdef0123456789'],
        environments: { sandbox: { trustAnchors: pki.sandboxRoot.certPem, testPsus: SANDBOX_PSUS } },
        payments: { requestLifetime } as AuthorizationServerOptions['payments'],
      });
      for (const value of [59, 1801, 90.5, '300', -1, 0]) {
        let thrown: unknown;
        try {
          createAuthorizationServer(options(value));
        } catch (error) {
          thrown = error;
        }
        expect(thrown, String(value)).to.be.instanceOf(ConfigurationError);
        expect((thrown as ConfigurationError).message, String(value)).to.include('payments.requestLifetime');
      }
      for (const value of [60, 1800]) expect(() => createAuthorizationServer(options(value)), String(value)).to.not.throw();
    });
  });
});
