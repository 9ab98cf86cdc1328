/**
 * Authorization requests with an invalid client or redirect URI: a localized error page, nobody
 * redirected; and prompt=none, which always needs a fresh sign-in.
 */
import { expect } from 'chai';

import { PsuBrowser } from '../support/psu-browser.js';
import { suiteServer } from '../support/suite.js';
import { BANK_TITLE, expectErrorPage, expectPage, expectTppError } from './answers.js';
import {
  authorizationUrl,
  bankAuthorization,
  entryPath,
  openPages,
  redirectParams,
  REDIRECT_URI,
  requestParams,
  sandboxAuthorization,
  suiteClient,
} from './helpers.js';

describe('authorization requests with an invalid client or redirect URI: a localized error page, nobody redirected', () => {
  const server = suiteServer();
  const sandbox = suiteClient(server);
  const bank = suiteClient(server, { environment: 'bank' });

  it('an unknown client_id at /oauth2/authorize: the error page in the default language', async () => {
    const res = await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, { client_id: 'no-such-client' })));
    expectErrorPage(res, 'en');
  });

  for (const language of ['de', 'en', 'fr'] as const) {
    it(`an unknown client_id at /oauth2/${language}/sandbox/signin.html: the error page in ${language}`, async () => {
      const res = await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, { client_id: 'no-such-client' }), entryPath('sandbox', language)));
      expectErrorPage(res, language);
    });

    it(`an unknown client_id at /oauth2/${language}/banque/oauth2_authorization.aspx: the error page in ${language}`, async () => {
      const res = await new PsuBrowser().get(authorizationUrl(server, requestParams(bank, { client_id: 'no-such-client' }), entryPath('bank', language)));
      expectErrorPage(res, language);
    });
  }

  it('a missing client_id: the error page, in the language of ui_locales', async () => {
    const res = await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, { client_id: undefined, ui_locales: 'fr' })));
    expectErrorPage(res, 'fr');
  });

  it('the error page at /oauth2/authorize follows Accept-Language when there is no ui_locales', async () => {
    expectErrorPage(await new PsuBrowser('de-DE,de;q=0.9,en;q=0.5').get(authorizationUrl(server, requestParams(sandbox, { client_id: 'no-such-client' }))), 'de');
    expectErrorPage(await new PsuBrowser('it, fr;q=0.5').get(authorizationUrl(server, requestParams(sandbox, { client_id: 'no-such-client' }))), 'fr');
  });

  it('ui_locales wins over Accept-Language on the error page; the entry URL wins over both', async () => {
    const browser = new PsuBrowser('de');
    expectErrorPage(await browser.get(authorizationUrl(server, requestParams(sandbox, { client_id: 'x', ui_locales: 'fr' }))), 'fr');
    expectErrorPage(await browser.get(authorizationUrl(server, requestParams(sandbox, { client_id: 'x', ui_locales: 'fr' }), entryPath('bank', 'en'))), 'en');
  });

  it('a language the bank does not offer on the error page falls back to the default (en)', async () => {
    expectErrorPage(await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, { client_id: 'x' }), entryPath('sandbox', 'it'))), 'en');
    expectErrorPage(await new PsuBrowser('it').get(authorizationUrl(server, requestParams(sandbox, { client_id: 'x', ui_locales: 'es' }))), 'en');
  });

  const variations: [string, string][] = [
    ['another host', 'https://evil.example/callback'],
    ['a trailing slash', `${REDIRECT_URI}/`],
    ['an extra query', `${REDIRECT_URI}?next=https://evil.example`],
    ['a fragment', `${REDIRECT_URI}#x`],
    ['a different case in the path', 'https://tpp.example/Callback'],
    ['a different case in the host', 'https://TPP.EXAMPLE/callback'],
    ['userinfo', 'https://tpp.example@evil.example/callback'],
    ['an explicit port', 'https://tpp.example:443/callback'],
    ['http instead of https', 'http://tpp.example/callback'],
    ['a path prefix of it', 'https://tpp.example/call'],
    ['a longer path', `${REDIRECT_URI}/../evil`],
  ];
  for (const [what, redirectUri] of variations) {
    it(`a redirect_uri that is not the registered one (${what}): the error page`, async () => {
      const res = await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, { redirect_uri: redirectUri })));
      expectErrorPage(res, 'en');
    });
  }

  it('a redirect_uri that is not registered wins over every other error: the page, not a redirect', async () => {
    const params = requestParams(bank, { redirect_uri: 'https://evil.example/callback', scope: 'pisp', code_challenge: undefined, code_challenge_method: undefined, response_type: 'token' });
    expectErrorPage(await new PsuBrowser().get(authorizationUrl(server, params, entryPath('sandbox', 'de'))), 'de');
  });

  it('an unknown client_id with an otherwise perfect request at the bank page: the page, not a redirect', async () => {
    const res = await new PsuBrowser().get(authorizationUrl(server, requestParams(bank, { client_id: `${bank.clientId}x` }), entryPath('bank', 'fr')));
    expectErrorPage(res, 'fr');
  });

  it('a hostile client_id is not echoed as markup on the page', async () => {
    const res = await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, { client_id: '<script>alert(1)</script>' })));
    expectErrorPage(res, 'en');
    expect(res.text).not.to.contain('<script>alert(1)');
  });
});

describe('prompt=none: every authorization needs a fresh sign-in', () => {
  const server = suiteServer();
  const sandbox = suiteClient(server);
  const bank = suiteClient(server, { environment: 'bank' });

  it('prompt=none at /oauth2/authorize goes back to the TPP with login_required and state', async () => {
    const params = requestParams(sandbox, { prompt: 'none' });
    expectTppError(await new PsuBrowser().get(authorizationUrl(server, params)), 'login_required', params.state);
  });

  it('prompt=none at the entry page aliases goes back to the TPP with login_required and state', async () => {
    const sandboxParams = requestParams(sandbox, { prompt: 'none' });
    expectTppError(await new PsuBrowser().get(authorizationUrl(server, sandboxParams, entryPath('sandbox', 'de'))), 'login_required', sandboxParams.state);
    const bankParams = requestParams(bank, { prompt: 'none' });
    expectTppError(await new PsuBrowser().get(authorizationUrl(server, bankParams, entryPath('bank', 'fr'))), 'login_required', bankParams.state);
  });

  it('prompt=none right after a completed authorization in the same browser (session cookie kept) still gets login_required', async () => {
    const browser = new PsuBrowser();
    const first = await sandboxAuthorization(server, sandbox, { browser });
    expect(redirectParams(first.location).get('code')).to.be.a('string');
    const params = requestParams(sandbox, { prompt: 'none' });
    expectTppError(await browser.get(authorizationUrl(server, params)), 'login_required', params.state);
  });

  it('a second authorization in the same browser shows the sign-in page again', async () => {
    const browser = new PsuBrowser();
    const { location } = await bankAuthorization(server, bank, { browser });
    expect(redirectParams(location).get('code')).to.be.a('string');
    const again = await openPages(server, browser, authorizationUrl(server, requestParams(bank), entryPath('bank', 'en')));
    expectPage(again, 'en', BANK_TITLE.en);
  });
});
