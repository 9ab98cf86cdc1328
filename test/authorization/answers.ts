/**
 * What the authorization endpoint and its entry pages answer, as the tests expect it: PSU pages in
 * a language, the localized error page, redirects back to the TPP; and the test server's
 * environments with other entry paths.
 */
import { expect } from 'chai';

import type { AuthorizationServerOptions } from '../../lib/index.js';
import { testPki } from '../support/pki.js';
import type { PageResponse } from '../support/psu-browser.js';
import { SANDBOX_PSUS, TestBank } from '../support/psus.js';
import type { TestServer } from '../support/server.js';
import { REDIRECT_URI } from './helpers.js';

export type Language = 'de' | 'en' | 'fr';

export const SANDBOX_TITLE: Record<Language, string> = { en: 'Choose a test customer', de: 'Testkunden auswählen', fr: 'Choisir un client de test' };
export const BANK_TITLE: Record<Language, string> = { en: 'Sign in to your bank', de: 'Bei Ihrer Bank anmelden', fr: 'Connexion à votre banque' };
export const ERROR_TITLE: Record<Language, string> = {
  en: 'This request cannot be completed',
  de: 'Diese Anfrage kann nicht ausgeführt werden',
  fr: 'Cette demande ne peut pas aboutir',
};

/** The `<h1>` of a page. */
function headingOf(page: PageResponse): string | undefined {
  return /<h1[^>]*>([^<]*)<\/h1>/.exec(page.text)?.[1];
}

/** Expects a PSU page in `language` whose heading is `title`. */
export function expectPage(page: PageResponse, language: Language, title: string): void {
  expect(page.status, page.text.slice(0, 300)).to.equal(200);
  expect(page.text, `html lang of ${page.url}`).to.match(new RegExp(`<html lang="${language}">`));
  expect(headingOf(page)).to.equal(title);
}

/** Expects the localized error page: 400, HTML, nobody redirected. */
export function expectErrorPage(res: PageResponse, language: Language): void {
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
export function expectTppError(res: PageResponse, error: string, state: string | undefined, options: { description?: RegExp; fragmentAllowed?: boolean } = {}): URLSearchParams {
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
export function expectInteraction(server: TestServer, res: PageResponse): void {
  expect(res.status, `${res.url} → ${res.status} ${res.location ?? ''} ${res.text.slice(0, 300)}`).to.equal(303);
  expect(res.location).to.match(new RegExp(`^${server.issuer}/interaction/`));
}

/** The options of the test server, with other entry paths. */
export async function environmentsWith(paths: { sandbox?: string; bank?: string }): Promise<AuthorizationServerOptions['environments']> {
  const pki = await testPki();
  const bank = new TestBank();
  return {
    sandbox: { trustAnchors: pki.sandboxRoot.certPem, requireQualifiedStatements: false, testPsus: SANDBOX_PSUS, ...(paths.sandbox !== undefined ? { entryPath: paths.sandbox } : {}) },
    bank: { trustAnchors: pki.bankCa.certPem, authenticator: bank, accounts: bank, ...(paths.bank !== undefined ? { entryPath: paths.bank } : {}) },
  };
}
