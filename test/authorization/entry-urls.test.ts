/**
 * The authorization request over real TLS: the standard endpoint and the bank's entry page
 * aliases, and the language of the pages they open.
 */
import { expect } from 'chai';

import { PsuBrowser } from '../support/psu-browser.js';
import { suiteServer } from '../support/suite.js';
import { BANK_TITLE, expectErrorPage, expectPage, SANDBOX_TITLE } from './answers.js';
import {
  authorizationUrl,
  bankAuthorization,
  entryPath,
  exchangeCode,
  openPages,
  redirectParams,
  requestParams,
  sandboxAuthorization,
  suiteClient,
} from './helpers.js';

describe('authorization entry URLs: /authorize and the bank\'s sign-in page aliases', () => {
  const server = suiteServer();
  const sandbox = suiteClient(server);
  const bank = suiteClient(server, { environment: 'bank' });

  it('/oauth2/authorize starts an authorization for a sandbox client: the sandbox sign-in page', async () => {
    const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(sandbox)));
    expectPage(page, 'en', SANDBOX_TITLE.en);
  });

  it('/oauth2/authorize starts an authorization for a bank client: the bank sign-in page', async () => {
    const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(bank)));
    expectPage(page, 'en', BANK_TITLE.en);
  });

  for (const language of ['de', 'en', 'fr'] as const) {
    it(`/oauth2/${language}/sandbox/signin.html is the authorization endpoint for sandbox clients, in ${language}`, async () => {
      const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(sandbox), entryPath('sandbox', language)));
      expectPage(page, language, SANDBOX_TITLE[language]);
    });

    it(`/oauth2/${language}/banque/oauth2_authorization.aspx is the authorization endpoint for bank clients, in ${language}`, async () => {
      const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(bank), entryPath('bank', language)));
      expectPage(page, language, BANK_TITLE[language]);
    });
  }

  it('/oauth2/authorize takes the language from ui_locales', async () => {
    const french = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(bank, { ui_locales: 'fr' })));
    expectPage(french, 'fr', BANK_TITLE.fr);
    const german = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(sandbox, { ui_locales: 'it de-AT fr' })));
    expectPage(german, 'de', SANDBOX_TITLE.de);
  });

  it('the {lang} of the entry URL wins over ui_locales and Accept-Language', async () => {
    const page = await openPages(server, new PsuBrowser('fr-FR,fr;q=0.9'), authorizationUrl(server, requestParams(sandbox, { ui_locales: 'fr' }), entryPath('sandbox', 'de')));
    expectPage(page, 'de', SANDBOX_TITLE.de);
  });

  it('a whole sandbox authorization through the sandbox alias ends at the TPP with a code that works at the token endpoint', async () => {
    const { location, params, pair } = await sandboxAuthorization(server, sandbox, { path: entryPath('sandbox', 'fr') });
    const back = redirectParams(location);
    expect(back.get('error'), location).to.equal(null);
    expect(back.get('state')).to.equal(params.state);
    const token = await exchangeCode(server, sandbox, back.get('code')!, pair);
    expect(token.status, token.text).to.equal(200);
    expect(token.body.scope).to.equal('aisp');
  });

  it('a whole bank authorization through the bank alias ends at the TPP with a code that works at the token endpoint', async () => {
    const { location, params, pair } = await bankAuthorization(server, bank);
    const back = redirectParams(location);
    expect(back.get('error'), location).to.equal(null);
    expect(back.get('state')).to.equal(params.state);
    const token = await exchangeCode(server, bank, back.get('code')!, pair);
    expect(token.status, token.text).to.equal(200);
  });
});

describe('authorization pages: a language the bank does not offer falls back to the default language', () => {
  const server = suiteServer();
  const limited = suiteServer({ options: { pages: { languages: ['de', 'en'], defaultLanguage: 'de' } } });
  const sandbox = suiteClient(server);
  const limitedSandbox = suiteClient(limited);
  const limitedBank = suiteClient(limited, { environment: 'bank' });

  it('/oauth2/it/sandbox/signin.html shows the sign-in page in the default language (en), not an error', async () => {
    const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(sandbox), entryPath('sandbox', 'it')));
    expectPage(page, 'en', SANDBOX_TITLE.en);
  });

  it('/oauth2/authorize?ui_locales=it shows the sign-in page in the default language (en)', async () => {
    const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(sandbox, { ui_locales: 'it' })));
    expectPage(page, 'en', SANDBOX_TITLE.en);
  });

  it('with pages.languages [de, en] and default de, /oauth2/fr/… shows the page in German', async () => {
    const sandboxPage = await openPages(limited, new PsuBrowser(), authorizationUrl(limited, requestParams(limitedSandbox), entryPath('sandbox', 'fr')));
    expectPage(sandboxPage, 'de', SANDBOX_TITLE.de);
    const bankPage = await openPages(limited, new PsuBrowser(), authorizationUrl(limited, requestParams(limitedBank), entryPath('bank', 'fr')));
    expectPage(bankPage, 'de', BANK_TITLE.de);
  });

  it('with pages.languages [de, en] and default de, /oauth2/it/… and ui_locales=fr show the page in German', async () => {
    const viaAlias = await openPages(limited, new PsuBrowser(), authorizationUrl(limited, requestParams(limitedSandbox), entryPath('sandbox', 'it')));
    expectPage(viaAlias, 'de', SANDBOX_TITLE.de);
    const viaUiLocales = await openPages(limited, new PsuBrowser(), authorizationUrl(limited, requestParams(limitedBank, { ui_locales: 'fr' })));
    expectPage(viaUiLocales, 'de', BANK_TITLE.de);
  });

  it('with pages.languages [de, en], an offered language is still honoured (/oauth2/en/…)', async () => {
    const page = await openPages(limited, new PsuBrowser(), authorizationUrl(limited, requestParams(limitedSandbox), entryPath('sandbox', 'en')));
    expectPage(page, 'en', SANDBOX_TITLE.en);
  });

  it('with pages.languages [de, en] and default de, the error page for /oauth2/fr/… is in German', async () => {
    const res = await new PsuBrowser().get(authorizationUrl(limited, requestParams(limitedSandbox, { client_id: 'no-such-client' }), entryPath('sandbox', 'fr')));
    expectErrorPage(res, 'de');
  });
});
