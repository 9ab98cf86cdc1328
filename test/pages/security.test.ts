import { expect } from 'chai';

import { authorizationUrl, entryPath, redirectParams, registerClient, requestParams, submit } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { pagesSuite } from '../support/pages.js';
import { startServer } from '../support/server.js';
import {
  catalogs,
  escaped,
  expectSecurePage,
  message,
  openSandboxConsent,
  openSignIn,
  stepOf,
  TPP_ORIGIN,
  watchGrants,
} from './helpers.js';

const en = catalogs().en;

describe('PSU pages: security', function security() {
  const { server, sandbox, bank } = pagesSuite();

  describe('security headers', () => {
    it('are on the sandbox sign-in and consent pages', async () => {
      const browser = new PsuBrowser();
      const { page: signIn } = await openSignIn(server, browser, sandbox);
      expect(stepOf(signIn)).to.equal('signin');
      await expectSecurePage(signIn, { formTarget: TPP_ORIGIN });
      const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
      expect(stepOf(consent)).to.equal('consent');
      await expectSecurePage(consent, { formTarget: TPP_ORIGIN });
    });

    it('are on the bank sign-in, second-factor and consent pages', async () => {
      const browser = new PsuBrowser();
      const { page: signIn } = await openSignIn(server, browser, bank);
      expect(signIn.text).to.contain('name="password"');
      await expectSecurePage(signIn, { formTarget: TPP_ORIGIN });
      const secondFactor = await submit(server, browser, signIn, '/signin', { login: 'marie', password: 'correct horse' });
      expect(stepOf(secondFactor)).to.equal('second-factor');
      await expectSecurePage(secondFactor, { formTarget: TPP_ORIGIN });
      const consent = await submit(server, browser, secondFactor, '/second-factor', { code: '123456' });
      expect(stepOf(consent)).to.equal('consent');
      await expectSecurePage(consent, { formTarget: TPP_ORIGIN });
    });

    it('are on the pages showing an error (wrong password, no PSU chosen)', async () => {
      const browser = new PsuBrowser();
      const { page: signIn } = await openSignIn(server, browser, bank);
      const failed = await submit(server, browser, signIn, '/signin', { login: 'lukas', password: 'wrong' });
      expect(failed.status).to.equal(401);
      await expectSecurePage(failed, { formTarget: TPP_ORIGIN });

      const sandboxBrowser = new PsuBrowser();
      const { page: sandboxSignIn } = await openSignIn(server, sandboxBrowser, sandbox);
      const missing = await submit(server, sandboxBrowser, sandboxSignIn, '/signin', {});
      expect(missing.status).to.equal(400);
      await expectSecurePage(missing, { formTarget: TPP_ORIGIN });
    });

    it('are on the locked page', async () => {
      const limited = await startServer();
      try {
        const client = await registerClient(limited, { environment: 'bank' });
        const browser = new PsuBrowser();
        const { page: signIn } = await openSignIn(limited, browser, client);
        let page: PageResponse = signIn;
        for (let attempt = 0; attempt < 6 && page.status !== 429; attempt += 1) {
          page = await submit(limited, browser, signIn, '/signin', { login: 'lukas', password: `wrong-${attempt}` });
        }
        expect(page.status, page.text).to.equal(429);
        expect(page.text).to.contain(message(en, 'signin.locked.title'));
        await expectSecurePage(page, { formTarget: TPP_ORIGIN });
      } finally {
        await limited.close();
      }
    });

    it('are on the error pages: rejected form, expired session, invalid authorization request', async () => {
      const browser = new PsuBrowser();
      const { page: signIn } = await openSignIn(server, browser, sandbox);
      const rejected = await browser.post(formAction(signIn, '/signin'), { csrf: 'wrong', psu: 'sandbox-anna' });
      expect(rejected.status).to.equal(403);
      await expectSecurePage(rejected);

      const expired = await new PsuBrowser().get(signIn.url);
      expect(expired.status, expired.text).to.equal(400);
      expect(expired.text).to.contain(message(en, 'error.expired.title'));
      await expectSecurePage(expired);

      const invalid = await new PsuBrowser().get(authorizationUrl(server, { ...requestParams(sandbox), client_id: 'no-such-client' }, entryPath('sandbox')));
      expect(invalid.status).to.equal(400);
      expect(invalid.location).to.equal(undefined);
      await expectSecurePage(invalid);
    });
  });

  describe('forms need their CSRF token and the server\'s origin', () => {
    const rejections: [string, (page: PageResponse) => { fields: Record<string, string>; headers?: Record<string, string> }][] = [
      ['without the csrf field', () => ({ fields: {} })],
      ['with a wrong csrf', () => ({ fields: { csrf: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } })],
      ['with the right csrf but from a foreign Origin', (page) => ({ fields: { csrf: csrfOf(page) }, headers: { origin: 'https://attacker.example' } })],
    ];

    /** A rejected post: the 403 page, no redirect, nothing saved, the same step on the next GET. */
    async function expectRejected(browser: PsuBrowser, page: PageResponse, response: PageResponse, grants: { ids: string[] }): Promise<void> {
      expect(response.status, response.text).to.equal(403);
      expect(response.location).to.equal(undefined);
      expect(response.text).to.contain(message(en, 'error.form.title'));
      expect(response.text, 'a link back to the step').to.contain(`href="${new URL(page.url).pathname}"`);
      await expectSecurePage(response);
      expect(grants.ids, 'no grant saved').to.deep.equal([]);
      const again = await browser.get(page.url);
      expect(again.status, again.text).to.equal(200);
      expect(stepOf(again)).to.equal(stepOf(page));
      expect(csrfOf(again)).to.equal(csrfOf(page));
    }

    for (const [name, attack] of rejections) {
      it(`refuses the sandbox sign-in posted ${name}`, async () => {
        const grants = watchGrants(server);
        try {
          const browser = new PsuBrowser();
          const { page } = await openSignIn(server, browser, sandbox);
          const { fields, headers } = attack(page);
          const response = await browser.post(formAction(page, '/signin'), { ...fields, psu: 'sandbox-anna' }, headers);
          await expectRejected(browser, page, response, grants);
        } finally {
          grants.stop();
        }
      });

      it(`refuses the bank sign-in posted ${name}, without asking the authenticator`, async () => {
        const grants = watchGrants(server);
        try {
          const browser = new PsuBrowser();
          const { page } = await openSignIn(server, browser, bank);
          const calls = server.bank.credentialAttempts.length;
          const { fields, headers } = attack(page);
          const response = await browser.post(formAction(page, '/signin'), { ...fields, login: 'lukas', password: 'battery staple' }, headers);
          await expectRejected(browser, page, response, grants);
          expect(server.bank.credentialAttempts).to.have.length(calls);
        } finally {
          grants.stop();
        }
      });

      it(`refuses the consent posted ${name}: no grant, no redirect`, async () => {
        const grants = watchGrants(server);
        try {
          const browser = new PsuBrowser();
          const { page } = await openSandboxConsent(server, browser, sandbox);
          const { fields, headers } = attack(page);
          const response = await browser.post(formAction(page, '/consent'), { ...fields, decision: 'grant', accounts: ['sb-anna-1'] }, headers);
          await expectRejected(browser, page, response, grants);
        } finally {
          grants.stop();
        }
      });

      it(`refuses the cancel posted ${name}: the authorization goes on`, async () => {
        const grants = watchGrants(server);
        try {
          const browser = new PsuBrowser();
          const { page } = await openSignIn(server, browser, bank);
          const { fields, headers } = attack(page);
          const response = await browser.post(formAction(page, '/cancel'), fields, headers);
          await expectRejected(browser, page, response, grants);
        } finally {
          grants.stop();
        }
      });
    }

    it('refuses the CSRF token of another authorization', async () => {
      const grants = watchGrants(server);
      try {
        const victim = new PsuBrowser();
        const { page } = await openSandboxConsent(server, victim, sandbox);
        const { page: other } = await openSandboxConsent(server, new PsuBrowser(), sandbox);
        expect(csrfOf(other)).not.to.equal(csrfOf(page));
        const response = await victim.post(formAction(page, '/consent'), { csrf: csrfOf(other), decision: 'grant', accounts: ['sb-anna-1'] });
        await expectRejected(victim, page, response, grants);
      } finally {
        grants.stop();
      }
    });

    it('after a rejected post, the same form with its token still works', async () => {
      const browser = new PsuBrowser();
      const { page, params } = await openSandboxConsent(server, browser, sandbox);
      const rejected = await browser.post(formAction(page, '/consent'), { csrf: 'wrong', decision: 'grant', accounts: ['sb-anna-1'] });
      expect(rejected.status).to.equal(403);
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      const back = redirectParams(done.location);
      expect(back.get('code')).to.be.a('string');
      expect(back.get('state')).to.equal(params.state);
    });
  });

  describe('escaping', () => {
    const EVIL = '<script>alert(1)</script>"><img src=x onerror=alert(1)>';

    /** The page holds the hostile name only in its escaped form. */
    async function expectOnlyEscaped(page: PageResponse): Promise<void> {
      expect(page.text, 'the name, escaped').to.contain(escaped(EVIL));
      const rest = page.text.split(escaped(EVIL)).join('');
      expect(rest, 'no other trace of the name').not.to.contain('alert(1)');
      expect(page.text).not.to.match(/<script/i);
      expect(page.text).not.to.match(/<img src=x/i);
      await expectSecurePage(page, { formTarget: TPP_ORIGIN });
    }

    it('shows a hostile client_name escaped on the sandbox sign-in and consent pages', async () => {
      const client = await registerClient(server, { body: { client_name: EVIL, logo_uri: 'https://cdn.tpp.example/logo.png' } });
      const browser = new PsuBrowser();
      const { page: signIn } = await openSignIn(server, browser, client);
      await expectOnlyEscaped(signIn);
      expect(signIn.text, 'the logo\'s alt text').to.contain(`alt="${message(en, 'tpp.logo', { tpp: EVIL })}"`);
      const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
      expect(stepOf(consent)).to.equal('consent');
      await expectOnlyEscaped(consent);
      expect(consent.text, 'in the title').to.contain(`<title>${message(en, 'consent.title', { tpp: EVIL })}`);
    });

    it('shows hostile request parameters escaped on the authorization error page', async () => {
      for (const overrides of [{ client_id: EVIL }, { redirect_uri: `https://tpp.example/${EVIL}` }]) {
        const page = await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, overrides), entryPath('sandbox')));
        expect(page.status, page.text).to.equal(400);
        expect(page.location).to.equal(undefined);
        expect(page.text).not.to.match(/<img src=x/i);
        await expectSecurePage(page);
      }
    });

    it('shows a hostile client_name escaped on the bank pages, and echoes a hostile login escaped', async () => {
      const client = await registerClient(server, { environment: 'bank', body: { client_name: EVIL } });
      const browser = new PsuBrowser();
      const { page: signIn } = await openSignIn(server, browser, client);
      await expectOnlyEscaped(signIn);
      expect(signIn.text).to.contain(message(en, 'signin.bank.intro', { tpp: EVIL }));
      const login = '"><script>alert(2)</script>';
      const failed = await submit(server, browser, signIn, '/signin', { login, password: 'whatever' });
      expect(failed.status).to.equal(401);
      expect(failed.text).to.contain(`value="${escaped(login)}"`);
      expect(failed.text).not.to.contain('alert(2)</script>');
      await expectOnlyEscaped(failed);
      const secondFactor = await submit(server, browser, signIn, '/signin', { login: 'marie', password: 'correct horse' });
      await expectOnlyEscaped(secondFactor);
      const consent = await submit(server, browser, secondFactor, '/second-factor', { code: '123456' });
      await expectOnlyEscaped(consent);
    });
  });
});
