/**
 * What the authorization endpoint and its entry pages answer, as the tests expect it: PSU pages in
 * a language, the localized error page, redirects back to the TPP; what the token endpoint answers
 * a code; and the test server's environments with other entry paths.
 */
import { createHash } from 'node:crypto';

import { expect } from 'chai';
import type { Response } from 'supertest';

import type { AuthorizationServerOptions } from '../../lib/index.js';
import { testPki, type TppCredentials } from '../support/pki.js';
import type { PageResponse } from '../support/psu-browser.js';
import { SANDBOX_PSUS, TestBank } from '../support/psus.js';
import type { TestServer } from '../support/server.js';
import { expectError } from '../registration/helpers.js';
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

/** `x5t#S256` of a certificate: base64url SHA-256 of its DER (RFC 8705 §3.1). */
export function thumbprint(tpp: TppCredentials): string {
  return createHash('sha256').update(tpp.der).digest('base64url');
}

/** Posts a form to the token endpoint with `tpp`'s certificate (or none), dropping undefined fields. */
export function tokenRequest(server: TestServer, tpp: TppCredentials | undefined, fields: Record<string, string | undefined>) {
  const form: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form[name] = value;
  return server.request(tpp).post('/oauth2/token').type('form').send(form);
}

/** A refusal of the token endpoint: RFC 6749 §5.2 JSON, and no token of any kind. */
export function expectRefusal(res: Response, status: number | readonly number[], error: string | readonly string[]): void {
  const statuses = typeof status === 'number' ? [status] : status;
  const errors = typeof error === 'string' ? [error] : error;
  expect(statuses, `${res.status} ${res.text}`).to.include(res.status);
  expect(errors, res.text).to.include((res.body as Record<string, unknown>)?.error);
  expectError(res, res.status, String((res.body as Record<string, unknown>).error));
  expect(res.body).not.to.have.any.keys('access_token', 'refresh_token', 'id_token', 'token_type');
}

export interface Issued {
  readonly accessToken: string;
  readonly refreshToken: string | undefined;
  readonly body: Record<string, unknown>;
}

/** Expects a successful token response and returns its tokens. */
export function expectTokens(res: Response): Issued {
  expect(res.status, res.text).to.equal(200);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  expect(res.headers['cache-control'], 'RFC 6749 §5.1: Cache-Control: no-store').to.match(/\bno-store\b/);
  const body = res.body as Record<string, unknown>;
  expect(body.access_token).to.be.a('string').and.not.equal('');
  expect(String(body.token_type).toLowerCase(), 'token_type').to.equal('bearer');
  expect(body.expires_in).to.be.a('number').above(0);
  expect(body, 'a pure OAuth 2 server issues no id_token').not.to.have.property('id_token');
  return {
    accessToken: String(body.access_token),
    refreshToken: typeof body.refresh_token === 'string' ? body.refresh_token : undefined,
    body,
  };
}

export function scopeWords(scope: unknown): string[] {
  expect(scope).to.be.a('string');
  return String(scope).split(' ').filter(Boolean).sort();
}
