/**
 * The PSU's way through a payment authorization in real Chromium, without JavaScript: from the URL
 * the bank's payment API opened to the TPP's redirect URI, confirming or rejecting a payment
 * initiation and confirming a cancellation, in German, English and French, on the sandbox and the
 * bank sign-in pages.
 */
import { expect } from 'chai';
import type { BrowserContext, Page, Request } from 'playwright-core';

import type { Language, PaymentDetails, PaymentType } from '../../lib/index.js';
import { CATALOGS } from '../../interactions/i18n.js';
import { exchangeCode, registerClient, type TestClient } from '../authorization/helpers.js';
import { Outcomes } from '../payments/helpers.js';
import { screenshot, TPP_CALLBACK } from '../support/browser.js';
import { bankTpp, sandboxTpp } from '../support/pki.js';
import { suiteChromium } from '../support/pages.js';
import type { TestServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';

type Kind = 'initiation' | 'cancellation';
type Environment = 'sandbox' | 'bank';

interface Walk {
  readonly kind: Kind;
  readonly confirm: boolean;
  readonly language: Language;
  readonly environment: Environment;
  /** Saves the payment page as docs/screenshots/<name>.png with `npm run screenshots`. */
  readonly screenshot?: string;
}

const WALKS: Walk[] = [
  { kind: 'initiation', confirm: true, language: 'de', environment: 'sandbox' },
  { kind: 'initiation', confirm: true, language: 'en', environment: 'sandbox', screenshot: 'payment-initiation-en' },
  { kind: 'initiation', confirm: true, language: 'fr', environment: 'bank' },
  { kind: 'initiation', confirm: false, language: 'de', environment: 'bank' },
  { kind: 'initiation', confirm: false, language: 'en', environment: 'sandbox' },
  { kind: 'initiation', confirm: false, language: 'fr', environment: 'sandbox' },
  { kind: 'cancellation', confirm: true, language: 'de', environment: 'sandbox', screenshot: 'payment-cancellation-de' },
  { kind: 'cancellation', confirm: true, language: 'en', environment: 'bank' },
  { kind: 'cancellation', confirm: true, language: 'fr', environment: 'sandbox' },
];

const LOCALES: Record<Language, string> = { de: 'de-DE', en: 'en-GB', fr: 'fr-FR' };

/** The PISP's name as registered, per language (the sandbox client has localized names). */
const TPP_NAMES: Record<Environment, Record<Language, string>> = {
  sandbox: { de: 'Jetzt Zahlen', en: 'Pay Now', fr: 'Payer Maintenant' },
  bank: { de: 'Budget Pay', en: 'Budget Pay', fr: 'Budget Pay' },
};

/** Who signs in, and the account of theirs the payment debits. */
const PSUS: Record<Environment, { psuId: string; debtorAccount: string; maskedDebtor: string }> = {
  sandbox: { psuId: 'sandbox-anna', debtorAccount: 'DE89 3704 0044 0532 0130 00', maskedDebtor: 'DE89 •••• 3000' },
  bank: { psuId: 'psu-marie', debtorAccount: 'FR76 3000 4000 0312 3456 7890 143', maskedDebtor: 'FR76 •••• 0143' },
};

function payment(paymentId: string, debtorAccount?: string): PaymentDetails {
  return {
    amount: '1250.50',
    currency: 'EUR',
    creditorName: 'Boulangerie Dupont',
    creditorAccount: 'FR76 3000 6000 0112 3456 7890 189',
    ...(debtorAccount ? { debtorAccount } : {}),
    remittanceInformation: 'Invoice 2026-118',
    requestedExecutionDate: '2030-12-01',
    paymentId,
  };
}

/** The amount and date as the PSU's language prints them. */
const amountIn = (language: Language) => new Intl.NumberFormat(language, { style: 'currency', currency: 'EUR' }).format(1250.5);
const dateIn = (language: Language) => new Intl.DateTimeFormat(language === 'en' ? 'en-GB' : language, { dateStyle: 'long', timeZone: 'UTC' }).format(new Date('2030-12-01T00:00:00Z'));

/** Text matched literally in a regular expression. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where the browser goes back to the TPP: the callback's query, and the requests that led there. */
interface Departure {
  readonly query: URLSearchParams;
  /** Method and URL of each request of the navigation, the form post first, the TPP's callback last. */
  readonly chain: readonly string[];
}

/**
 * Waits for the browser's navigation to the TPP. The request is observed as it leaves: a
 * navigation started with the keyboard is not routed by Playwright (with Chromium 156 and
 * playwright-core 1.65 it goes to the network, where tpp.example does not resolve), a click is, and
 * then the route of {@link newPsuContext} answers it.
 */
function towardsTpp(page: Page): Promise<Departure> {
  return page.waitForRequest((request) => request.url().startsWith(TPP_CALLBACK) && request.isNavigationRequest()).then((request) => {
    const chain: string[] = [];
    for (let step: Request | null = request; step; step = step.redirectedFrom()) chain.unshift(`${step.method()} ${step.url()}`);
    return { query: new URL(request.url()).searchParams, chain };
  });
}

/** The navigation went from a form post on the pages, through the server only, to the TPP. */
function expectChain(departure: Departure, server: TestServer, form: 'consent' | 'cancel'): void {
  const { chain } = departure;
  expect(chain[0]).to.match(new RegExp(`^POST ${literally(server.issuer)}/interaction/[\\w-]+/${form}$`));
  for (const step of chain.slice(1, -1)) expect(step.startsWith(`GET ${server.issuer}/`), step).to.equal(true);
  expect(chain[chain.length - 1]!.startsWith(`GET ${TPP_CALLBACK}?`)).to.equal(true);
}

/** The query parameters of the TPP callback, each once; `iss` (RFC 9207) is checked and left out. */
function queryOf(params: URLSearchParams, issuer: string): Record<string, string> {
  expect(params.getAll('iss')).to.deep.equal([issuer]);
  const entries = [...params].filter(([name]) => name !== 'iss');
  expect(entries.length, 'no parameter is repeated').to.equal(new Set(entries.map(([name]) => name)).size);
  return Object.fromEntries(entries);
}

describe('payment authorizations in Chromium', function () {
  this.timeout(60_000);
  const outcomes = new Outcomes();
  const server = suiteServer({ options: { payments: { onOutcome: outcomes.handler } } });
  const chromium = suiteChromium();
  const clients = {} as Record<Environment, TestClient>;
  let contexts: BrowserContext[] = [];

  before(async () => {
    const roles: 'PSP_PI'[] = ['PSP_PI'];
    const body = { grant_types: ['authorization_code', 'client_credentials'] };
    [clients.sandbox, clients.bank] = await Promise.all([
      sandboxTpp({ roles, organization: 'Pay Now' }).then((tpp) => registerClient(server, {
        environment: 'sandbox',
        tpp,
        roles,
        body: { ...body, client_name: TPP_NAMES.sandbox.en, 'client_name#de': TPP_NAMES.sandbox.de, 'client_name#fr': TPP_NAMES.sandbox.fr },
      })),
      bankTpp({ roles, organization: 'Budget Pay' }).then((tpp) => registerClient(server, { environment: 'bank', tpp, roles, body: { ...body, client_name: TPP_NAMES.bank.en } })),
    ]);
  });
  afterEach(async () => {
    await Promise.all(contexts.map((context) => context.close()));
    contexts = [];
  });

  /** A fresh PSU profile in `language`, with JavaScript off: the pages have no scripts. */
  async function psuPage(language: Language): Promise<Page> {
    const context = await chromium.open({ locale: LOCALES[language], javaScriptEnabled: false });
    contexts.push(context);
    return context.newPage();
  }

  /** Signs in on the environment's page: a test customer in the sandbox, password and one-time code at the bank. */
  async function signIn(page: Page, environment: Environment, language: Language): Promise<void> {
    const m = CATALOGS[language];
    if (environment === 'sandbox') {
      await page.getByRole('heading', { level: 1, name: m['signin.sandbox.title'] }).waitFor();
      expect(await page.getByRole('note').textContent()).to.equal(m['page.sandboxBanner']);
      await page.getByLabel('Anna Schmidt').check();
      await page.getByRole('button', { name: m['signin.sandbox.submit'] }).click();
      return;
    }
    await page.getByRole('heading', { level: 1, name: m['signin.bank.title'] }).waitFor();
    expect(await page.getByRole('note').count(), 'no sandbox banner on the bank page').to.equal(0);
    await page.getByLabel(m['signin.bank.login']).fill('marie');
    await page.getByLabel(m['signin.bank.password']).fill('correct horse');
    await page.getByRole('button', { name: m['signin.bank.submit'] }).click();
    await page.getByRole('heading', { level: 1, name: m['signin.code.title'] }).waitFor();
    await page.getByLabel(m['signin.code.label']).fill('123456');
    await page.getByRole('button', { name: m['signin.code.submit'] }).click();
  }

  for (const walk of WALKS) {
    const { kind, confirm, language, environment } = walk;
    const m = CATALOGS[language];
    const type: PaymentType = kind === 'initiation' ? 'payment_initiation' : 'payment_cancellation';
    const decision = confirm ? 'confirms' : 'rejects';

    it(`${environment} (${language}): the PSU ${decision} a payment ${kind}; the TPP gets ${confirm ? 'a code' : 'access_denied'} and the bank one outcome`, async () => {
      const client = clients[environment];
      const psu = PSUS[environment];
      const paymentId = `pmt-${kind}-${language}-${environment}`;
      const state = `pisp-state-${kind}-${language}`;
      const request = { clientId: client.clientId, payment: payment(paymentId, psu.debtorAccount), redirectUri: TPP_CALLBACK, state, language };
      const opened = kind === 'initiation' ? await server.auth.payments.openInitiation(request) : await server.auth.payments.openCancellation(request);

      const page = await psuPage(language);
      await page.goto(opened.url);
      expect(await page.getAttribute('html', 'lang')).to.equal(language);
      await signIn(page, environment, language);

      // What the PSU sees: the payment as the bank's payment API registered it, in their language.
      const title = m[`payment.${kind}.title`];
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      expect(await page.getAttribute('html', 'lang')).to.equal(language);
      expect(await page.title()).to.match(new RegExp(`^${literally(title)} – `));
      expect(await page.locator('main p').first().textContent()).to.equal(m[`payment.${kind}.intro`].replace('{tpp}', TPP_NAMES[environment][language]));
      const labels = await page.locator('dl.payment dt').allTextContents();
      const values = await page.locator('dl.payment dd').allTextContents();
      expect(labels.map((label, index) => [label, values[index]])).to.deep.equal([
        [m['payment.amount'], amountIn(language)],
        [m['payment.creditor'], 'Boulangerie Dupont'],
        [m['payment.creditorAccount'], 'FR76 •••• 0189'],
        [m['payment.debtorAccount'], psu.maskedDebtor],
        [m['payment.remittance'], 'Invoice 2026-118'],
        [m['payment.executionDate'], dateIn(language)],
        [m['payment.bankReference'], paymentId],
      ]);
      expect(values).to.have.length(labels.length);
      const text = await page.locator('main').textContent() ?? '';
      expect(text, 'no full IBAN on the page').not.to.match(/FR7630006000|DE8937040044|FR7630004000/);
      expect(text).to.contain(m[`payment.${kind}.notice`]);
      if (kind === 'cancellation') {
        // The cancellation wording, not the initiation's.
        expect(text).not.to.contain(m['payment.initiation.title']).and.not.to.contain(m['payment.initiation.confirm']);
      } else {
        expect(text).not.to.contain(m['payment.cancellation.title']).and.not.to.contain(m['payment.cancellation.confirm']);
      }
      expect(await page.locator('script').count(), 'the page has no scripts').to.equal(0);

      // The confirm and reject buttons, the keyboard focus on confirm.
      const confirmButton = page.getByRole('button', { name: m[`payment.${kind}.confirm`], exact: true });
      const rejectButton = page.getByRole('button', { name: m[`payment.${kind}.reject`], exact: true });
      expect(await confirmButton.getAttribute('name')).to.equal('decision');
      expect(await confirmButton.getAttribute('value')).to.equal('grant');
      expect(await rejectButton.getAttribute('value')).to.equal('refuse');
      await page.locator('button[name="decision"][value="grant"]:focus').waitFor();
      if (walk.screenshot) await screenshot(page, walk.screenshot);
      expect(outcomes.of(opened.id), 'nothing decided before the PSU').to.deep.equal([]);

      // Confirming with the keyboard alone, from where the focus is; rejecting with a click, and the
      // TPP's page then loads.
      const back = towardsTpp(page);
      if (confirm) {
        await page.keyboard.press('Enter');
      } else {
        await rejectButton.click();
        await page.waitForURL(`${TPP_CALLBACK}**`);
        expect(await page.textContent('body')).to.equal('TPP received the PSU back');
      }
      const departure = await back;
      expectChain(departure, server, 'consent');
      const callback = queryOf(departure.query, server.issuer);

      const told = outcomes.of(opened.id);
      expect(told.map((outcome) => outcome.status)).to.deep.equal([confirm ? 'confirmed' : 'rejected']);
      expect(told[0]).to.include({ type, paymentId, clientId: client.clientId, psuId: psu.psuId });
      expect(told[0]!.authorizationDetails).to.deep.equal(opened.authorizationDetails);
      expect(await server.auth.payments.statusOf(opened.id)).to.have.property('status', confirm ? 'confirmed' : 'rejected');

      if (!confirm) {
        expect(callback).to.deep.equal({ error: 'access_denied', error_description: `the PSU rejected the ${kind === 'initiation' ? 'payment' : 'cancellation'}`, state });
        return;
      }
      expect(Object.keys(callback).sort()).to.deep.equal(['code', 'state']);
      expect(callback.state).to.equal(state);
      const tokens = await exchangeCode(server, client, callback.code!, { verifier: '', challenge: '' }, { code_verifier: undefined });
      expect(tokens.status, tokens.text).to.equal(200);
      expect(tokens.body.scope).to.equal('pisp');
      expect(tokens.body.authorization_details).to.deep.equal(opened.authorizationDetails);
      expect(outcomes.of(opened.id), 'still one outcome after the code is redeemed').to.have.length(1);
    });
  }

  it('sandbox (de): the PSU cancels on the sign-in page; the TPP gets access_denied and the payment is rejected', async () => {
    const client = clients.sandbox;
    const m = CATALOGS.de;
    const state = 'pisp-state-walk-away';
    const opened = await server.auth.payments.openInitiation({ clientId: client.clientId, payment: payment('pmt-walk-away'), redirectUri: TPP_CALLBACK, state, language: 'de' });
    const page = await psuPage('de');
    await page.goto(opened.url);
    await page.getByRole('heading', { level: 1, name: m['signin.sandbox.title'] }).waitFor();

    const back = towardsTpp(page);
    await page.getByRole('button', { name: m['page.cancel'].replace('{tpp}', TPP_NAMES.sandbox.de) }).click();
    await page.waitForURL(`${TPP_CALLBACK}**`);
    const departure = await back;
    expectChain(departure, server, 'cancel');
    const callback = queryOf(departure.query, server.issuer);
    expect(callback).to.deep.equal({ error: 'access_denied', error_description: 'the PSU rejected the payment', state });

    const told = outcomes.of(opened.id);
    expect(told.map((outcome) => outcome.status)).to.deep.equal(['rejected']);
    expect(told[0]).to.include({ type: 'payment_initiation', paymentId: 'pmt-walk-away', clientId: client.clientId });
    expect(told[0], 'nobody signed in').not.to.have.property('psuId');
  });
});
