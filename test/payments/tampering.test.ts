/**
 * Everything the PSU's browser carries, tampered with: the URL the payment API returned (its
 * client_id, request_uri, path and extra parameters), the forms of the payment page, the language
 * switch. The payment shown, confirmed, told to the bank and carried by the token is always the
 * one the payment API registered, and nobody is sent to a URI its client did not register.
 */
import { expect } from 'chai';

import type { OpenedPaymentAuthorization } from '../../lib/index.js';
import { exchangeCode, REDIRECT_URI, submit, suiteClient, type TestClient } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { paymentsSuite } from '../support/pages.js';
import { beforeSuite } from '../support/suite.js';
import { decide, decisionsOffered, expectCode, expectContained, expectDenied, expectOutcome, paymentPage, readable, RecordingStorage, toldOnce, tppRedirect } from './harness.js';
import { OTHER_REDIRECT_URI, openPayment, otherPisp, pispClient, request } from './helpers.js';

const EVIL_REDIRECT_URI = 'https://evil.example/steal';

/** A payment detail other than the registered one, as an attacker would put it in a request. */
const FORGED_DETAIL = [{
  type: 'payment_initiation',
  instructedAmount: { currency: 'EUR', amount: '99999.99' },
  creditorName: 'Mallory',
  creditorAccount: { iban: 'DE89370400440532013000' },
  paymentId: 'pmt-forged',
}];

describe('payment authorizations: what the browser carries, tampered with', function tampering() {
  this.timeout(30_000);
  const storage = new RecordingStorage();
  const { server, client, outcomes } = paymentsSuite({ options: { storage } });
  /** Another PISP, registered with a redirect URI of its own. */
  const other = suiteClient(server, () => otherPisp(['authorization_code', 'client_credentials']));
  const bank = beforeSuite(() => pispClient(server, 'bank', 'Bank Pay'));
  let serial = 0;

  const open = async (by: TestClient = client) => {
    serial += 1;
    const state = `tamper-${serial}`;
    const opened = await server.auth.payments.openInitiation(request(by, { state, ...(by === other ? { redirectUri: OTHER_REDIRECT_URI } : {}) }));
    return { opened, state };
  };

  const withQuery = (url: string, changes: Record<string, string | null>): string => {
    const target = new URL(url);
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) target.searchParams.delete(name);
      else target.searchParams.set(name, value);
    }
    return target.href;
  };

  /** The authorization is still whole: its URL reaches the pages and its payment is confirmed as registered. */
  const expectStillUsable = async (opened: OpenedPaymentAuthorization, state: string, by: TestClient = client) => {
    expect(outcomes.of(opened.id), 'nothing decided').to.deep.equal([]);
    const { browser, page } = await paymentPage(server, opened.url);
    const done = await decide(server, browser, page, { decision: 'grant' });
    const redirect = new URL(done.location!);
    expect(`${redirect.origin}${redirect.pathname}`).to.equal(by === other ? OTHER_REDIRECT_URI : REDIRECT_URI);
    expect(redirect.searchParams.get('state')).to.equal(state);
    expect(redirect.searchParams.get('code')).to.be.a('string');
    expectOutcome(toldOnce(outcomes.received, opened), opened, by, { status: 'confirmed', psuId: 'sandbox-anna' });
  };

  /** Confirms on `page` and checks that the registered payment is what the bank, the TPP and the token got. */
  const expectRegisteredPaymentConfirmed = async (opened: OpenedPaymentAuthorization, state: string, browser: PsuBrowser, page: PageResponse, fields: Record<string, string | readonly string[]> = {}, verifier?: string) => {
    const text = readable(page.text);
    expect(text).to.include('€1,250.50').and.include('Boulangerie Dupont').and.include('FR76 •••• 0189').and.include('pmt-0001');
    expect(text).to.not.include('Mallory').and.not.include('99,999.99').and.not.include('pmt-forged');
    const code = expectCode(await decide(server, browser, page, { decision: 'grant', ...fields }), state);
    expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'sandbox-anna' });
    const tokens = await exchangeCode(server, client, code, { verifier: '', challenge: '' }, { code_verifier: verifier });
    expect(tokens.status, tokens.text).to.equal(200);
    expect(tokens.body.authorization_details).to.deep.equal(opened.authorizationDetails);
    expect(tokens.body.scope).to.equal('pisp');
  };

  describe('the URL', () => {
    it('with another registered client\'s id: no page, and the PSU goes nowhere but to that client\'s registered URI, without a code', async () => {
      const { opened, state } = await open();
      const visit = await new PsuBrowser().get(withQuery(opened.url, { client_id: other.clientId }));
      expectContained(visit, server, [OTHER_REDIRECT_URI]);
      expect(visit.location ?? '').to.not.include('/interaction/').and.not.include('code=');
      if (visit.location) {
        const params = new URL(visit.location).searchParams;
        expect(params.get('error')).to.be.a('string');
        // This PISP's state never reaches the other.
        expect(params.get('state')).to.equal(null);
      }
      // The PISP's own link is not spent by it.
      await expectStillUsable(opened, state);
    });

    it('with an unknown client id: an error page, nobody redirected', async () => {
      const { opened, state } = await open();
      for (const clientId of ['unknown-client', '', ' ', `${client.clientId}x`, client.clientId.toLowerCase() === client.clientId ? client.clientId.toUpperCase() : client.clientId.toLowerCase()]) {
        const visit = await new PsuBrowser().get(withQuery(opened.url, { client_id: clientId }));
        expectContained(visit, server);
        expect(visit.status, JSON.stringify(clientId)).to.equal(400);
        expect(visit.location).to.equal(undefined);
      }
      const without = await new PsuBrowser().get(withQuery(opened.url, { client_id: null }));
      expectContained(without, server);
      expect(without.location).to.equal(undefined);
      await expectStillUsable(opened, state);
    });

    it('with an unknown or garbled request_uri: back to the client\'s registered URI with an error, no page', async () => {
      const { opened, state } = await open();
      const id = opened.id;
      for (const requestUri of [
        'urn:ietf:params:oauth:request_uri:unknown',
        `urn:ietf:params:oauth:request_uri:${id}x`,
        `urn:ietf:params:oauth:request_uri:${id.slice(0, -1)}`,
        'urn:ietf:params:oauth:request_uri:',
        `urn:ietf:params:oauth:request_uri:${'A'.repeat(5000)}`,
        'urn:ietf:params:oauth:request_uri:../../Client/x',
        `URN:IETF:PARAMS:OAUTH:REQUEST_URI:${id}`,
        id,
        'garbage',
        '',
        'https://evil.example/request.jwt',
        'urn:ietf:params:oauth:request_uri:%00',
        'urn:ietf:params:oauth:request_uri:é\u202e',
      ]) {
        const visit = await new PsuBrowser().get(withQuery(opened.url, { request_uri: requestUri }));
        expectContained(visit, server);
        expect(visit.location ?? '', requestUri.slice(0, 80)).to.not.include('/interaction/').and.not.include('code=');
      }
      await expectStillUsable(opened, state);
    });

    it('with another client\'s request_uri: refused, and that client\'s link stays usable by its PSU', async () => {
      const { opened: theirs, state: theirState } = await open(other);
      const { opened: mine } = await open();
      const borrowed = withQuery(mine.url, { request_uri: new URL(theirs.url).searchParams.get('request_uri') });
      const visit = await new PsuBrowser().get(borrowed);
      expectContained(visit, server);
      const params = tppRedirect(visit);
      expect(params.get('error')).to.be.oneOf(['invalid_request_uri', 'invalid_request_object']);
      // The other client's state never reaches this client.
      expect(params.get('state')).to.not.equal(theirState);
      expect(params.get('code')).to.equal(null);
      await expectStillUsable(theirs, theirState, other);
    });

    it('with extra parameters (scope, authorization_details, redirect_uri, state, response_type, code_challenge, ui_locales): the registered payment, to the registered URI', async () => {
      const extras: Record<string, string> = {
        scope: 'aisp',
        authorization_details: JSON.stringify(FORGED_DETAIL),
        redirect_uri: EVIL_REDIRECT_URI,
        state: 'attacker-state',
        response_type: 'code',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        ui_locales: 'en',
        resource: 'https://evil.example/api',
        response_mode: 'fragment',
      };
      for (const changes of [...Object.entries(extras).map(([name, value]) => ({ [name]: value })), extras]) {
        const { opened, state } = await open();
        const browser = new PsuBrowser();
        const visit = await browser.get(withQuery(opened.url, changes));
        expectContained(visit, server);
        expect(visit.location, JSON.stringify(changes)).to.match(/\/oauth2\/interaction\//);
        const signIn = await browser.follow(visit, server.url);
        expect(readable(signIn.text), JSON.stringify(changes)).to.include('Pay Now');
        const page = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
        // An S256 challenge appended to a link opened without one binds the code (RFC 7636 Appendix B's pair).
        const verifier = changes.code_challenge && changes.code_challenge_method ? 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' : undefined;
        await expectRegisteredPaymentConfirmed(opened, state, browser, page, {}, verifier);
      }
    });

    it('with a response_type other than code, or a foreign redirect_uri on a refusal: never sent to an unregistered URI', async () => {
      for (const changes of [
        { response_type: 'token' } as Record<string, string>,
        { response_type: 'code id_token', redirect_uri: EVIL_REDIRECT_URI },
        { request_uri: 'urn:ietf:params:oauth:request_uri:unknown', redirect_uri: EVIL_REDIRECT_URI },
        { client_id: other.clientId, redirect_uri: EVIL_REDIRECT_URI },
        { client_id: other.clientId, redirect_uri: REDIRECT_URI },
      ]) {
        const { opened } = await open();
        const visit = await new PsuBrowser().get(withQuery(opened.url, changes));
        expectContained(visit, server, changes.client_id === other.clientId ? [OTHER_REDIRECT_URI] : [REDIRECT_URI]);
        expect(visit.location ?? '', JSON.stringify(changes)).to.not.include('evil.example').and.not.include('code=');
      }
    });

    it('on the other environment\'s page: a sandbox client\'s link on the bank page is refused, and its own page still works', async () => {
      const { opened, state } = await open();
      const target = new URL(opened.url);
      target.pathname = '/oauth2/en/banque/oauth2_authorization.aspx';
      const visit = await new PsuBrowser().get(target.href);
      const params = tppRedirect(visit);
      expect(params.get('error')).to.equal('invalid_request');
      expect(params.get('state')).to.equal(state);
      expect(params.get('error_description')).to.include('sandbox');
      await expectStillUsable(opened, state);
    });

    it('on the other environment\'s page: a bank client\'s link on the sandbox page is refused', async () => {
      serial += 1;
      const opened = await server.auth.payments.openInitiation(request(bank, { state: `bank-${serial}` }));
      expect(new URL(opened.url).pathname).to.equal('/oauth2/en/banque/oauth2_authorization.aspx');
      const target = new URL(opened.url);
      target.pathname = '/oauth2/en/sandbox/signin.html';
      const params = tppRedirect(await new PsuBrowser().get(target.href));
      expect(params.get('error')).to.equal('invalid_request');
      expect(params.get('state')).to.equal(`bank-${serial}`);
      expect(outcomes.of(opened.id)).to.deep.equal([]);
    });

    it('on the standard /authorize endpoint or the page in another language: the same payment', async () => {
      for (const path of ['/oauth2/authorize', '/oauth2/de/sandbox/signin.html']) {
        const { opened, state } = await open();
        const target = new URL(opened.url);
        target.pathname = path;
        const browser = new PsuBrowser();
        const { page: signIn } = await openPayment(server, target.href, browser);
        const page = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
        const text = readable(page.text);
        expect(text).to.include(path.includes('/de/') ? '1.250,50 €' : '€1,250.50').and.include('Boulangerie Dupont');
        expectCode(await decide(server, browser, page, { decision: 'grant' }), state);
        expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'sandbox-anna' });
      }
    });
  });

  describe('the payment page\'s form', () => {
    it('refuses a post without the form token, with another token or from another origin, and decides nothing', async () => {
      const { opened, state } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      const action = formAction(page, '/consent');
      const csrf = csrfOf(page);
      for (const [fields, headers] of [
        [{ decision: 'grant' }, {}],
        [{ decision: 'grant', csrf: '' }, {}],
        [{ decision: 'grant', csrf: `${csrf}x` }, {}],
        [{ decision: 'grant', csrf: csrf.slice(0, -1) }, {}],
        [{ decision: 'grant', csrf: [csrf, csrf] }, {}],
        [{ decision: 'grant', csrf }, { origin: 'https://evil.example' }],
        [{ decision: 'refuse' }, {}],
      ] as [Record<string, string | string[]>, Record<string, string>][]) {
        const answer = await browser.post(action, fields, headers);
        expect(answer.status, JSON.stringify(fields)).to.equal(403);
        expectContained(answer, server);
        expect(answer.location).to.equal(undefined);
      }
      const cancel = await browser.post(action.replace(/consent$/, 'cancel'), {});
      expect(cancel.status).to.equal(403);
      expect(outcomes.of(opened.id)).to.deep.equal([]);
      expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('pending');
      // The page itself still works.
      await expectRegisteredPaymentConfirmed(opened, state, browser, await browser.get(page.url));
    });

    it('confirms only on decision=grant exactly: any other value rejects the payment', async () => {
      for (const decision of ['GRANT', 'grant ', ' grant', 'confirm', 'yes', 'true', '1', '', 'grant\u0000', ['grant', 'grant'], ['grant', 'refuse']] as (string | string[])[]) {
        const { opened, state } = await open();
        const { browser, page } = await paymentPage(server, opened.url);
        const answer = await decide(server, browser, page, { decision });
        expectDenied(answer, state);
        expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'rejected', psuId: 'sandbox-anna' });
      }
      const { opened, state } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      const fields = { csrf: csrfOf(page) };
      expectDenied(await browser.follow(await browser.post(formAction(page, '/consent'), fields), server.url), state);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'rejected', psuId: 'sandbox-anna' });
    });

    it('ignores payment fields posted with the confirmation: the registered payment is confirmed, told and issued', async () => {
      const { opened, state } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      await expectRegisteredPaymentConfirmed(opened, state, browser, page, {
        amount: '99999.99',
        currency: 'JPY',
        creditorName: 'Mallory',
        creditorAccount: 'DE89370400440532013000',
        debtorAccount: 'DE02120300000000202051',
        paymentId: 'pmt-forged',
        authorization_details: JSON.stringify(FORGED_DETAIL),
        instructedAmount: '99999.99',
        accounts: ['sb-anna-2'],
        psu: 'sandbox-claire',
        scope: 'aisp',
        redirect_uri: EVIL_REDIRECT_URI,
        state: 'attacker-state',
      });
    });

    it('keeps the payment when the PSU switches language, and confirms the registered one', async () => {
      const { opened, state } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      const csrf = csrfOf(page);
      const expected = { de: '1.250,50 €', fr: '1 250,50 €', en: '€1,250.50' };
      for (const language of ['de', 'fr', 'de', 'en'] as const) {
        const switched = await browser.get(`${page.url.split('?')[0]}?lang=${language}`);
        expect(switched.status, switched.text).to.equal(200);
        expect(switched.text).to.include(`<html lang="${language}"`);
        expect(readable(switched.text)).to.include(expected[language]).and.include('Boulangerie Dupont').and.include('FR76 •••• 0189').and.include('pmt-0001');
        expect(csrfOf(switched)).to.equal(csrf);
        expect(decisionsOffered(switched)).to.deep.equal(['grant', 'refuse']);
      }
      for (const lang of ['es', 'de&lang=fr', '<script>', 'x'.repeat(300)]) {
        const answer = await browser.get(`${page.url.split('?')[0]}?lang=${encodeURIComponent(lang)}`);
        expectContained(answer, server);
        expect(answer.status).to.equal(200);
        expect(readable(answer.text)).to.include('€1,250.50');
      }
      await expectRegisteredPaymentConfirmed(opened, state, browser, await browser.get(page.url.split('?')[0]!));
    });

    it('answers posts to another interaction, or to nothing, with a page and without deciding', async () => {
      const { opened } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      const action = formAction(page, '/consent');
      for (const target of [action.replace(/\/interaction\/[^/]+\//, '/interaction/someone-else/'), action.replace(/consent$/, 'confirm'), `${action}/x`]) {
        const answer = await browser.post(target, { csrf: csrfOf(page), decision: 'grant' });
        expectContained(answer, server);
        expect(answer.status, target).to.be.oneOf([400, 404]);
      }
      // Another browser (no interaction cookie) posting the right form.
      const stranger = await new PsuBrowser().post(action, { csrf: csrfOf(page), decision: 'grant' });
      expectContained(stranger, server);
      expect(stranger.status).to.equal(400);
      expect(outcomes.of(opened.id)).to.deep.equal([]);
    });
  });

  describe('afterwards', () => {
    it('stored no pushed request but those of the links opened here', () => {
      const opened = new Set(storage.ids('PaymentAuthorization'));
      expect(opened.size).to.equal(serial);
      expect(storage.ids('PushedAuthorizationRequest').filter((id) => !opened.has(id))).to.deep.equal([]);
    });
  });

});
