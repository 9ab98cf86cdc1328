/**
 * Deployed TPP clients build the entry URL from their user's language and send languages the bank
 * has no pages in (`es`, `nl`, `cat`): the entry pages of both environments answer in the default
 * language, and the authorization goes on to a code as in any other language.
 */
import { expect } from 'chai';

import { authorizationUrl, exchangeCode, openPages, redirectParams, registerClient, requestParams, submit, pkce, type TestClient } from '../authorization/helpers.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { startServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';
import { htmlLang } from '../pages/helpers.js';

const UNOFFERED = ['es', 'nl', 'cat'] as const;

describe('compatibility: entry paths in languages without pages', function () {
  this.timeout(60_000);
  const server = suiteServer();
  let sandbox: TestClient;
  let bank: TestClient;

  before(async () => {
    sandbox = await registerClient(server);
    bank = await registerClient(server, { environment: 'bank' });
  });

  for (const language of UNOFFERED) {
    it(`/oauth2/${language}/sandbox/signin.html: pages in English, then a code the TPP redeems`, async () => {
      const browser = new PsuBrowser();
      const pair = pkce();
      const params = requestParams(sandbox, {}, pair);
      const signIn = await openPages(server, browser, authorizationUrl(server, params, `/${language}/sandbox/signin.html`));
      expect(htmlLang(signIn)).to.equal('en');
      const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
      expect(consent.status, consent.text).to.equal(200);
      expect(htmlLang(consent)).to.equal('en');
      const done = await submit(server, browser, consent, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      const answer = redirectParams(done.location);
      expect(answer.get('state')).to.equal(params.state);
      const tokens = await exchangeCode(server, sandbox, answer.get('code')!, pair);
      expect(tokens.status, tokens.text).to.equal(200);
    });

    it(`/oauth2/${language}/banque/oauth2_authorization.aspx: the bank sign-in page in English`, async () => {
      const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(bank), `/${language}/banque/oauth2_authorization.aspx`));
      expect(htmlLang(page)).to.equal('en');
    });
  }

  it('falls back to the bank\'s default language when it is not English', async () => {
    const french = await startServer({ options: { pages: { defaultLanguage: 'fr' } } });
    try {
      const client = await registerClient(french);
      for (const language of UNOFFERED) {
        const page = await openPages(french, new PsuBrowser(), authorizationUrl(french, requestParams(client), `/${language}/sandbox/signin.html`));
        expect(htmlLang(page), language).to.equal('fr');
      }
    } finally {
      await french.close();
    }
  });
});
