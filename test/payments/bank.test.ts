/**
 * Payment authorizations in the bank environment: the PSU signs in with password and one-time code
 * (the test bank's marie; lukas has no second factor), and confirms a payment from an account of
 * theirs; a payment to be debited from an account they do not hold can only be rejected. The
 * sandbox's test customers are held to the same rule.
 */
import { expect } from 'chai';

import type { OpenedPaymentAuthorization, PaymentDetails } from '../../lib/index.js';
import { exchangeCode, submit, type TestClient } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { paymentsSuite } from '../support/pages.js';
import { decide, decisionsOffered, expectCode, expectDenied, expectOutcome, paymentPage, readable, toldOnce } from './harness.js';
import { openPayment, PAYMENT, pispClient, request } from './helpers.js';

const SECRET = 'bank-payment-api-introspection-secret-0123';
const MARIE_CURRENT = 'FR7630004000031234567890143';
const LUKAS = 'DE75512108001245126199';

describe('payment authorizations in the bank environment', function bankPayments() {
  this.timeout(30_000);
  const { server, client, outcomes } = paymentsSuite({ options: { resourceServers: [{ id: 'payment-api', secret: SECRET }] }, environment: 'bank', organization: 'Bank Pay' });
  let serial = 0;

  const open = async (payment: Partial<PaymentDetails>, language = 'fr', by: TestClient = client) => {
    serial += 1;
    const state = `bank-${serial}`;
    const opened = await server.auth.payments.openInitiation(request(by, { state, language, payment: { ...PAYMENT, paymentId: `pmt-bank-${serial}`, ...payment } }));
    return { opened, state };
  };

  /** Signs in on the bank page as `login` (with the one-time code when asked); returns the payment page. */
  async function signIn(opened: OpenedPaymentAuthorization, login: string, password: string, code?: string): Promise<{ browser: PsuBrowser; page: PageResponse }> {
    const browser = new PsuBrowser();
    const { page: signInPage } = await openPayment(server, opened.url, browser);
    let page = await submit(server, browser, signInPage, '/signin', { login, password });
    if (code !== undefined) {
      expect(page.text).to.include('/second-factor"');
      page = await submit(server, browser, page, '/second-factor', { code });
    }
    expect(page.status, page.text).to.equal(200);
    return { browser, page };
  }

  it('marie signs in with password and one-time code and confirms a payment from her own account', async () => {
    const before = Date.now();
    const { opened, state } = await open({ debtorAccount: 'fr76 3000 4000 0312 3456 7890 143' });
    expect(new URL(opened.url).pathname).to.equal('/oauth2/fr/banque/oauth2_authorization.aspx');
    expect(opened.authorizationDetails[0]!.debtorAccount).to.deep.equal({ iban: MARIE_CURRENT });
    const { browser, page } = await signIn(opened, 'marie', 'correct horse', '123456');
    const text = readable(page.text);
    expect(text).to.include('Confirmer ce paiement').and.include('1 250,50 €').and.include('Depuis votre compte').and.include('FR76 •••• 0143').and.include('FR76 •••• 0189');
    expect(text.replace(/\s/g, '')).to.not.include(MARIE_CURRENT);
    expect(decisionsOffered(page)).to.deep.equal(['grant', 'refuse']);
    const code = expectCode(await decide(server, browser, page, { decision: 'grant' }), state);
    expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'psu-marie', scaBetween: [before, Date.now()] });
    // The bank's account directory was asked for the PSU's accounts, for this client and purpose.
    expect(server.bank.lookups.some((lookup) => lookup.psuId === 'psu-marie' && lookup.scope === 'pisp' && lookup.clientId === client.clientId)).to.equal(true);

    const tokens = await exchangeCode(server, client, code, { verifier: '', challenge: '' }, { code_verifier: undefined });
    expect(tokens.status, tokens.text).to.equal(200);
    expect(tokens.body.authorization_details).to.deep.equal(opened.authorizationDetails);
    expect(tokens.body).to.not.have.property('refresh_token');
    const introspection = await server.request().post('/oauth2/introspect').auth('payment-api', SECRET).type('form').send({ token: tokens.body.access_token });
    expect(introspection.body).to.include({ active: true, sub: 'psu-marie', scope: 'pisp', psd2_environment: 'bank' });
    expect(introspection.body.accounts).to.deep.equal([{ id: 'bk-marie-1', iban: MARIE_CURRENT }]);
    expect(introspection.body.authorization_details).to.deep.equal(opened.authorizationDetails);
  });

  it('lukas (no second factor) confirms a cancellation from his account, in German', async () => {
    serial += 1;
    const opened = await server.auth.payments.openCancellation(request(client, { state: `bank-${serial}`, language: 'de', payment: { ...PAYMENT, debtorAccount: LUKAS } }));
    const { browser, page } = await signIn(opened, 'lukas', 'battery staple');
    expect(readable(page.text)).to.include('Diese Zahlung stornieren?').and.include('1.250,50 €').and.include('Von Ihrem Konto').and.include('DE75 •••• 6199');
    expectCode(await decide(server, browser, page, { decision: 'grant' }), `bank-${serial}`);
    expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'psu-lukas' });
  });

  it('confirms a payment without a debtor account: the PSU\'s own choice at the bank', async () => {
    const { opened, state } = await open({}, 'en');
    const { browser, page } = await signIn(opened, 'marie', 'correct horse', '123456');
    expect(readable(page.text)).to.not.include('From your account');
    expectCode(await decide(server, browser, page, { decision: 'grant' }), state);
    expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'psu-marie' });
  });

  for (const [language, notHeld] of [
    ['fr', 'Ce paiement doit être débité d’un compte dont vous n’êtes pas titulaire. Vous pouvez seulement le refuser.'],
    ['de', 'Diese Zahlung soll von einem Konto abgebucht werden, das nicht Ihres ist. Sie können sie nur ablehnen.'],
    ['en', 'This payment is to be debited from an account you do not hold. You can only reject it.'],
  ] as const) {
    it(`an account the PSU does not hold: the page says so (403, ${language}), offers only rejection, and only rejection works`, async () => {
      const { opened, state } = await open({ debtorAccount: LUKAS }, language);
      const { browser, page } = await signIn(opened, 'marie', 'correct horse', '123456');
      const action = formAction(page, '/consent');
      const csrf = csrfOf(page);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const refused = await browser.post(action, { csrf, decision: 'grant' });
        expect(refused.status, refused.text).to.equal(403);
        expect(readable(refused.text)).to.include(notHeld);
        expect(decisionsOffered(refused), 'only rejection is offered').to.deep.equal(['refuse']);
        expect(outcomes.of(opened.id)).to.deep.equal([]);
      }
      // Forged fields do not change whose account it is.
      const forged = await browser.post(action, { csrf, decision: 'grant', debtorAccount: MARIE_CURRENT, accounts: 'bk-marie-1' });
      expect(forged.status).to.equal(403);
      expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('pending');
      expectDenied(await browser.follow(await browser.post(action, { csrf, decision: 'refuse' }), server.url), state);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'rejected', psuId: 'psu-marie' });
    });
  }

  it('holds each PSU to their own accounts: marie\'s account is not lukas\'s, nor anybody\'s without accounts', async () => {
    for (const [login, password] of [['lukas', 'battery staple'], ['nobody', 'no accounts']] as const) {
      const { opened } = await open({ debtorAccount: MARIE_CURRENT }, 'en');
      const theirs = await signIn(opened, login, password);
      const refused = await decide(server, theirs.browser, theirs.page, { decision: 'grant' });
      expect(refused.status, login).to.equal(403);
      expect(decisionsOffered(refused)).to.deep.equal(['refuse']);
      expect(outcomes.of(opened.id)).to.deep.equal([]);
    }
  });

  it('a wrong password or one-time code decides nothing; the PSU can try again and confirm', async () => {
    const { opened, state } = await open({ debtorAccount: MARIE_CURRENT }, 'en');
    const browser = new PsuBrowser();
    const { page: first } = await openPayment(server, opened.url, browser);
    const wrong = await submit(server, browser, first, '/signin', { login: 'marie', password: 'wrong' });
    expect(wrong.status).to.equal(401);
    const codePage = await submit(server, browser, wrong, '/signin', { login: 'marie', password: 'correct horse' });
    const wrongCode = await submit(server, browser, codePage, '/second-factor', { code: '000000' });
    expect(wrongCode.status).to.equal(401);
    expect(outcomes.of(opened.id)).to.deep.equal([]);
    const payment = await submit(server, browser, wrongCode, '/second-factor', { code: '123456' });
    expect(payment.status, payment.text).to.equal(200);
    expectCode(await decide(server, browser, payment, { decision: 'grant' }), state);
    expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'psu-marie' });
  });

  it('a cancel before the one-time code rejects the payment', async () => {
    const { opened, state } = await open({ debtorAccount: MARIE_CURRENT }, 'en');
    const browser = new PsuBrowser();
    const { page } = await openPayment(server, opened.url, browser);
    const codePage = await submit(server, browser, page, '/signin', { login: 'marie', password: 'correct horse' });
    expect(codePage.text).to.include('/second-factor"');
    expectDenied(await submit(server, browser, codePage, '/cancel', {}), state);
    const outcome = toldOnce(outcomes.received, opened);
    expect(outcome.status).to.equal('rejected');
    expect(outcome.scaTime, 'no SCA completed').to.equal(undefined);
  });

  it('the bank\'s account directory failing sends the PSU back with server_error and decides nothing', async () => {
    const { opened, state } = await open({ debtorAccount: MARIE_CURRENT }, 'en');
    const { browser, page } = await signIn(opened, 'marie', 'correct horse', '123456');
    server.bank.failing = { accounts: true };
    try {
      const done = await decide(server, browser, page, { decision: 'grant' });
      const params = new URL(done.location!).searchParams;
      expect(params.get('error')).to.equal('server_error');
      expect(params.get('state')).to.equal(state);
      expect(params.get('code')).to.equal(null);
    } finally {
      server.bank.failing = {};
    }
    expect(outcomes.of(opened.id)).to.deep.equal([]);
    expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('pending');
  });

  describe('the sandbox\'s test customers', () => {
    let sandbox: TestClient;
    before(async () => {
      sandbox = await pispClient(server, 'sandbox', 'Sandbox Pay');
    });

    it('confirm from an account of theirs, and can only reject from another\'s', async () => {
      const { opened, state } = await open({ debtorAccount: 'DE89 3704 0044 0532 0130 00' }, 'en', sandbox);
      const anna = await paymentPage(server, opened.url, 'sandbox-anna');
      expectCode(await decide(server, anna.browser, anna.page, { decision: 'grant' }), state);
      expectOutcome(toldOnce(outcomes.received, opened), opened, sandbox, { status: 'confirmed', psuId: 'sandbox-anna' });
      const { opened: foreign, state: foreignState } = await open({ debtorAccount: 'DE89 3704 0044 0532 0130 00' }, 'en', sandbox);
      const claire = await paymentPage(server, foreign.url, 'sandbox-claire');
      const refused = await decide(server, claire.browser, claire.page, { decision: 'grant' });
      expect(refused.status).to.equal(403);
      expect(decisionsOffered(refused)).to.deep.equal(['refuse']);
      expectDenied(await decide(server, claire.browser, refused, { decision: 'refuse' }), foreignState);
      expectOutcome(toldOnce(outcomes.received, foreign), foreign, sandbox, { status: 'rejected', psuId: 'sandbox-claire' });
    });
  });
});
