/**
 * Shared helpers of the authorization tests: a registered client, a PKCE pair, the authorization
 * URL a TPP builds, and a PSU walking through the pages.
 */
import { createHash, randomBytes } from 'node:crypto';

import { expect } from 'chai';

import { bankTpp, sandboxTpp, type TppCredentials } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import type { TestServer } from '../support/server.js';
import { beforeSuite } from '../support/suite.js';
import { register } from '../registration/helpers.js';

export const REDIRECT_URI = 'https://tpp.example/callback';

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface TestClient {
  readonly clientId: string;
  readonly tpp: TppCredentials;
  readonly environment: 'sandbox' | 'bank';
}

/** Registers a client in `environment` holding `roles`, with {@link REDIRECT_URI}. */
export async function registerClient(server: TestServer, options: {
  environment?: 'sandbox' | 'bank';
  roles?: ('PSP_AI' | 'PSP_PI' | 'PSP_IC' | 'PSP_AS')[];
  body?: Record<string, unknown>;
  tpp?: TppCredentials;
} = {}): Promise<TestClient> {
  const environment = options.environment ?? 'sandbox';
  const roles = options.roles ?? ['PSP_AI'];
  const tpp = options.tpp ?? await (environment === 'sandbox' ? sandboxTpp({ roles }) : bankTpp({ roles }));
  const registered = await register(server, tpp, { redirect_uris: [REDIRECT_URI], client_name: 'Acme Money', ...options.body });
  return { clientId: registered.clientId, tpp, environment };
}

type ClientOptions = NonNullable<Parameters<typeof registerClient>[1]>;

/** A client registered (as {@link registerClient} does) before the suite's tests. */
export function suiteClient(server: TestServer, options: ClientOptions | (() => Promise<ClientOptions>) = {}): TestClient {
  return beforeSuite(async () => registerClient(server, typeof options === 'function' ? await options() : options));
}

/** The authorization URL a TPP sends the PSU to: the standard endpoint, or an entry page path. */
export function authorizationUrl(server: TestServer, params: Record<string, string | undefined>, path = '/authorize'): string {
  const url = new URL(`${server.issuer}${path}`);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

/** The usual parameters of an authorization request of `client`. */
export function requestParams(client: TestClient, overrides: Record<string, string | undefined> = {}, pair: Pkce = pkce()): Record<string, string | undefined> {
  return {
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'aisp',
    state: `state-${randomBytes(6).toString('hex')}`,
    code_challenge: pair.challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
}

/** The entry page of an environment in a language. */
export function entryPath(environment: 'sandbox' | 'bank', language = 'en'): string {
  return environment === 'sandbox' ? `/${language}/sandbox/signin.html` : `/${language}/banque/oauth2_authorization.aspx`;
}

/** The query parameters of a redirect to the TPP. */
export function redirectParams(location: string | undefined): URLSearchParams {
  expect(location, 'a redirect to the TPP').to.be.a('string');
  const url = new URL(location!);
  expect(`${url.origin}${url.pathname}`).to.equal(REDIRECT_URI);
  return url.searchParams;
}

/** Starts an authorization and follows it to the first PSU page. */
export async function openPages(server: TestServer, browser: PsuBrowser, url: string): Promise<PageResponse> {
  const start = await browser.get(url);
  expect(start.status, start.text).to.equal(303);
  expect(start.location).to.match(new RegExp(`^${server.issuer}/interaction/`));
  const page = await browser.follow(start, server.url);
  expect(page.status, page.text).to.equal(200);
  return page;
}

/** Submits a page's form and follows redirects that stay on the server. */
export async function submit(server: TestServer, browser: PsuBrowser, page: PageResponse, action: string, fields: Record<string, string | readonly string[]>): Promise<PageResponse> {
  const response = await browser.post(formAction(page, action), { csrf: csrfOf(page), ...fields });
  return browser.follow(response, server.url);
}

/** A whole sandbox authorization: sign-in as `psuId`, grant `accounts`; returns the redirect to the TPP. */
export async function sandboxAuthorization(server: TestServer, client: TestClient, options: {
  params?: Record<string, string | undefined>;
  pair?: Pkce;
  psuId?: string;
  accounts?: string[];
  browser?: PsuBrowser;
  path?: string;
} = {}): Promise<{ location: string | undefined; params: Record<string, string | undefined>; pair: Pkce }> {
  const pair = options.pair ?? pkce();
  const params = requestParams(client, options.params, pair);
  const browser = options.browser ?? new PsuBrowser();
  const signIn = await openPages(server, browser, authorizationUrl(server, params, options.path ?? entryPath('sandbox')));
  const consent = await submit(server, browser, signIn, '/signin', { psu: options.psuId ?? 'sandbox-anna' });
  expect(consent.status, consent.text).to.equal(200);
  const done = await submit(server, browser, consent, '/consent', { decision: 'grant', accounts: options.accounts ?? ['sb-anna-1'] });
  return { location: done.location, params, pair };
}

/** A whole bank authorization with password and one-time code; returns the redirect to the TPP. */
export async function bankAuthorization(server: TestServer, client: TestClient, options: {
  params?: Record<string, string | undefined>;
  pair?: Pkce;
  login?: string;
  password?: string;
  code?: string;
  accounts?: string[];
  browser?: PsuBrowser;
} = {}): Promise<{ location: string | undefined; params: Record<string, string | undefined>; pair: Pkce }> {
  const pair = options.pair ?? pkce();
  const params = requestParams(client, options.params, pair);
  const browser = options.browser ?? new PsuBrowser();
  const signIn = await openPages(server, browser, authorizationUrl(server, params, entryPath('bank')));
  let next = await submit(server, browser, signIn, '/signin', { login: options.login ?? 'marie', password: options.password ?? 'correct horse' });
  if (next.text.includes('/second-factor"')) next = await submit(server, browser, next, '/second-factor', { code: options.code ?? '123456' });
  expect(next.status, next.text).to.equal(200);
  const done = await submit(server, browser, next, '/consent', { decision: 'grant', accounts: options.accounts ?? ['bk-marie-1'] });
  return { location: done.location, params, pair };
}

/** Exchanges a code at the token endpoint over mutual TLS. */
export function exchangeCode(server: TestServer, client: TestClient, code: string, pair: Pkce, overrides: Record<string, string | undefined> = {}) {
  const form: Record<string, string> = {};
  for (const [name, value] of Object.entries({
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT_URI,
    code_verifier: pair.verifier,
    client_id: client.clientId,
    ...overrides,
  })) if (value !== undefined) form[name] = value;
  return server.request(client.tpp).post('/oauth2/token').type('form').send(form);
}
