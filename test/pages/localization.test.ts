import { expect } from 'chai';

import { authorizationUrl, entryPath, registerClient, requestParams, submit, type TestClient } from '../authorization/helpers.js';
import { expectError } from '../registration/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { pagesSuite } from '../support/pages.js';
import { startServer } from '../support/server.js';
import {
  catalogs,
  cspOf,
  escaped,
  expectSecurePage,
  htmlLang,
  message,
  openBankConsent,
  openSandboxConsent,
  openSignIn,
  stepOf,
  TPP_ORIGIN,
} from './helpers.js';

const CATALOGS = catalogs();
const LANGUAGES = ['de', 'en', 'fr'] as const;
type Language = (typeof LANGUAGES)[number];

/** The page is in `language`: `<html lang>` and the catalog's text for `key`. */
function expectLanguage(page: PageResponse, language: Language, key: string, params: Record<string, string | number> = {}): void {
  expect(htmlLang(page), `<html lang> of ${page.url}`).to.equal(language);
  expect(page.text, `${key} in ${language}`).to.contain(message(CATALOGS[language], key, params));
  for (const other of LANGUAGES.filter((candidate) => candidate !== language)) {
    if (CATALOGS[other][key] !== CATALOGS[language][key]) expect(page.text, `not the ${other} ${key}`).not.to.contain(message(CATALOGS[other], key, params));
  }
}

describe('PSU pages: languages and localized client metadata', function localization() {
  const { server, sandbox, bank } = pagesSuite();

  describe('message catalogs', () => {
    const placeholders = (value: string) => [...value.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();

    it('de, en and fr have exactly the same keys', () => {
      const keys = Object.keys(CATALOGS.en).sort();
      expect(keys).to.have.length.greaterThan(10);
      expect(Object.keys(CATALOGS.de).sort(), 'de').to.deep.equal(keys);
      expect(Object.keys(CATALOGS.fr).sort(), 'fr').to.deep.equal(keys);
    });

    it('have no empty message', () => {
      for (const language of LANGUAGES) {
        for (const [key, value] of Object.entries(CATALOGS[language])) {
          expect(value, `${language} ${key}`).to.be.a('string');
          expect(value.trim(), `${language} ${key}`).not.to.equal('');
        }
      }
    });

    it('use the same {placeholders} in every language', () => {
      for (const [key, value] of Object.entries(CATALOGS.en)) {
        for (const language of ['de', 'fr'] as const) {
          expect(placeholders(CATALOGS[language][key] ?? ''), `${language} ${key}`).to.deep.equal(placeholders(value));
        }
      }
    });
  });

  describe('every page in de, en and fr through the {lang} segment', () => {
    for (const language of LANGUAGES) {
      it(`shows the sandbox sign-in and consent pages in ${language}`, async () => {
        const browser = new PsuBrowser();
        const { page: signIn } = await openSignIn(server, browser, sandbox, { language });
        expectLanguage(signIn, language, 'signin.sandbox.title');
        expectLanguage(signIn, language, 'page.sandboxBanner');
        const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
        expect(stepOf(consent)).to.equal('consent');
        expectLanguage(consent, language, 'consent.title', { tpp: 'Acme Money' });
        expectLanguage(consent, language, 'consent.scope.aisp');
        expectLanguage(consent, language, 'consent.grant');
      });

      it(`shows the bank sign-in, error, second-factor and consent pages in ${language}`, async () => {
        const browser = new PsuBrowser();
        const { page: signIn } = await openSignIn(server, browser, bank, { language });
        expectLanguage(signIn, language, 'signin.bank.title');
        const failed = await submit(server, browser, signIn, '/signin', { login: 'marie', password: 'nope' });
        expect(failed.status).to.equal(401);
        expectLanguage(failed, language, 'signin.bank.failed');
        const secondFactor = await submit(server, browser, signIn, '/signin', { login: 'marie', password: 'correct horse' });
        expect(stepOf(secondFactor)).to.equal('second-factor');
        expectLanguage(secondFactor, language, 'signin.code.title');
        const consent = await submit(server, browser, secondFactor, '/second-factor', { code: '123456' });
        expectLanguage(consent, language, 'consent.title', { tpp: 'Acme Money' });
      });

      it(`shows the form-rejected page in ${language}`, async () => {
        const browser = new PsuBrowser();
        const { page } = await openSignIn(server, browser, sandbox, { language });
        const rejected = await browser.post(formAction(page, '/signin'), { csrf: 'wrong', psu: 'sandbox-anna' });
        expect(rejected.status).to.equal(403);
        expectLanguage(rejected, language, 'error.form.title');
      });

      it(`shows the invalid-request page of an entry URL in ${language}`, async () => {
        const invalid = await new PsuBrowser().get(authorizationUrl(server, { ...requestParams(sandbox), client_id: 'unknown-client' }, entryPath('sandbox', language)));
        expect(invalid.status).to.equal(400);
        expectLanguage(invalid, language, 'error.invalid');
      });
    }

    it('shows the expired-session page in the language of Accept-Language', async () => {
      const { page } = await openSignIn(server, new PsuBrowser(), sandbox);
      for (const language of LANGUAGES) {
        const expired = await new PsuBrowser(`${language};q=1, en;q=0.1`).get(page.url);
        expect(expired.status).to.equal(400);
        expectLanguage(expired, language, 'error.expired.title');
        await expectSecurePage(expired);
      }
    });

    it('shows the locked page in every language', async () => {
      const limited = await startServer();
      try {
        const client = await registerClient(limited, { environment: 'bank' });
        const browser = new PsuBrowser();
        const { page: signIn } = await openSignIn(limited, browser, client);
        for (let attempt = 0; attempt < 5; attempt += 1) await submit(limited, browser, signIn, '/signin', { login: 'marie', password: `wrong-${attempt}` });
        for (const language of LANGUAGES) {
          const other = new PsuBrowser();
          const { page } = await openSignIn(limited, other, client, { language });
          const locked = await submit(limited, other, page, '/signin', { login: 'marie', password: 'correct horse' });
          expect(locked.status).to.equal(429);
          expectLanguage(locked, language, 'signin.locked.title');
          await expectSecurePage(locked, { formTarget: TPP_ORIGIN });
        }
      } finally {
        await limited.close();
      }
    });

    it('an unsupported {lang} segment falls back to the default language (en)', async () => {
      const { page } = await openSignIn(server, new PsuBrowser(), sandbox, { language: 'es' });
      expectLanguage(page, 'en', 'signin.sandbox.title');
    });
  });

  describe('language links', () => {
    it('offer every language, marking the current one', async () => {
      const { page } = await openSignIn(server, new PsuBrowser(), sandbox, { language: 'de' });
      const path = new URL(page.url).pathname;
      for (const language of LANGUAGES) {
        expect(page.text).to.match(new RegExp(`<a href="${path}\\?lang=${language}" hreflang="${language}" lang="${language}"${language === 'de' ? ' aria-current="page"' : ''}>`));
      }
      expect(page.text.match(/aria-current="page"/g)).to.have.length(1);
    });

    it('switch the page, and the language stays for the next steps', async () => {
      const browser = new PsuBrowser();
      const { page: signIn } = await openSignIn(server, browser, bank, { language: 'en' });
      expectLanguage(signIn, 'en', 'signin.bank.title');
      const link = /<a href="([^"]+)" hreflang="fr"/.exec(signIn.text)?.[1];
      expect(link, 'the French link').to.be.a('string');
      const french = await browser.get(new URL(link!.replace(/&amp;/g, '&'), signIn.url).href);
      expect(french.status, french.text).to.equal(200);
      expectLanguage(french, 'fr', 'signin.bank.title');
      expect(csrfOf(french), 'the same form').to.equal(csrfOf(signIn));
      const reloaded = await browser.get(signIn.url);
      expectLanguage(reloaded, 'fr', 'signin.bank.title');
      const secondFactor = await submit(server, browser, french, '/signin', { login: 'marie', password: 'correct horse' });
      expectLanguage(secondFactor, 'fr', 'signin.code.title');
      const consent = await submit(server, browser, secondFactor, '/second-factor', { code: '123456' });
      expectLanguage(consent, 'fr', 'consent.title', { tpp: 'Acme Money' });
      const german = await browser.get(`${consent.url}?lang=de`);
      expectLanguage(german, 'de', 'consent.title', { tpp: 'Acme Money' });
      expect(stepOf(german)).to.equal('consent');
    });

    /** The page's language links, by language, as absolute URLs. */
    const linksOf = (page: PageResponse): Map<string, string> => new Map([...page.text.matchAll(/<a href="([^"]+)" hreflang="(\w+)"/g)]
      .map((match) => [match[2]!, new URL(match[1]!.replace(/&amp;/g, '&'), page.url).href]));

    /** Every language is offered, each link on the server, and the French one shows `key` in French. */
    async function expectSwitchable(browser: PsuBrowser, page: PageResponse, key: string, under: string): Promise<PageResponse> {
      const links = linksOf(page);
      expect([...links.keys()].sort(), `the language links of ${page.status} ${page.url}`).to.deep.equal([...LANGUAGES]);
      for (const href of links.values()) expect(href.startsWith(`${server.url}${under}`), href).to.equal(true);
      const french = await browser.get(links.get('fr')!);
      expectLanguage(french, 'fr', key);
      return french;
    }

    it('are on the expired-session page, and show it in the language chosen', async () => {
      const { page } = await openSignIn(server, new PsuBrowser(), sandbox, { language: 'de' });
      const stranger = new PsuBrowser('de');
      const expired = await stranger.get(page.url);
      expect(expired.status).to.equal(400);
      expectLanguage(expired, 'de', 'error.expired.title');
      const french = await expectSwitchable(stranger, expired, 'error.expired.title', new URL(page.url).pathname);
      expect(french.status).to.equal(400);
      await expectSecurePage(french);
    });

    it('are on the page of a refused form, and lead back to the step in the language chosen', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, sandbox, { language: 'en' });
      const refused = await browser.post(formAction(page, '/signin'), { csrf: 'A'.repeat(43), psu: 'sandbox-anna' });
      expect(refused.status).to.equal(403);
      const french = await expectSwitchable(browser, refused, 'signin.sandbox.title', new URL(page.url).pathname);
      expect(csrfOf(french), 'the same form').to.equal(csrfOf(page));
    });

    it('are not on the page of an authorization request that cannot be trusted: it is in the entry URL\'s language', async () => {
      const browser = new PsuBrowser();
      const invalid = await browser.get(authorizationUrl(server, { ...requestParams(sandbox), client_id: 'unknown-client' }, entryPath('sandbox', 'de')));
      expect(invalid.status).to.equal(400);
      expectLanguage(invalid, 'de', 'error.invalid');
      expect(linksOf(invalid).size, 'no link carries the untrusted request back').to.equal(0);
    });

    it('ignore a language that is not offered', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, sandbox, { language: 'fr' });
      const other = await browser.get(`${page.url}?lang=es`);
      expect(other.status).to.equal(200);
      expectLanguage(other, 'fr', 'signin.sandbox.title');
    });
  });

  describe('localized client metadata', () => {
    const NAMES = { untagged: 'Acme Money', fr: 'Acme Argent', deAT: 'Acme Geld Österreich' };
    const LOGOS = { untagged: 'https://cdn.tpp.example/logo.png', fr: 'https://cdn-fr.tpp.example/logo-fr.png' };
    let client: TestClient;
    let registered: Record<string, unknown>;

    before(async () => {
      const tpp = await sandboxTpp();
      const res = await server.request(tpp).post('/oauth2/register').send({
        redirect_uris: ['https://tpp.example/callback'],
        client_name: NAMES.untagged,
        'client_name#fr': NAMES.fr,
        'client_name#de-AT': NAMES.deAT,
        logo_uri: LOGOS.untagged,
        'logo_uri#fr': LOGOS.fr,
      });
      expect(res.status, res.text).to.equal(201);
      registered = res.body as Record<string, unknown>;
      client = { clientId: String(registered.client_id), tpp, environment: 'sandbox' };
    });

    it('are echoed by the registration response', () => {
      expect(registered.client_name).to.equal(NAMES.untagged);
      expect(registered['client_name#fr']).to.equal(NAMES.fr);
      expect(registered['client_name#de-AT']).to.equal(NAMES.deAT);
      expect(registered.logo_uri).to.equal(LOGOS.untagged);
      expect(registered['logo_uri#fr']).to.equal(LOGOS.fr);
    });

    const cases: [Language, string, string][] = [
      ['fr', NAMES.fr, LOGOS.fr],
      ['de', NAMES.deAT, LOGOS.untagged],
      ['en', NAMES.untagged, LOGOS.untagged],
    ];
    for (const [language, name, logo] of cases) {
      it(`show the ${language} name and logo on the ${language} pages`, async () => {
        const { page } = await openSandboxConsent(server, new PsuBrowser(), client, { language });
        expect(htmlLang(page)).to.equal(language);
        expect(page.text).to.contain(`<div class="name">${escaped(name)}</div>`);
        expect(page.text).to.contain(message(CATALOGS[language], 'consent.title', { tpp: name }));
        for (const otherName of Object.values(NAMES).filter((candidate) => candidate !== name)) expect(page.text).not.to.contain(escaped(otherName));
        const images = [...page.text.matchAll(/<img src="([^"]+)"/g)].map((match) => match[1]);
        expect(images).to.deep.equal([logo]);
        expect(cspOf(page).get('img-src')).to.include(new URL(logo).origin);
        await expectSecurePage(page, { formTarget: TPP_ORIGIN });
      });
    }

    const refusals: [string, Record<string, unknown>][] = [
      ['logo_uri#fr over http', { 'logo_uri#fr': 'http://cdn.tpp.example/logo-fr.png' }],
      ['logo_uri#fr that is not a URL', { 'logo_uri#fr': 'not a url' }],
      ['an over-long client_name#de', { 'client_name#de': 'A'.repeat(201) }],
      ['a multi-line client_name#de', { 'client_name#de': 'Acme\nBank' }],
    ];
    for (const [name, body] of refusals) {
      it(`refuse ${name} (400 invalid_client_metadata)`, async () => {
        const res = await server.request(await sandboxTpp()).post('/oauth2/register').send({
          redirect_uris: ['https://tpp.example/callback'],
          client_name: 'Acme Money',
          ...body,
        });
        expectError(res, 400, 'invalid_client_metadata', new RegExp(Object.keys(body)[0]!));
      });
    }

    it('accept a client_name#de of exactly 200 characters', async () => {
      const res = await server.request(await sandboxTpp()).post('/oauth2/register').send({
        redirect_uris: ['https://tpp.example/callback'],
        client_name: 'Acme Money',
        'client_name#de': 'A'.repeat(200),
      });
      expect(res.status, res.text).to.equal(201);
    });
  });

  it('the bank consent page of a customer without second factor is in the PSU\'s language', async () => {
    const { page } = await openBankConsent(server, new PsuBrowser(), bank, { language: 'de', login: 'lukas', password: 'battery staple' });
    expectLanguage(page, 'de', 'consent.accounts.legend');
  });
});
