import { expect } from 'chai';

import { redirectParams, submit } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { pagesSuite } from '../support/pages.js';
import type { TestServer } from '../support/server.js';
import { catalogs, message, openSignIn, stepOf, watchGrants } from './helpers.js';

const en = catalogs().en;

/** Posts the sign-in form of `page` and follows redirects on the server. */
function signIn(server: TestServer, browser: PsuBrowser, page: PageResponse, login: string, password: string): Promise<PageResponse> {
  return submit(server, browser, page, '/signin', { login, password });
}

/** The consent page lists exactly these account ids. */
function accountIdsOf(page: PageResponse): string[] {
  return [...page.text.matchAll(/<input type="checkbox" name="accounts" id="[^"]+" value="([^"]+)"/g)].map((match) => match[1] ?? '');
}

describe('PSU pages: sign-in', function signin() {
  const { server, sandbox, bank } = pagesSuite();

  describe('sandbox', () => {
    it('lists the test customers', async () => {
      const { page } = await openSignIn(server, new PsuBrowser(), sandbox);
      expect(page.text).to.contain('value="sandbox-anna"');
      expect(page.text).to.contain('value="sandbox-claire"');
      expect(page.text).to.contain(message(en, 'signin.sandbox.accounts', { count: 2 }));
      expect(page.text).not.to.contain('name="password"');
    });

    for (const [name, fields] of [['no PSU', {}], ['an unknown PSU id', { psu: 'sandbox-mallory' }], ['an empty PSU id', { psu: '' }]] as const) {
      it(`refuses ${name} with 400 and the error, staying on the sign-in`, async () => {
        const grants = watchGrants(server);
        try {
          const browser = new PsuBrowser();
          const { page } = await openSignIn(server, browser, sandbox);
          const response = await browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), ...fields });
          expect(response.status, response.text).to.equal(400);
          expect(response.location).to.equal(undefined);
          expect(response.text).to.contain(message(en, 'signin.sandbox.missing'));
          expect(response.text).to.contain('aria-invalid="true"');
          expect(stepOf(response)).to.equal('signin');
          const again = await browser.get(page.url);
          expect(stepOf(again)).to.equal('signin');
          expect(grants.ids).to.deep.equal([]);
        } finally {
          grants.stop();
        }
      });
    }

    it('shows the chosen PSU\'s accounts on the consent page, and only those', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, sandbox);
      const consent = await submit(server, browser, page, '/signin', { psu: 'sandbox-claire' });
      expect(stepOf(consent)).to.equal('consent');
      expect(accountIdsOf(consent)).to.deep.equal(['sb-claire-1']);
      expect(consent.text).to.contain('Compte courant');
      expect(consent.text).to.contain('FR76 1027 8060 6100 0102 0480 101');

      const other = new PsuBrowser();
      const { page: annaPage } = await openSignIn(server, other, sandbox);
      const annaConsent = await submit(server, other, annaPage, '/signin', { psu: 'sandbox-anna' });
      expect(accountIdsOf(annaConsent)).to.deep.equal(['sb-anna-1', 'sb-anna-2']);
      expect(annaConsent.text).to.contain('DE89 3704 0044 0532 0130 00');
    });
  });

  describe('bank', () => {
    it('a wrong password: 401, the error, the login kept, the password not', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, bank);
      const calls = server.bank.credentialAttempts.length;
      const failed = await browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), login: 'marie', password: 'wrong horse' });
      expect(failed.status, failed.text).to.equal(401);
      expect(failed.location).to.equal(undefined);
      expect(failed.text).to.contain(message(en, 'signin.bank.failed'));
      expect(failed.text).to.match(/<input type="text" id="login" name="login"[^>]* value="marie"/);
      expect(failed.text).not.to.contain('wrong horse');
      expect(stepOf(failed)).to.equal('signin');
      expect(server.bank.credentialAttempts).to.have.length(calls + 1);
      expect(server.bank.credentialAttempts.at(-1)).to.include({ login: 'marie', password: 'wrong horse', language: 'en' });
      // The right password then works in the same authorization.
      const secondFactor = await signIn(server, browser, page, 'marie', 'correct horse');
      expect(stepOf(secondFactor)).to.equal('second-factor');
    });

    it('a missing login or password: 400, the authenticator is not asked', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, bank);
      const calls = server.bank.credentialAttempts.length;
      const missing = await browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), login: 'marie', password: '' });
      expect(missing.status).to.equal(400);
      expect(missing.text).to.contain(message(en, 'signin.bank.missing'));
      expect(server.bank.credentialAttempts).to.have.length(calls);
    });

    it('a customer without second factor goes straight to consent', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, bank);
      const factors = server.bank.secondFactorAttempts.length;
      const response = await browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), login: 'lukas', password: 'battery staple' });
      expect(response.status).to.equal(303);
      const consent = await browser.follow(response, server.url);
      expect(consent.status).to.equal(200);
      expect(stepOf(consent)).to.equal('consent');
      expect(accountIdsOf(consent)).to.deep.equal(['bk-lukas-1']);
      expect(server.bank.secondFactorAttempts).to.have.length(factors);
    });

    it('the second-factor page shows the hint; a wrong code: 401 and the error, then the right code works', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, bank);
      const secondFactor = await signIn(server, browser, page, 'marie', 'correct horse');
      expect(stepOf(secondFactor)).to.equal('second-factor');
      expect(secondFactor.text).to.contain(message(en, 'signin.code.hint', { hint: '+33 6 •• •• •• 42' }));
      const wrong = await browser.post(formAction(secondFactor, '/second-factor'), { csrf: csrfOf(secondFactor), code: '654321' });
      expect(wrong.status, wrong.text).to.equal(401);
      expect(wrong.location).to.equal(undefined);
      expect(wrong.text).to.contain(message(en, 'signin.code.failed'));
      expect(stepOf(wrong)).to.equal('second-factor');
      expect(server.bank.secondFactorAttempts.at(-1)).to.include({ psuId: 'psu-marie', code: '654321', challenge: 'challenge-of-psu-marie' });
      const consent = await submit(server, browser, secondFactor, '/second-factor', { code: '123456' });
      expect(stepOf(consent)).to.equal('consent');
      expect(accountIdsOf(consent)).to.deep.equal(['bk-marie-1', 'bk-marie-2']);
    });

    it('the consent cannot be reached by posting it before the second factor', async () => {
      const grants = watchGrants(server);
      try {
        const browser = new PsuBrowser();
        const { page } = await openSignIn(server, browser, bank);
        const secondFactor = await signIn(server, browser, page, 'marie', 'correct horse');
        const base = formAction(secondFactor, '/second-factor').replace(/\/second-factor$/, '');
        const skipped = await browser.post(`${base}/consent`, { csrf: csrfOf(secondFactor), decision: 'grant', accounts: ['bk-marie-1'] });
        const landed = await browser.follow(skipped, server.url);
        expect(landed.location, 'no redirect to the TPP').to.equal(undefined);
        expect(stepOf(landed)).to.equal('second-factor');
        expect(grants.ids).to.deep.equal([]);
      } finally {
        grants.stop();
      }
    });

    for (const step of ['sign-in', 'second-factor'] as const) {
      it(`cancel on the ${step} page: 303 back to the TPP with access_denied and the state`, async () => {
        const browser = new PsuBrowser();
        const { page: first, params } = await openSignIn(server, browser, bank);
        const page = step === 'sign-in' ? first : await signIn(server, browser, first, 'marie', 'correct horse');
        expect(stepOf(page)).to.equal(step === 'sign-in' ? 'signin' : 'second-factor');
        const cancelled = await browser.post(formAction(page, '/cancel'), { csrf: csrfOf(page) });
        expect(cancelled.status).to.equal(303);
        const back = await browser.follow(cancelled, server.url);
        expect(back.status).to.equal(303);
        const query = redirectParams(back.location);
        expect(query.get('error')).to.equal('access_denied');
        expect(query.get('state')).to.equal(params.state);
        expect(query.get('code')).to.equal(null);
      });
    }

    it('cancel on the sandbox sign-in page: back to the TPP with access_denied and the state', async () => {
      const browser = new PsuBrowser();
      const { page, params } = await openSignIn(server, browser, sandbox);
      const back = await submit(server, browser, page, '/cancel', {});
      const query = redirectParams(back.location);
      expect(query.get('error')).to.equal('access_denied');
      expect(query.get('state')).to.equal(params.state);
    });

    describe('when the bank\'s services fail', () => {
      afterEach(() => {
        server.bank.failing = {};
      });

      /** The redirect to the TPP says server_error with the state, and nothing of the cause. */
      function expectServerError(back: PageResponse, state: string | undefined): void {
        const query = redirectParams(back.location);
        expect(query.get('error')).to.equal('server_error');
        expect(query.get('state')).to.equal(state);
        expect(query.get('code')).to.equal(null);
        expect(back.location).not.to.match(/unavailable/);
      }

      it('the authenticator throwing at sign-in: back to the TPP with server_error and the state', async () => {
        const browser = new PsuBrowser();
        const { page, params } = await openSignIn(server, browser, bank);
        server.bank.failing = { authenticator: true };
        const back = await signIn(server, browser, page, 'marie', 'correct horse');
        expectServerError(back, params.state);
        expect(server.logs.some((log) => log.level === 'error' && log.fields.event === 'psu.bank_service_failed')).to.equal(true);
      });

      it('the authenticator throwing at the second factor: back to the TPP with server_error and the state', async () => {
        const browser = new PsuBrowser();
        const { page, params } = await openSignIn(server, browser, bank);
        const secondFactor = await signIn(server, browser, page, 'marie', 'correct horse');
        expect(stepOf(secondFactor)).to.equal('second-factor');
        server.bank.failing = { authenticator: true };
        const back = await submit(server, browser, secondFactor, '/second-factor', { code: '123456' });
        expectServerError(back, params.state);
      });

      it('the account lookup throwing: back to the TPP with server_error and the state', async () => {
        const grants = watchGrants(server);
        try {
          const browser = new PsuBrowser();
          const { page, params } = await openSignIn(server, browser, bank);
          server.bank.failing = { accounts: true };
          const back = await signIn(server, browser, page, 'lukas', 'battery staple');
          expectServerError(back, params.state);
          expect(grants.ids).to.deep.equal([]);
        } finally {
          grants.stop();
        }
      });
    });
  });
});
