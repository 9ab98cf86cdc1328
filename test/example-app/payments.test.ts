/**
 * The example app's demo payment API, end to end as the README walks through it: a PISP submits a
 * payment over mutual TLS, the PSU confirms it on the sandbox page, the payment API sees it
 * confirmed, the PISP redeems the code; then the same for its cancellation.
 */
import { expect } from 'chai';
import type supertest from 'supertest';

import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { startExampleApp, type ExampleApp } from './helpers.js';

const REDIRECT_URI = 'https://tpp.example/callback';
/** The README's payment. */
const PAYMENT_BODY = {
  redirectUri: REDIRECT_URI,
  state: 'xyz',
  language: 'fr',
  payment: {
    amount: '12.50',
    currency: 'EUR',
    creditorName: 'Boulangerie Dupont',
    creditorAccount: 'FR76 3000 6000 0112 3456 7890 189',
    remittanceInformation: 'Invoice 118',
  },
};

describe('the example app\'s demo payment API (README)', function payments() {
  this.timeout(60_000);
  let example: ExampleApp;
  let pisp: { cert: string; key: string };
  let clientId: string;

  /** `method path` with the PISP's certificate (or `tpp`'s). */
  const withCert = (method: 'get' | 'post', path: string, tpp = pisp) => example.request(method, path).cert(tpp.cert).key(tpp.key);

  const post = async (browser: PsuBrowser, page: PageResponse, action: string, fields: Record<string, string>) => browser.follow(
    await browser.post(formAction(page, action), { csrf: csrfOf(page), ...fields }),
    example.base,
  );

  /** The PSU opens `href`, picks Claire on the sandbox page and decides; returns where the browser lands. */
  async function psuDecides(href: string, decision: 'grant' | 'refuse', expected: string[]): Promise<URL> {
    const browser = new PsuBrowser(undefined, example.ca);
    const signIn = await browser.follow(await browser.get(href), example.base);
    expect(signIn.status, signIn.text).to.equal(200);
    expect(signIn.text).to.contain('Claire Martin');
    const payment = await post(browser, signIn, '/signin', { psu: 'sandbox-psu-claire' });
    expect(payment.status, payment.text).to.equal(200);
    for (const text of expected) expect(payment.text).to.contain(text);
    const back = await post(browser, payment, '/consent', { decision });
    const url = new URL(back.location ?? 'missing:');
    expect(`${url.origin}${url.pathname}`).to.equal(REDIRECT_URI);
    expect(url.searchParams.get('state')).to.equal('xyz');
    return url;
  }

  before(async () => {
    example = await startExampleApp();
    pisp = await example.tppCert('PSP_PI', 'Pay Now');
    const registered = await withCert('post', '/oauth2/register').send({
      redirect_uris: [REDIRECT_URI], grant_types: ['authorization_code', 'client_credentials'], client_name: 'Pay Now',
    });
    expect(registered.status, registered.text).to.equal(201);
    // Stored, not answered: the payments below need both payment types (test/registration/register.test.ts checks them).
    expect(registered.body).not.to.have.property('authorization_details_types');
    clientId = String(registered.body.client_id);
  });

  after(() => {
    example?.stop();
  });

  let paymentId: string;

  it('opens a payment over mutual TLS and answers where to send the PSU', async () => {
    const res = await withCert('post', '/api/payments').send(PAYMENT_BODY);
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ status: 'pending' });
    paymentId = String(res.body.paymentId);
    expect(res.headers.location).to.equal(`/api/payments/${paymentId}`);
    const href = new URL(res.body._links.scaRedirect.href as string);
    expect(`${href.origin}${href.pathname}`).to.equal(`${example.base}/oauth2/fr/sandbox/signin.html`);
    expect(href.searchParams.get('client_id')).to.equal(clientId);
    expect(href.searchParams.get('request_uri')).to.match(/^urn:ietf:params:oauth:request_uri:/);
    expect((await withCert('get', `/api/payments/${paymentId}`)).body).to.deep.equal({ paymentId, status: 'pending' });

    // The PSU confirms; the payment API is told, and the PISP redeems the code without a verifier.
    const back = await psuDecides(res.body._links.scaRedirect.href as string, 'grant', ['Confirmer ce paiement', 'Boulangerie Dupont', 'FR76 •••• 0189', 'Invoice 118', paymentId]);
    expect((await withCert('get', `/api/payments/${paymentId}`)).body).to.deep.equal({ paymentId, status: 'confirmed' });
    await example.waitForOutput(`payment ${paymentId}: initiation confirmed by sandbox-psu-claire`);

    const tokens: supertest.Response = await withCert('post', '/oauth2/token').type('form').send({
      grant_type: 'authorization_code', code: back.searchParams.get('code') ?? '', redirect_uri: REDIRECT_URI, client_id: clientId,
    });
    expect(tokens.status, tokens.text).to.equal(200);
    expect(tokens.body.scope).to.equal('pisp');
    expect(tokens.body).to.not.have.property('refresh_token');
    expect(tokens.body.authorization_details).to.deep.equal([{
      type: 'payment_initiation',
      instructedAmount: { currency: 'EUR', amount: '12.50' },
      creditorName: 'Boulangerie Dupont',
      creditorAccount: { iban: 'FR7630006000011234567890189' },
      remittanceInformationUnstructured: 'Invoice 118',
      paymentId,
    }]);
  });

  it('opens the cancellation of a confirmed payment; the PSU confirms it and the payment is cancelled', async () => {
    // The README's cancellation: no language, so the pages' default (English).
    const res = await withCert('post', `/api/payments/${paymentId}/cancellation`).send({ redirectUri: REDIRECT_URI, state: 'xyz' });
    expect(res.status, res.text).to.equal(201);
    expect(res.body).to.include({ paymentId, status: 'pending' });
    expect((await withCert('post', `/api/payments/${paymentId}/cancellation`).send({ redirectUri: REDIRECT_URI })).status).to.equal(409);
    expect(res.body._links.scaRedirect.href).to.contain('/oauth2/en/sandbox/signin.html?');
    const back = await psuDecides(res.body._links.scaRedirect.href as string, 'grant', ['Cancel this payment?', 'Keep the payment', 'Boulangerie Dupont', 'FR76 •••• 0189']);
    expect(back.searchParams.get('code')).to.be.a('string');
    expect((await withCert('get', `/api/payments/${paymentId}`)).body).to.deep.equal({ paymentId, status: 'cancelled', cancellation: { status: 'confirmed' } });
    await example.waitForOutput(`payment ${paymentId}: cancellation confirmed by sandbox-psu-claire`);
  });

  it('tells the PISP when the PSU rejects a payment', async () => {
    const res = await withCert('post', '/api/payments').send({ ...PAYMENT_BODY, clientId });
    expect(res.status, res.text).to.equal(201);
    const back = await psuDecides(res.body._links.scaRedirect.href as string, 'refuse', ['Refuser le paiement']);
    expect(back.searchParams.get('error')).to.equal('access_denied');
    expect((await withCert('get', `/api/payments/${res.body.paymentId}`)).body).to.include({ status: 'rejected' });
    const cancel = await withCert('post', `/api/payments/${res.body.paymentId}/cancellation`).send({ redirectUri: REDIRECT_URI });
    expect(cancel.status).to.equal(409);
    expect(cancel.body.error_description).to.contain('only a confirmed payment can be cancelled');
  });

  it('refuses requests without a PISP certificate, bad bodies and other organizations\' payments', async () => {
    const anonymous = await example.request('post', '/api/payments').send(PAYMENT_BODY);
    expect(anonymous.status).to.equal(401);
    expect(anonymous.body.error).to.equal('invalid_client');

    const aisp = await example.tppCert('PSP_AI', 'Accounts Only');
    const refused = await withCert('post', '/api/payments', aisp).send(PAYMENT_BODY);
    expect(refused.status).to.equal(403);
    expect(refused.body.error_description).to.contain('PSP_PI');

    const badAmount = await withCert('post', '/api/payments').send({ ...PAYMENT_BODY, payment: { ...PAYMENT_BODY.payment, amount: '12.505' } });
    expect(badAmount.status).to.equal(400);
    expect(badAmount.body).to.deep.equal({ error: 'invalid_request', error_description: 'payment.amount: amount must have at most 2 decimal digits in EUR' });
    const unknownField = await withCert('post', '/api/payments').send({ ...PAYMENT_BODY, amount: '1' });
    expect(unknownField.status).to.equal(400);
    const badRedirect = await withCert('post', '/api/payments').send({ ...PAYMENT_BODY, redirectUri: 'https://elsewhere.example/' });
    expect(badRedirect.body.error).to.equal('invalid_redirect_uri');
    const malformed = await withCert('post', '/api/payments').set('Content-Type', 'application/json').send('{"payment":');
    expect(malformed.status).to.equal(400);
    expect(malformed.body.error).to.equal('invalid_request');

    const other = await example.tppCert('PSP_PI', 'Other Pay');
    expect((await withCert('get', `/api/payments/${paymentId}`, other)).status).to.equal(404);
    const foreignClient = await withCert('post', '/api/payments', other).send({ ...PAYMENT_BODY, clientId });
    expect(foreignClient.status).to.equal(403);
    const noClient = await withCert('post', '/api/payments', other).send(PAYMENT_BODY);
    expect(noClient.status).to.equal(400);
    expect(noClient.body.error_description).to.contain('has no client registered with the pisp scope');
  });
});
