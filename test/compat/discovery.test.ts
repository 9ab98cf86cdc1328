/**
 * RFC 8414 discovery as standard clients do it, over real mutual TLS: the metadata of the issuer
 * `https://host/oauth2` at `https://host/.well-known/oauth-authorization-server/oauth2` (path
 * insertion, served by `wellKnown` at the host's root) and under the issuer; then, with each of
 * oauth4webapi and openid-client (`oauth2` mode), an authorization with PKCE S256 while the PSU
 * walks through the pages, the code exchange, a refresh and the revocation of the refresh token.
 */
import { request } from 'node:https';

import { expect } from 'chai';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';

import { openPages, redirectParams, REDIRECT_URI, registerClient, submit, type TestClient } from '../authorization/helpers.js';
import type { CheckedResponse } from '../support/openapi.js';
import { startExampleApp } from '../example-app/helpers.js';
import { sandboxTpp, testPki, type TppCredentials } from '../support/pki.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { startServer, type TestServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';

type Fetch = (url: string, options: { method?: string; headers?: Record<string, string>; body?: unknown; signal?: AbortSignal }) => Promise<Response>;

/**
 * A Fetch API over node:https presenting `tpp`'s certificate; every answer is held to the server's
 * OpenAPI document, and every URL fetched is recorded.
 */
function mtlsFetch(server: TestServer, tpp: TppCredentials, ca: string, fetched: string[]): Fetch {
  return (url, options) => {
    let body: string | Buffer | undefined;
    if (options.body instanceof URLSearchParams) body = options.body.toString();
    else if (typeof options.body === 'string') body = options.body;
    else if (options.body instanceof Uint8Array) body = Buffer.from(options.body);
    else if (options.body != null) throw new Error('unsupported request body');
    const headers: Record<string, string> = { ...(options.headers instanceof Headers ? Object.fromEntries(options.headers) : options.headers) };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    fetched.push(`${options.method ?? 'GET'} ${String(url)}`);
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: options.method, headers, ca, cert: tpp.chainPem, key: tpp.keyPem, ...(options.signal ? { signal: options.signal } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const status = res.statusCode ?? 500;
          const content = [101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
          try {
            const target = new URL(String(url));
            server.openApi.checkResponse(options.method ?? 'GET', `${target.pathname}${target.search}`, { status, headers: res.headers, text: content?.toString('utf8') } as CheckedResponse);
          } catch (error) {
            reject(error);
            return;
          }
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, item);
          }
          resolve(new Response(content, { status, headers: responseHeaders }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}

describe('compatibility: RFC 8414 discovery and standard clients (oauth4webapi, openid-client)', function () {
  this.timeout(60_000);
  const server = suiteServer({ afterMount: (app) => app.use((req, res, next) => server.auth.wellKnown(req, res, next)) });
  let client: TestClient;
  let ca: string;
  let fetched: string[];
  let fetch: Fetch;

  before(async () => {
    // The host mounts wellKnown at its root, as the README shows.
    ca = (await testPki()).serverCa.certPem;
    client = await registerClient(server, { tpp: await sandboxTpp({ roles: ['PSP_AI'], organization: 'Standard Clients TPP' }) });
  });
  beforeEach(() => {
    fetched = [];
    fetch = mtlsFetch(server, client.tpp, ca, fetched);
  });

  const inserted = () => `${server.url}/.well-known/oauth-authorization-server/oauth2`;

  /** The PSU signs in on the sandbox page and grants access; the redirect to the TPP. */
  async function psuGrants(url: URL): Promise<URL> {
    const browser = new PsuBrowser();
    const signIn = await openPages(server, browser, url.href);
    const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
    expect(consent.status, consent.text).to.equal(200);
    const done = await submit(server, browser, consent, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
    redirectParams(done.location);
    return new URL(done.location!);
  }

  describe('the metadata at the host\'s root', () => {
    it('is the router\'s own document, with or without a query, with the router\'s headers', async () => {
      const underIssuer = await server.request().get('/oauth2/.well-known/oauth-authorization-server');
      const atRoot = await server.request().get('/.well-known/oauth-authorization-server/oauth2');
      expect(atRoot.status).to.equal(200);
      expect(atRoot.headers['content-type']).to.match(/^application\/json/);
      expect(atRoot.headers['strict-transport-security']).to.equal(underIssuer.headers['strict-transport-security']);
      expect(atRoot.body).to.deep.equal(underIssuer.body);
      expect(atRoot.body.issuer).to.equal(server.issuer);
      expect(atRoot.body.introspection_endpoint).to.equal(`${server.issuer}/introspect`);
      const withQuery = await server.request().get('/.well-known/oauth-authorization-server/oauth2?x=1');
      expect(withQuery.body).to.deep.equal(underIssuer.body);
    });

    it('answers exactly that path: other paths and methods are the host\'s', async () => {
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server/other', '/.well-known/oauth-authorization-server/oauth2/x', '/.well-known/openid-configuration/oauth2']) {
        const res = await server.request().get(path);
        expect(res.status, path).to.equal(404);
        expect(res.body, path).to.deep.equal({});
      }
      const post = await server.request().post('/.well-known/oauth-authorization-server/oauth2');
      expect(post.status).to.equal(404);
      expect(post.body).to.deep.equal({});
    });

    it('reached first, it does not make the router believe it is mounted elsewhere', async () => {
      const fresh: TestServer = await startServer({ afterMount: (app) => app.use((req, res, next) => fresh.auth.wellKnown(req, res, next)) });
      try {
        const res = await fresh.request().get('/.well-known/oauth-authorization-server/oauth2');
        expect(res.status).to.equal(200);
        expect(res.body.token_endpoint).to.equal(`${fresh.issuer}/token`);
        expect(fresh.logs.filter((entry) => entry.fields.event === 'configuration.mount_path')).to.deep.equal([]);
      } finally {
        await fresh.close();
      }
    });
  });

  it('the example app mounts it at its root', async () => {
    const example = await startExampleApp();
    try {
      const atRoot = await example.request('get', '/.well-known/oauth-authorization-server/oauth2');
      expect(atRoot.status, atRoot.text).to.equal(200);
      expect(atRoot.body.issuer).to.equal(`${example.base}/oauth2`);
      expect(atRoot.body).to.deep.equal((await example.request('get', '/oauth2/.well-known/oauth-authorization-server')).body);
    } finally {
      example.stop();
    }
  });

  describe('oauth4webapi', () => {
    const clientAuth = oauth.TlsClientAuth();

    it('discovers the issuer by path insertion and under the issuer', async () => {
      const issuer = new URL(server.issuer);
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.customFetch]: fetch }));
      expect(fetched).to.deep.equal([`GET ${inserted()}`]);
      expect(as.token_endpoint).to.equal(`${server.issuer}/token`);
      expect(as.code_challenge_methods_supported).to.include('S256');
      const appended = await oauth.processDiscoveryResponse(issuer, await fetch(`${server.issuer}/.well-known/oauth-authorization-server`, { method: 'GET', headers: { accept: 'application/json' } }));
      expect(appended).to.deep.equal(as);
    });

    it('runs PKCE S256 and state, the code exchange, a refresh, then revokes the refresh token', async () => {
      const issuer = new URL(server.issuer);
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.customFetch]: fetch }));
      const oauthClient: oauth.Client = { client_id: client.clientId };
      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const url = new URL(as.authorization_endpoint!);
      for (const [name, value] of Object.entries({
        client_id: client.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'aisp', state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      })) url.searchParams.set(name, value);

      const callback = await psuGrants(url);
      const params = oauth.validateAuthResponse(as, oauthClient, callback, state);
      const tokens = await oauth.processAuthorizationCodeResponse(as, oauthClient,
        await oauth.authorizationCodeGrantRequest(as, oauthClient, clientAuth, params, REDIRECT_URI, verifier, { [oauth.customFetch]: fetch }));
      expect(tokens.token_type).to.equal('bearer');
      expect(tokens.scope).to.equal('aisp');
      expect(tokens.refresh_token).to.be.a('string');

      const refreshed = await oauth.processRefreshTokenResponse(as, oauthClient,
        await oauth.refreshTokenGrantRequest(as, oauthClient, clientAuth, tokens.refresh_token!, { [oauth.customFetch]: fetch }));
      expect(refreshed.token_type).to.equal('bearer');
      expect(refreshed.access_token).not.to.equal(tokens.access_token);

      await oauth.processRevocationResponse(await oauth.revocationRequest(as, oauthClient, clientAuth, tokens.refresh_token!, {
        [oauth.customFetch]: fetch, additionalParameters: { token_type_hint: 'refresh_token' },
      }));
      expect(await server.auth.provider.AccessToken.find(refreshed.access_token)).to.equal(undefined);
      let refused: unknown;
      try {
        await oauth.processRefreshTokenResponse(as, oauthClient,
          await oauth.refreshTokenGrantRequest(as, oauthClient, clientAuth, tokens.refresh_token!, { [oauth.customFetch]: fetch }));
      } catch (error) {
        refused = error;
      }
      expect(refused).to.be.instanceOf(oauth.ResponseBodyError);
      expect((refused as oauth.ResponseBodyError).error).to.equal('invalid_grant');
      expect((refused as oauth.ResponseBodyError).error_description).to.equal('Invalid refresh token');
    });
  });

  describe('openid-client in oauth2 mode', () => {
    const discover = (url: URL) => oidc.discovery(url, client.clientId, undefined, oidc.TlsClientAuth(), { algorithm: 'oauth2', [oidc.customFetch]: fetch as oidc.CustomFetch });

    it('discovers the issuer by path insertion and under the issuer', async () => {
      const config = await discover(new URL(server.issuer));
      expect(fetched).to.deep.equal([`GET ${inserted()}`]);
      expect(config.serverMetadata().issuer).to.equal(server.issuer);
      const appended = await discover(new URL(`${server.issuer}/.well-known/oauth-authorization-server`));
      expect(fetched[1]).to.equal(`GET ${server.issuer}/.well-known/oauth-authorization-server`);
      expect(appended.serverMetadata()).to.deep.equal(config.serverMetadata());
    });

    it('runs PKCE S256 and state, the code exchange, a refresh, then revokes the refresh token', async () => {
      const config = await discover(new URL(server.issuer));
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI, scope: 'aisp', state,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      });
      const callback = await psuGrants(url);
      const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
      expect(tokens.token_type).to.equal('bearer');
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.token_type).to.equal('bearer');
      expect(refreshed.scope).to.equal('aisp');
      await oidc.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
      expect(await server.auth.provider.AccessToken.find(refreshed.access_token)).to.equal(undefined);
      let refused: unknown;
      try {
        await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      } catch (error) {
        refused = error;
      }
      expect(refused).to.be.instanceOf(oidc.ResponseBodyError);
      expect((refused as oidc.ResponseBodyError).error_description).to.equal('Invalid refresh token');
    });
  });
});
