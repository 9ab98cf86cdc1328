/**
 * The authorization request over real TLS: the standard endpoint and the bank's entry page
 * aliases, the language of the pages, the PSD2 request rules, where errors go (back to the TPP, or
 * a localized page when the client or redirect URI is not valid), prompt=none, custom entry paths,
 * and hostile input.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { Response } from 'supertest';

import { ConfigurationError, createAuthorizationServer, type AuthorizationServerOptions } from '../../lib/index.js';
import { AUTHORIZATION_PARAMETER_LIMITS } from '../../lib/parameter-limits.js';
import { testPki } from '../support/pki.js';
import { PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { SANDBOX_PSUS, TestBank } from '../support/psus.js';
import { startServer, testSigningKey, type TestServer } from '../support/server.js';
import {
  authorizationUrl,
  entryPath,
  exchangeCode,
  openPages,
  redirectParams,
  registerClient,
  REDIRECT_URI,
  requestParams,
  sandboxAuthorization,
  bankAuthorization,
  type TestClient,
} from './helpers.js';
import { LEAK } from '../support/leak.js';

type Language = 'de' | 'en' | 'fr';

const SANDBOX_TITLE: Record<Language, string> = { en: 'Choose a test customer', de: 'Testkunden auswählen', fr: 'Choisir un client de test' };
const BANK_TITLE: Record<Language, string> = { en: 'Sign in to your bank', de: 'Bei Ihrer Bank anmelden', fr: 'Connexion à votre banque' };
const ERROR_TITLE: Record<Language, string> = {
  en: 'This request cannot be completed',
  de: 'Diese Anfrage kann nicht ausgeführt werden',
  fr: 'Cette demande ne peut pas aboutir',
};

/** The `<h1>` of a page. */
function headingOf(page: PageResponse): string | undefined {
  return /<h1[^>]*>([^<]*)<\/h1>/.exec(page.text)?.[1];
}

/** Expects a PSU page in `language` whose heading is `title`. */
function expectPage(page: PageResponse, language: Language, title: string): void {
  expect(page.status, page.text.slice(0, 300)).to.equal(200);
  expect(page.text, `html lang of ${page.url}`).to.match(new RegExp(`<html lang="${language}">`));
  expect(headingOf(page)).to.equal(title);
}

/** Expects the localized error page: 400, HTML, nobody redirected. */
function expectErrorPage(res: PageResponse, language: Language): void {
  expect(res.status, `${res.url} → ${res.status} ${res.location ?? ''}`).to.equal(400);
  expect(res.headers.location, 'nobody is redirected').to.equal(undefined);
  expect(res.headers['content-type']).to.match(/^text\/html/);
  expect(res.text).to.match(new RegExp(`<html lang="${language}">`));
  expect(headingOf(res)).to.equal(ERROR_TITLE[language]);
  expect(res.text, 'no link or form back to a TPP').not.to.match(/tpp\.example|evil\.example/);
}

/**
 * Expects a redirect back to the TPP's registered redirect URI carrying `error`, an
 * `error_description` and `state` (RFC 6749 §4.1.2.1). The parameters are in the query, or in the
 * fragment when the request asked for a response type that uses one (RFC 6749 §4.2.2.1).
 */
function expectTppError(res: PageResponse, error: string, state: string | undefined, options: { description?: RegExp; fragmentAllowed?: boolean } = {}): URLSearchParams {
  expect([302, 303], `${res.url} → ${res.status} ${res.text.slice(0, 300)}`).to.include(res.status);
  const location = res.location;
  expect(location, 'a Location header').to.be.a('string');
  const url = new URL(location!);
  expect(`${url.origin}${url.pathname}`, 'the registered redirect URI').to.equal(REDIRECT_URI);
  let params = url.searchParams;
  if (options.fragmentAllowed && url.hash) {
    expect(url.search, 'parameters in the fragment only').to.equal('');
    params = new URLSearchParams(url.hash.slice(1));
  } else {
    expect(url.hash, 'no fragment').to.equal('');
  }
  expect(params.get('error'), location).to.equal(error);
  expect(params.get('error_description'), location).to.be.a('string').and.not.equal('');
  if (options.description) expect(params.get('error_description')).to.match(options.description);
  expect(params.get('state'), 'state passed through').to.equal(state ?? null);
  expect(params.has('code'), 'no code with an error').to.equal(false);
  return params;
}

/** Expects the start of an authorization: a redirect to the PSU pages of the server. */
function expectInteraction(server: TestServer, res: PageResponse): void {
  expect(res.status, `${res.url} → ${res.status} ${res.location ?? ''} ${res.text.slice(0, 300)}`).to.equal(303);
  expect(res.location).to.match(new RegExp(`^${server.issuer}/interaction/`));
}

describe('authorization entry URLs: /authorize and the bank\'s sign-in page aliases', () => {
  let server: TestServer;
  let sandbox: TestClient;
  let bank: TestClient;

  before(async () => {
    server = await startServer();
    [sandbox, bank] = await Promise.all([registerClient(server), registerClient(server, { environment: 'bank' })]);
  });
  after(() => server.close());

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
  let server: TestServer;
  let limited: TestServer;
  let sandbox: TestClient;
  let limitedSandbox: TestClient;
  let limitedBank: TestClient;

  before(async () => {
    [server, limited] = await Promise.all([
      startServer(),
      startServer({ options: { pages: { languages: ['de', 'en'], defaultLanguage: 'de' } } }),
    ]);
    [sandbox, limitedSandbox, limitedBank] = await Promise.all([
      registerClient(server),
      registerClient(limited),
      registerClient(limited, { environment: 'bank' }),
    ]);
  });
  after(async () => {
    await server.close();
    await limited.close();
  });

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

describe('authorization request rules: with a valid client and redirect URI, every error goes back to the TPP with state', () => {
  let server: TestServer;
  /** Sandbox client holding PSP_AI only. */
  let aisp: TestClient;
  /** Sandbox client holding PSP_AI and PSP_IC. */
  let both: TestClient;
  /** Bank client holding PSP_AI and PSP_PI. */
  let payments: TestClient;
  /** Bank client holding PSP_AI. */
  let bank: TestClient;

  before(async () => {
    server = await startServer();
    [aisp, both, payments, bank] = await Promise.all([
      registerClient(server, { roles: ['PSP_AI'] }),
      registerClient(server, { roles: ['PSP_AI', 'PSP_IC'] }),
      registerClient(server, { environment: 'bank', roles: ['PSP_AI', 'PSP_PI'] }),
      registerClient(server, { environment: 'bank', roles: ['PSP_AI'] }),
    ]);
  });
  after(() => server.close());

  /** Sends an authorization request of `client` with `overrides`, without following anything. */
  async function send(client: TestClient, overrides: Record<string, string | undefined>, path = '/authorize'): Promise<{ res: PageResponse; state: string | undefined }> {
    const params = requestParams(client, overrides);
    return { res: await new PsuBrowser().get(authorizationUrl(server, params, path)), state: params.state };
  }

  it('a valid request (response_type=code, S256 PKCE, scope aisp) starts the PSU pages', async () => {
    expectInteraction(server, (await send(aisp, {})).res);
  });

  it('passes state through unchanged to the code redirect, special characters included', async () => {
    const state = 'St4te ü/é+&=?#%20 "x"';
    const { location } = await sandboxAuthorization(server, aisp, { params: { state } });
    const back = redirectParams(location);
    expect(back.get('code')).to.be.a('string').and.not.equal('');
    expect(back.get('state')).to.equal(state);
  });

  it('passes state through unchanged to an error redirect, special characters included', async () => {
    const state = 'St4te ü/é+&=?#%20 "x"';
    const { res } = await send(aisp, { state, scope: 'pisp' });
    expectTppError(res, 'invalid_scope', state);
  });

  it('an error redirect without state carries no state', async () => {
    const { res } = await send(aisp, { state: undefined, scope: 'pisp' });
    expectTppError(res, 'invalid_scope', undefined);
  });

  it('refuses a missing response_type (invalid_request)', async () => {
    const { res, state } = await send(aisp, { response_type: undefined });
    expectTppError(res, 'invalid_request', state, { description: /response_type/ });
  });

  for (const responseType of ['token', 'id_token', 'code id_token', 'code token', 'none']) {
    it(`refuses response_type=${responseType}: only code (unsupported_response_type)`, async () => {
      const { res, state } = await send(aisp, { response_type: responseType });
      expectTppError(res, 'unsupported_response_type', state, { fragmentAllowed: true });
    });
  }

  it('refuses PKCE with code_challenge_method=plain (invalid_request)', async () => {
    const { res, state } = await send(aisp, { code_challenge_method: 'plain' });
    expectTppError(res, 'invalid_request', state, { description: /code_challenge_method/ });
  });

  it('refuses a request without PKCE (invalid_request)', async () => {
    const { res, state } = await send(aisp, { code_challenge: undefined, code_challenge_method: undefined });
    expectTppError(res, 'invalid_request', state, { description: /PKCE/ });
  });

  it('refuses a code_challenge without code_challenge_method, which would mean plain (invalid_request)', async () => {
    const { res, state } = await send(aisp, { code_challenge_method: undefined });
    expectTppError(res, 'invalid_request', state, { description: /code_challenge_method/ });
  });

  it('refuses code_challenge_method=S256 without a code_challenge (invalid_request)', async () => {
    const { res, state } = await send(aisp, { code_challenge: undefined });
    expectTppError(res, 'invalid_request', state);
  });

  for (const scope of ['aisp', 'aisp extended_transaction_history', 'extended_transaction_history aisp', 'cbpii']) {
    it(`accepts scope "${scope}" from a client holding its roles`, async () => {
      expectInteraction(server, (await send(both, { scope })).res);
    });
  }

  it('a code for "extended_transaction_history aisp" grants both scopes', async () => {
    const { location, pair } = await sandboxAuthorization(server, aisp, { params: { scope: 'extended_transaction_history aisp' } });
    const back = redirectParams(location);
    const token = await exchangeCode(server, aisp, back.get('code')!, pair);
    expect(token.status, token.text).to.equal(200);
    expect(String(token.body.scope).split(' ').sort()).to.deep.equal(['aisp', 'extended_transaction_history']);
  });

  for (const scope of [undefined, '', 'extended_transaction_history', 'aisp cbpii', 'cbpii extended_transaction_history', 'aisp extended_transaction_history cbpii', 'openid', 'aisp openid', 'AISP', 'accounts']) {
    it(`refuses scope ${scope === undefined ? '(missing)' : `"${scope}"`}: not exactly one of the three scope sets (invalid_scope)`, async () => {
      const { res, state } = await send(both, { scope });
      expectTppError(res, 'invalid_scope', state);
    });
  }

  it('refuses cbpii to a client holding only PSP_AI (invalid_scope)', async () => {
    const { res, state } = await send(aisp, { scope: 'cbpii' });
    expectTppError(res, 'invalid_scope', state);
  });

  for (const scope of ['pisp', 'aisp pisp', 'pisp aisp']) {
    it(`never grants pisp here, even to a client holding PSP_PI and PSP_AI (scope "${scope}": invalid_scope)`, async () => {
      const { res, state } = await send(payments, { scope });
      expectTppError(res, 'invalid_scope', state, { description: /pisp/ });
    });
  }

  it('a sandbox client cannot use the bank sign-in page (invalid_request naming the sandbox page)', async () => {
    const { res, state } = await send(aisp, {}, entryPath('bank', 'de'));
    expectTppError(res, 'invalid_request', state, { description: /sandbox.*\/oauth2\/\{lang\}\/sandbox\/signin\.html/ });
  });

  it('a bank client cannot use the sandbox sign-in page (invalid_request naming the bank page)', async () => {
    const { res, state } = await send(bank, {}, entryPath('sandbox', 'fr'));
    expectTppError(res, 'invalid_request', state, { description: /bank.*\/oauth2\/\{lang\}\/banque\/oauth2_authorization\.aspx/ });
  });

  it('both sandbox and bank clients may use /oauth2/authorize', async () => {
    expectInteraction(server, (await send(aisp, {})).res);
    expectInteraction(server, (await send(bank, {})).res);
  });

  it('errors through an entry page alias go back to the TPP too (sandbox page, no PKCE)', async () => {
    const { res, state } = await send(aisp, { code_challenge: undefined, code_challenge_method: undefined }, entryPath('sandbox', 'en'));
    expectTppError(res, 'invalid_request', state);
  });
});

describe('authorization requests with an invalid client or redirect URI: a localized error page, nobody redirected', () => {
  let server: TestServer;
  let sandbox: TestClient;
  let bank: TestClient;

  before(async () => {
    server = await startServer();
    [sandbox, bank] = await Promise.all([registerClient(server), registerClient(server, { environment: 'bank' })]);
  });
  after(() => server.close());

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
  let server: TestServer;
  let sandbox: TestClient;
  let bank: TestClient;

  before(async () => {
    server = await startServer();
    [sandbox, bank] = await Promise.all([registerClient(server), registerClient(server, { environment: 'bank' })]);
  });
  after(() => server.close());

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

/** The options of the test server, with other entry paths. */
async function environmentsWith(paths: { sandbox?: string; bank?: string }): Promise<AuthorizationServerOptions['environments']> {
  const pki = await testPki();
  const bank = new TestBank();
  return {
    sandbox: { trustAnchors: pki.sandboxRoot.certPem, requireQualifiedStatements: false, testPsus: SANDBOX_PSUS, ...(paths.sandbox !== undefined ? { entryPath: paths.sandbox } : {}) },
    bank: { trustAnchors: pki.bankCa.certPem, authenticator: bank, accounts: bank, ...(paths.bank !== undefined ? { entryPath: paths.bank } : {}) },
  };
}

describe('custom entry paths (environments.*.entryPath)', () => {
  let server: TestServer;
  let sandbox: TestClient;
  let bank: TestClient;
  const sandboxPath = (language: string) => `/${language}/psd2/sandbox`;
  const bankPath = '/psd2/bank-signin.aspx';

  before(async () => {
    server = await startServer({ options: { environments: await environmentsWith({ sandbox: '/{lang}/psd2/sandbox', bank: bankPath }) } });
    [sandbox, bank] = await Promise.all([registerClient(server), registerClient(server, { environment: 'bank' })]);
  });
  after(() => server.close());

  it('the default entry paths are then no endpoint: 404 JSON', async () => {
    for (const [client, path] of [[sandbox, entryPath('sandbox', 'en')], [bank, entryPath('bank', 'fr')]] as const) {
      const url = new URL(authorizationUrl(server, requestParams(client), path));
      const res = await server.request().get(`${url.pathname}${url.search}`);
      expect(res.status, `${path}: ${res.text}`).to.equal(404);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(res.headers.location).to.equal(undefined);
      expect(res.body.error).to.equal('not_found');
    }
  });

  for (const language of ['de', 'fr'] as const) {
    it(`the new sandbox entry path /oauth2/${language}/psd2/sandbox starts an authorization in ${language}`, async () => {
      const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(sandbox), sandboxPath(language)));
      expectPage(page, language, SANDBOX_TITLE[language]);
    });
  }

  it('the new bank entry path (without {lang}) starts an authorization in the language of ui_locales', async () => {
    const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(bank, { ui_locales: 'fr' }), bankPath));
    expectPage(page, 'fr', BANK_TITLE.fr);
  });

  it('a whole sandbox authorization through the new path yields a working code', async () => {
    const { location, pair, params } = await sandboxAuthorization(server, sandbox, { path: sandboxPath('en') });
    const back = redirectParams(location);
    expect(back.get('state')).to.equal(params.state);
    const token = await exchangeCode(server, sandbox, back.get('code')!, pair);
    expect(token.status, token.text).to.equal(200);
  });

  it('a client of the other environment on a new path goes back to the TPP, told the path of its own page', async () => {
    const bankParams = requestParams(bank);
    expectTppError(await new PsuBrowser().get(authorizationUrl(server, bankParams, sandboxPath('en'))), 'invalid_request', bankParams.state, {
      description: new RegExp(`/oauth2${bankPath.replace(/\./g, '\\.')}`),
    });
    const sandboxParams = requestParams(sandbox);
    expectTppError(await new PsuBrowser().get(authorizationUrl(server, sandboxParams, bankPath)), 'invalid_request', sandboxParams.state, {
      description: /\/oauth2\/\{lang\}\/psd2\/sandbox/,
    });
  });

  it('/oauth2/authorize keeps working for both', async () => {
    expectInteraction(server, await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox))));
    expectInteraction(server, await new PsuBrowser().get(authorizationUrl(server, requestParams(bank))));
  });

  it('an unknown client on a new path gets the error page in the language of the path', async () => {
    expectErrorPage(await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, { client_id: 'nope' }), sandboxPath('de'))), 'de');
  });
});

describe('entry path options at start-up', () => {
  async function optionsWith(paths: { sandbox?: string; bank?: string }): Promise<AuthorizationServerOptions> {
    return {
      issuer: 'https://bank.example/oauth2',
      signingKeys: { keys: [testSigningKey()] },
      cookieKeys: ['0123456789abcdef0123456789abcdef'],
      environments: await environmentsWith(paths),
    };
  }

  function expectRefused(options: AuthorizationServerOptions, path: string, message: RegExp): void {
    let thrown: unknown;
    try {
      createAuthorizationServer(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown, 'expected a ConfigurationError').to.be.instanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).path).to.equal(path);
    expect((thrown as Error).message).to.contain(path).and.match(message);
  }

  it('accepts other valid entry paths', async () => {
    const server = createAuthorizationServer(await optionsWith({ sandbox: '/{lang}/psd2/sandbox', bank: '/banque/{lang}/connexion.aspx' }));
    expect(server.router).to.be.a('function');
  });

  for (const path of ['/token', '/authorize', '/register/{lang}', '/revoke', '/jwks', '/interaction/{lang}', '/.well-known/{lang}/signin']) {
    it(`refuses an entry path that shadows an endpoint (${path})`, async () => {
      expectRefused(await optionsWith({ sandbox: path }), 'environments.sandbox.entryPath', /shadow/);
    });
  }

  for (const path of ['/{lang}ken', '/{lang}ks', '/re{lang}ster']) {
    it(`refuses an entry path whose {lang} would match an endpoint (${path})`, async () => {
      expectRefused(await optionsWith({ sandbox: path }), 'environments.sandbox.entryPath', /shadow/);
    });
  }

  it('an entry path accepted at start-up never shadows the token endpoint over TLS (/{lang}ken would match /token)', async () => {
    let server: TestServer;
    try {
      server = await startServer({ options: { environments: await environmentsWith({ sandbox: '/{lang}ken' }) } });
    } catch (error) {
      expect(error, 'refused at start-up is fine').to.be.instanceOf(ConfigurationError);
      return;
    }
    try {
      const client = await registerClient(server, { roles: ['PSP_AI', 'PSP_PI'] });
      const res = await server.request(client.tpp).post('/oauth2/token').type('form')
        .send({ grant_type: 'client_credentials', client_id: client.clientId, scope: 'pisp' });
      expect(res.status, `POST /oauth2/token → ${res.status} ${res.text}`).to.equal(200);
      expect(res.body.access_token).to.be.a('string');
    } finally {
      await server.close();
    }
  });

  it('refuses an entry path with {lang} twice', async () => {
    expectRefused(await optionsWith({ sandbox: '/{lang}/sandbox/{lang}/signin.html' }), 'environments.sandbox.entryPath', /once/);
  });

  for (const path of ['/<script>/signin', '/{lang}/sign in.html', '/{lang}/signin?x=1', '{lang}/signin', '/{lang}//signin', '/{language}/signin', '/{lang}/%2e%2e', '', '/']) {
    it(`refuses an entry path with characters or a form a path may not have (${JSON.stringify(path)})`, async () => {
      expectRefused(await optionsWith({ sandbox: path }), 'environments.sandbox.entryPath', /path/);
    });
  }

  it('refuses a bad bank entry path, naming environments.bank.entryPath', async () => {
    expectRefused(await optionsWith({ bank: '/token/{lang}' }), 'environments.bank.entryPath', /shadow/);
  });

  it('refuses identical sandbox and bank entry paths', async () => {
    expectRefused(await optionsWith({ sandbox: '/{lang}/signin', bank: '/{lang}/signin' }), 'environments.bank.entryPath', /differ/);
  });
});


describe('authorization endpoint under hostile input (properties)', function () {
  this.timeout(120_000);

  let server: TestServer;
  let sandbox: TestClient;
  let bank: TestClient;

  before(async () => {
    server = await startServer();
    [sandbox, bank] = await Promise.all([
      registerClient(server, { roles: ['PSP_AI', 'PSP_IC'] }),
      registerClient(server, { environment: 'bank', roles: ['PSP_AI', 'PSP_PI'] }),
    ]);
  });
  after(() => server.close());

  const hostile: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map((value) => value.replace(/[\ud800-\udfff]/g, 'x')) },
    // Past ~16 kB of URL, Node answers 431 before the app sees the request.
    { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 500, max: 2400 }).map((n) => 'é'.repeat(n)), fc.integer({ min: 1000, max: 20_000 }).map((n) => 'A'.repeat(n))) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '', ' ', '\u0000', '\t\n', '\r\nLocation: https://evil.example/', '<script>alert(1)</script>', '"><img src=x>', '${7*7}', '%s%n',
        'aisp', 'aisp extended_transaction_history', 'cbpii', 'pisp', 'openid', 'code', 'token', 'none', 'login', 'consent',
        'S256', 'plain', 'query', 'fragment', 'form_post', 'jwt', 'web_message', 'de', 'en', 'fr', 'it', '__proto__', 'constructor',
        'https://evil.example/callback', '//evil.example', 'javascript:alert(1)', '\u202e', '0', '-1', 'null', '[]', '{}',
      ),
    },
  ).filter((value) => !LEAK.test(value));

  /** The registered redirect URI and near misses of it. */
  const redirectUri: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: fc.constant(REDIRECT_URI) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        `${REDIRECT_URI}/`, 'https://TPP.EXAMPLE/callback', 'https://tpp.example/Callback', 'HTTPS://tpp.example/callback', `${REDIRECT_URI}?x=1`,
        `${REDIRECT_URI}?`, `${REDIRECT_URI}#`, `${REDIRECT_URI}#frag`, 'https://user:pw@tpp.example/callback', 'https://tpp.example@evil.example/callback',
        'https://evil.example/callback', 'https://tpp.example.evil.example/callback', 'https://tpp.example:443/callback', 'https://tpp.example:8443/callback',
        'http://tpp.example/callback', '//tpp.example/callback', '/callback', 'https://tpp.example/callback/../callback', 'https://tpp.example/%63allback',
        'https://tpp.example/callback%00', ' https://tpp.example/callback', 'https://tpp.example/callback ', 'https://tpp.example\\@evil.example/callback',
        'https://xn--tpp-example/callback', 'javascript://tpp.example/callback', 'data:text/html,x',
      ),
    },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([a, b]) => `${a}${REDIRECT_URI}${b}`) },
    { weight: 1, arbitrary: hostile },
  );

  type Param = readonly [string, string];
  const NAMES = [
    'client_id', 'response_type', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'prompt', 'ui_locales',
    'response_mode', 'nonce', 'max_age', 'request', 'request_uri', 'claims', 'login_hint', 'acr_values', 'resource', 'authorization_details',
    'id_token_hint', 'registration', 'dpop_jkt', 'iss', '__proto__',
  ] as const;

  const value = (name: string): fc.Arbitrary<string> => (name === 'redirect_uri' ? redirectUri : name === 'client_id'
    ? fc.oneof(fc.constant('__sandbox__'), fc.constant('__bank__'), hostile)
    : hostile);

  /** Changes to a valid request: a value replaced, a parameter removed, duplicated or added. */
  const mutation: fc.Arbitrary<(params: Param[]) => Param[]> = fc.oneof(
    fc.constantFrom(...NAMES).chain((name) => value(name).map((v) => (params: Param[]) => [...params.filter(([n]) => n !== name), [name, v] as const])),
    fc.constantFrom(...NAMES).map((name) => (params: Param[]) => params.filter(([n]) => n !== name)),
    fc.constantFrom(...NAMES).chain((name) => value(name).map((v) => (params: Param[]) => [...params, [name, v] as const])),
    fc.tuple(hostile, hostile).map(([n, v]) => (params: Param[]) => [...params, [n, v] as const]),
  );

  const base = (client: 'sandbox' | 'bank'): Param[] => [
    ['client_id', client === 'sandbox' ? '__sandbox__' : '__bank__'],
    ['response_type', 'code'],
    ['redirect_uri', REDIRECT_URI],
    ['scope', 'aisp'],
    ['state', 'fuzz-state'],
    ['code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGtSFr_i6I'],
    ['code_challenge_method', 'S256'],
  ];

  const parameters: fc.Arbitrary<Param[]> = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom<'sandbox' | 'bank'>('sandbox', 'bank'), fc.array(mutation, { maxLength: 5 })).map(([client, changes]) => changes.reduce((params, change) => change(params), base(client))) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...NAMES), hostile), hostile), { maxLength: 8 }) },
  );

  const language: fc.Arbitrary<string> = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('de', 'en', 'fr', 'it', 'es') },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,2}$/) },
    { weight: 1, arbitrary: fc.constantFrom('DE', 'Fr', 'xx', 'de-AT', 'en_GB', 'eng', 'e', 'de-', '..', '.', '%2e%2e', '%2F', 'de%2Fx', '%', '%E0%A4%A', 'a-b-c-d-e-f') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
  );

  const path: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: fc.constant('/authorize') },
    { weight: 3, arbitrary: language.map((lang) => `/${lang}/sandbox/signin.html`) },
    { weight: 3, arbitrary: language.map((lang) => `/${lang}/banque/oauth2_authorization.aspx`) },
    { weight: 1, arbitrary: fc.constantFrom('/authorize/', '/AUTHORIZE', '/en/sandbox/signin.html/', '/en/SANDBOX/signin.html', '/en/banque/oauth2_authorization.ASPX', '/sandbox/signin.html') },
  );

  /** A query string: encoded parameters, sometimes with raw pieces appended. */
  const query = (params: Param[], raw: string | undefined): string => {
    const resolved = params.map(([name, v]): [string, string] => [name, v.replace('__sandbox__', sandbox.clientId).replace('__bank__', bank.clientId)]);
    const encoded = new URLSearchParams(resolved).toString();
    return [encoded, raw].filter(Boolean).join('&');
  };
  const rawPiece = fc.option(fc.constantFrom('%', '%E0%A4%A', 'state=%ZZ', 'client_id', '=', '&&', 'scope[]=aisp', 'scope[a]=b', 'a=%00', 'redirect_uri=https%3A%2F%2Fevil.example%2Fcallback', '+'), { nil: undefined });

  const acceptLanguage = fc.option(fc.oneof(
    fc.constantFrom('de', 'fr-FR,fr;q=0.9', 'it', '*', 'de;q=x', ';;;', 'en;q=0', 'xx-YY,zz;q=1.5'),
    fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
  ), { nil: undefined });

  /** The state values a request carries. */
  const statesOf = (params: Param[], raw: string | undefined): string[] => [
    ...params.filter(([name]) => name === 'state').map(([, v]) => v),
    ...(raw === 'state=%ZZ' ? ['%ZZ'] : []),
  ];

  const issuerPath = () => new URL(server.issuer).pathname;

  /** The invariants of every answer of the authorization endpoint and its aliases. */
  function checkAnswer(res: Response, what: string, params: Param[], raw: string | undefined): void {
    const sentStates = statesOf(params, raw);
    // The fragment carries the answer only when the request asked for another response mode or type.
    const fragmentAllowed = params.some(([name, v]) => (name === 'response_mode' && v !== 'query') || (name === 'response_type' && v !== 'code'));
    const context = `${what} → ${res.status} ${res.headers.location ?? ''} ${(res.text ?? '').slice(0, 400)}`;
    expect(res.status, context).to.be.below(500);
    expect(res.text ?? '', `leak: ${context}`).not.to.match(LEAK);
    const location = res.headers.location as string | undefined;
    if (location !== undefined) {
      expect(res.status, context).to.be.within(300, 399);
      const inside = location.startsWith(`${issuerPath()}/interaction/`) || location.startsWith(`${server.issuer}/interaction/`);
      const toTpp = location.startsWith(`${REDIRECT_URI}?`) || (fragmentAllowed && location.startsWith(`${REDIRECT_URI}#`));
      expect(inside || toTpp, `Location ${location} is neither inside the server nor the registered redirect URI: ${context}`).to.equal(true);
      if (inside) {
        expect(new URL(location, server.url).origin, context).to.equal(server.url);
      } else {
        const url = new URL(location);
        const answer = new URLSearchParams(url.search ? url.search.slice(1) : url.hash.slice(1));
        expect(answer.get('error'), `a redirect to the TPP without a code carries an error: ${context}`).to.be.a('string').and.not.equal('');
        expect(answer.has('code'), context).to.equal(false);
        expect(answer.get('iss'), context).to.equal(server.issuer);
        const state = answer.get('state');
        if (state !== null) expect(sentStates, `state ${state} was never sent: ${context}`).to.include(state);
        // A state past its documented limit is refused and never returned.
        if (sentStates.length === 1 && sentStates[0]) expect(state, `state dropped: ${context}`).to.equal(sentStates[0].length > AUTHORIZATION_PARAMETER_LIMITS.state ? null : sentStates[0]);
      }
    } else {
      expect(res.status >= 300 && res.status < 400, `redirect without Location: ${context}`).to.equal(false);
    }
    for (const match of (res.text ?? '').matchAll(/<form[^>]*\baction="([^"]*)"/g)) {
      const action = (match[1] ?? '').replace(/&amp;/g, '&');
      const allowed = action === REDIRECT_URI || action.startsWith(`${REDIRECT_URI}?`) || action.startsWith(`${issuerPath()}/interaction/`);
      expect(allowed, `form posting to ${action}: ${context}`).to.equal(true);
    }
    if (res.status === 400 && /^text\/html/.test(String(res.headers['content-type'])) && !/<form/.test(res.text)) {
      expect(res.text, `an error page names no TPP address: ${context}`).not.to.contain('https://tpp.example');
    }
  }

  it('GET with random and hostile parameters on /authorize and the aliases: no 5xx, no leak, Location only inside the server or to the registered redirect URI', async () => {
    await fc.assert(fc.asyncProperty(path, parameters, rawPiece, acceptLanguage, async (target, params, raw, accept) => {
      const url = `/oauth2${target}?${query(params, raw)}`;
      const test = server.request().get(url);
      if (accept !== undefined) test.set('Accept-Language', accept);
      const res = await test;
      checkAnswer(res, `GET ${url.slice(0, 600)} [${accept}]`, params, raw);
    }), { numRuns: Number(process.env.FUZZ_RUNS ?? 250) });
  });

  // oidc-provider 9 serves the authorization endpoint with GET only (enableHttpPostMethods is off),
  // and the aliases answer GET only: whatever is posted, the same invariants hold.
  it('POST forms with random and hostile parameters on /authorize and the aliases: same invariants', async () => {
    await fc.assert(fc.asyncProperty(path, parameters, rawPiece, async (target, params, raw) => {
      const body = query(params, raw);
      const res = await server.request().post(`/oauth2${target}`).type('form').send(body);
      checkAnswer(res, `POST ${target} ${body.slice(0, 600)}`, params, raw);
    }), { numRuns: Number(process.env.FUZZ_RUNS ?? 40) });
  });
});
