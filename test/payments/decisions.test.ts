/**
 * The PSU's decisions on payment initiations and cancellations, in German, English and French:
 * what the pages say, where the PSU goes back to, what the bank is told (once) and what statusOf
 * reads.
 */
import { expect } from 'chai';

import type { PaymentType } from '../../lib/index.js';
import { exchangeCode, submit } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser } from '../support/psu-browser.js';
import { paymentsSuite } from '../support/pages.js';
import { startServer } from '../support/server.js';
import { decide, decisionsOffered, expectCode, expectDenied, expectOutcome, normalizeSpaces, paymentPage, readable, toldOnce } from './harness.js';
import { openPayment, PAYMENT, pispClient, request } from './helpers.js';

/** What each language's pages say about {@link PAYMENT} (compared after normalizing spaces). */
const LANGUAGES = {
  de: {
    amount: '1.250,50 €',
    date: '1. Dezember 2030',
    labels: ['Betrag', 'Empfänger', 'Konto des Empfängers', 'Verwendungszweck', 'Ausführungsdatum', 'Referenz der Bank'],
    payment_initiation: {
      title: 'Diese Zahlung bestätigen',
      intro: 'Pay Now bittet Sie, die folgende Zahlung zu bestätigen.',
      confirm: 'Zahlung bestätigen',
      reject: 'Zahlung ablehnen',
    },
    payment_cancellation: {
      title: 'Diese Zahlung stornieren?',
      intro: 'Pay Now bittet Sie, die folgende Zahlung zu stornieren. Eine stornierte Zahlung wird nicht ausgeführt.',
      confirm: 'Zahlung stornieren',
      reject: 'Zahlung beibehalten',
    },
  },
  en: {
    amount: '€1,250.50',
    date: '1 December 2030',
    labels: ['Amount', 'Payee', 'Payee\'s account', 'Reference', 'Execution date', 'Bank reference'],
    payment_initiation: {
      title: 'Confirm this payment',
      intro: 'Pay Now asks you to confirm the following payment.',
      confirm: 'Confirm the payment',
      reject: 'Reject the payment',
    },
    payment_cancellation: {
      title: 'Cancel this payment?',
      intro: 'Pay Now asks you to cancel the following payment. A cancelled payment is not executed.',
      confirm: 'Cancel the payment',
      reject: 'Keep the payment',
    },
  },
  fr: {
    amount: '1 250,50 €',
    date: '1 décembre 2030',
    labels: ['Montant', 'Bénéficiaire', 'Compte du bénéficiaire', 'Libellé', 'Date d’exécution', 'Référence de la banque'],
    payment_initiation: {
      title: 'Confirmer ce paiement',
      intro: 'Pay Now vous demande de confirmer le paiement suivant.',
      confirm: 'Confirmer le paiement',
      reject: 'Refuser le paiement',
    },
    payment_cancellation: {
      title: 'Annuler ce paiement ?',
      intro: 'Pay Now vous demande d’annuler le paiement suivant. Un paiement annulé n’est pas exécuté.',
      confirm: 'Annuler le paiement',
      reject: 'Conserver le paiement',
    },
  },
} as const;

type Language = keyof typeof LANGUAGES;
const OTHER_TYPE: Record<PaymentType, PaymentType> = { payment_initiation: 'payment_cancellation', payment_cancellation: 'payment_initiation' };

describe('payment authorizations: the PSU confirms or rejects, in every language', function decisions() {
  this.timeout(30_000);
  const { server, client, outcomes } = paymentsSuite();
  let serial = 0;

  const open = (type: PaymentType, overrides: Parameters<typeof request>[1] = {}) => {
    serial += 1;
    const input = request(client, { state: `state-${serial}`, ...overrides });
    return type === 'payment_initiation' ? server.auth.payments.openInitiation(input) : server.auth.payments.openCancellation(input);
  };

  it('formats the amounts and dates the way Node prints them (the expectations below)', () => {
    for (const language of Object.keys(LANGUAGES) as Language[]) {
      expect(normalizeSpaces(new Intl.NumberFormat(language, { style: 'currency', currency: 'EUR' }).format(1250.5)), language).to.equal(LANGUAGES[language].amount);
      // The pages write British English, and dates the British way.
      expect(normalizeSpaces(new Intl.DateTimeFormat(language === 'en' ? 'en-GB' : language, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date('2030-12-01T00:00:00Z'))), language).to.equal(LANGUAGES[language].date);
    }
  });

  for (const type of ['payment_initiation', 'payment_cancellation'] as const) {
    for (const language of Object.keys(LANGUAGES) as Language[]) {
      const words = LANGUAGES[language];
      const texts = words[type];

      it(`${type}, ${language}: the pages show the registered payment in the PSU's language`, async () => {
        const opened = await open(type, { language });
        expect(new URL(opened.url).pathname).to.equal(`/oauth2/${language}/sandbox/signin.html`);
        const { browser, page: signIn } = await openPayment(server, opened.url);
        expect(signIn.text).to.include(`<html lang="${language}"`);
        const page = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
        expect(page.status, page.text).to.equal(200);
        const text = readable(page.text);
        expect(page.text).to.include(`<html lang="${language}"`);
        for (const expected of [texts.title, texts.intro, words.amount, words.date, ...words.labels, 'Boulangerie Dupont', 'FR76 •••• 0189', 'Invoice 2026-118', 'pmt-0001', texts.confirm, texts.reject]) {
          expect(text, `${language} page shows "${expected}"`).to.include(expected);
        }
        // A cancellation never reads as a payment to confirm, nor the other way round.
        const other = words[OTHER_TYPE[type]];
        expect(text).to.not.include(other.title).and.not.include(other.intro);
        // The full creditor IBAN never reaches the page.
        expect(text.replace(/\s/g, '')).to.not.include('FR7630006000011234567890189');
        expect(decisionsOffered(page)).to.deep.equal(['grant', 'refuse']);
        expect(outcomes.of(opened.id)).to.deep.equal([]);
        expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('pending');
      });

      it(`${type}, ${language}: confirmed, the TPP gets a code with its state and the bank is told once, with the PSU and the time of SCA`, async () => {
        const opened = await open(type, { language });
        const { browser, page } = await paymentPage(server, opened.url);
        const before = Date.now();
        const done = await decide(server, browser, page, { decision: 'grant' });
        const code = expectCode(done, `state-${serial}`);
        const outcome = toldOnce(outcomes.received, opened);
        // The sign-in is the PSU's SCA: it happened before the decision.
        expectOutcome(outcome, opened, client, { status: 'confirmed', psuId: 'sandbox-anna', scaBetween: [before - 5000, Date.now()] });
        const status = await server.auth.payments.statusOf(opened.id);
        expect(status).to.deep.include({ id: opened.id, type, status: 'confirmed', paymentId: 'pmt-0001', clientId: client.clientId });
        expect(status?.outcome).to.deep.equal(outcome);
        expect(status?.expiresAt.getTime()).to.equal(opened.expiresAt.getTime());
        const tokens = await exchangeCode(server, client, code, { verifier: '', challenge: '' }, { code_verifier: undefined });
        expect(tokens.status, tokens.text).to.equal(200);
        expect(tokens.body.authorization_details).to.deep.equal(opened.authorizationDetails);
        expect(tokens.body.authorization_details[0].type).to.equal(type);
        expect(outcomes.of(opened.id), 'still told once').to.have.length(1);
      });

      it(`${type}, ${language}: rejected, the TPP gets access_denied with its state and the bank is told once`, async () => {
        const opened = await open(type, { language });
        const { browser, page } = await paymentPage(server, opened.url, 'sandbox-claire');
        const done = await decide(server, browser, page, { decision: 'refuse' });
        expectDenied(done, `state-${serial}`);
        const outcome = toldOnce(outcomes.received, opened);
        expectOutcome(outcome, opened, client, { status: 'rejected', psuId: 'sandbox-claire' });
        const status = await server.auth.payments.statusOf(opened.id);
        expect(status?.status).to.equal('rejected');
        expect(status?.outcome).to.deep.equal(outcome);
      });
    }
  }

  it('rejects the payment when the PSU cancels on the sign-in page: no PSU is named', async () => {
    const opened = await open('payment_initiation', { language: 'fr' });
    const { browser, page } = await openPayment(server, opened.url);
    const done = await submit(server, browser, page, '/cancel', {});
    expectDenied(done, `state-${serial}`);
    expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'rejected', psuId: undefined });
    expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('rejected');
  });

  it('rejects the payment when the PSU cancels from the sign-in page of another tab once signed in, naming the PSU', async () => {
    const opened = await open('payment_cancellation', { language: 'de' });
    const { browser, page: signIn } = await openPayment(server, opened.url);
    const payment = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
    expect(decisionsOffered(payment)).to.deep.equal(['grant', 'refuse']);
    const cancelled = await browser.follow(await browser.post(formAction(signIn, '/cancel'), { csrf: csrfOf(signIn) }), server.url);
    expectDenied(cancelled, `state-${serial}`);
    expect(new URL(cancelled.location!).searchParams.get('error_description'), 'says what was rejected').to.equal('the PSU rejected the cancellation');
    expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'rejected', psuId: 'sandbox-anna' });
  });

  it('a second click, a reload or a language link after the decision carry on to the TPP with that decision, told once', async () => {
    for (const decision of ['grant', 'refuse']) {
      const opened = await open('payment_initiation');
      const { browser, page } = await paymentPage(server, opened.url);
      const fields = { csrf: csrfOf(page), decision };
      const first = await browser.post(formAction(page, '/consent'), fields);
      expect(first.status, first.text).to.equal(303);
      const second = await browser.post(formAction(page, '/consent'), { ...fields, decision: decision === 'grant' ? 'refuse' : 'grant' });
      expect(second.status, second.text).to.equal(303);
      expect(second.location).to.equal(first.location);
      const reload = await browser.get(page.url);
      expect(reload.location).to.equal(first.location);
      expect((await browser.get(`${page.url}?lang=de`)).location).to.equal(first.location);
      const back = await browser.follow(second, server.url);
      if (decision === 'grant') expectCode(back, `state-${serial}`);
      else expectDenied(back, `state-${serial}`);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: decision === 'grant' ? 'confirmed' : 'rejected', psuId: 'sandbox-anna' });
    }
  });

  it('takes the language from the request: a regional tag, capitals, or the default for one the bank does not offer', async () => {
    for (const [language, expected] of [['fr-BE', 'fr'], ['DE', 'de'], ['de_AT', 'de'], ['es', 'en'], [undefined, 'en']] as const) {
      const opened = await open('payment_initiation', { language });
      expect(new URL(opened.url).pathname, String(language)).to.equal(`/oauth2/${expected}/sandbox/signin.html`);
      const { page } = await paymentPage(server, opened.url);
      expect(readable(page.text), String(language)).to.include(LANGUAGES[expected].amount).and.include(LANGUAGES[expected].payment_initiation.title);
    }
  });

  it('puts the language of the request before the browser\'s Accept-Language', async () => {
    const opened = await open('payment_initiation', { language: 'fr' });
    const { page } = await paymentPage(server, opened.url, 'sandbox-anna', new PsuBrowser('de-DE,de;q=0.9'));
    expect(readable(page.text)).to.include(LANGUAGES.fr.amount).and.include(LANGUAGES.fr.payment_initiation.title);
  });

  it('leaves out the rows of the optional fields not given, and sends no state when the PISP gave none', async () => {
    const { remittanceInformation: _r, requestedExecutionDate: _d, ...bare } = PAYMENT;
    const opened = await server.auth.payments.openInitiation(request(client, { payment: bare, state: undefined }));
    expect(opened.authorizationDetails[0]).to.not.have.any.keys('remittanceInformationUnstructured', 'requestedExecutionDate', 'debtorAccount');
    const { browser, page } = await paymentPage(server, opened.url);
    const text = readable(page.text);
    expect(text).to.include('€1,250.50').and.not.include('Reference Invoice').and.not.include('Execution date').and.not.include('From your account');
    const done = await decide(server, browser, page, { decision: 'grant' });
    const params = new URL(done.location!).searchParams;
    expect(params.has('state')).to.equal(false);
    expectCode(done, undefined);
  });

  it('formats currencies with no or three minor digits, and escapes what the payment API registered', async () => {
    const yen = await server.auth.payments.openInitiation(request(client, { payment: { ...PAYMENT, amount: '125000', currency: 'JPY' }, language: 'en' }));
    expect(readable((await paymentPage(server, yen.url)).page.text)).to.include('¥125,000');
    const dinar = await server.auth.payments.openInitiation(request(client, { payment: { ...PAYMENT, amount: '12.345', currency: 'BHD' }, language: 'fr' }));
    expect(readable((await paymentPage(server, dinar.url)).page.text)).to.include('12,345 BHD');
    const name = '<img src=x onerror=alert(1)> & "Co" \'Ltd\'';
    const hostile = await server.auth.payments.openInitiation(request(client, { payment: { ...PAYMENT, creditorName: name, remittanceInformation: '</dd><script>alert(1)</script>' } }));
    const { page } = await paymentPage(server, hostile.url);
    expect(page.text).to.not.include('<img src=x').and.not.include('<script>alert(1)');
    expect(readable(page.text)).to.include(name).and.include('</dd><script>alert(1)</script>');
  });

  it('keeps the outcome readable when the bank\'s handler fails, and the PSU still gets back to the TPP', async () => {
    const failing = await startServer({ options: { payments: { onOutcome: () => { throw new Error('payment API down'); } } } });
    try {
      const pisp = await pispClient(failing);
      const opened = await failing.auth.payments.openInitiation(request(pisp));
      const { browser, page } = await paymentPage(failing, opened.url);
      expectCode(await decide(failing, browser, page, { decision: 'grant' }), 'pisp-state-1');
      expect((await failing.auth.payments.statusOf(opened.id))?.status).to.equal('confirmed');
      expect(failing.logs.some((entry) => entry.level === 'error' && entry.fields.event === 'payment.notification_failed')).to.equal(true);
    } finally {
      await failing.close();
    }
  });
});
