/**
 * A TPP built on the real `openid-client` v6 library: discovery, an authorization code flow with
 * PKCE S256 and state, the code exchange and a refresh, all with mutual-TLS client authentication
 * (RFC 8705 `tls_client_auth`) while the PSU walks through the pages.
 */
import { createHash } from 'node:crypto';
import { request } from 'node:https';

import { expect } from 'chai';
import * as oidc from 'openid-client';

import { sandboxTpp, testPki, type TppCredentials } from '../support/pki.js';
import { PsuBrowser } from '../support/psu-browser.js';
import type { CheckedResponse } from '../support/openapi.js';
import { suiteServer } from '../support/suite.js';
import { openPages, redirectParams, REDIRECT_URI, registerClient, submit, type TestClient } from './helpers.js';

/**
 * A Fetch API over node:https presenting `tpp`'s certificate and trusting the test server's CA
 * (`undici` is not installed, so its Agent cannot carry the TLS options).
 */
function mtlsFetch(tpp: TppCredentials | undefined, ca: string, check?: (method: string, url: URL, response: CheckedResponse) => void): oidc.CustomFetch {
  return async (url, options) => {
    let body: string | Buffer | undefined;
    if (options.body instanceof URLSearchParams) body = options.body.toString();
    else if (typeof options.body === 'string') body = options.body;
    else if (options.body instanceof Uint8Array) body = Buffer.from(options.body);
    else if (options.body instanceof ArrayBuffer) body = Buffer.from(options.body);
    else if (options.body != null) throw new Error('streamed request bodies are not supported by this test fetch');
    const headers: Record<string, string> = { ...options.headers };
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, {
        method: options.method,
        headers,
        ca,
        ...(tpp ? { cert: tpp.chainPem, key: tpp.keyPem } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
          }
          const status = res.statusCode ?? 500;
          const content = [101, 204, 205, 304].includes(status) ? null : Buffer.concat(chunks);
          try {
            // What the library receives is held to the OpenAPI document like every other response.
            check?.(options.method ?? 'GET', new URL(url), { status, headers: res.headers, text: content?.toString('utf8') });
          } catch (error) {
            reject(error);
            return;
          }
          resolve(new Response(content, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}

/** `x5t#S256` of a certificate: base64url SHA-256 of its DER (RFC 8705 §3.1). */
function thumbprint(tpp: TppCredentials): string {
  return createHash('sha256').update(tpp.der).digest('base64url');
}

describe('a TPP using openid-client v6 with tls_client_auth', function () {
  this.timeout(60_000);

  const server = suiteServer();
  let client: TestClient;
  let ca: string;

  before(async () => {
    ca = (await testPki()).serverCa.certPem;
    client = await registerClient(server, { tpp: await sandboxTpp({ roles: ['PSP_AI'], organization: 'OpenID Client TPP' }) });
  });

  /** Discovers the server from its issuer with the client's certificate. */
  function discover(tpp: TppCredentials = client.tpp, url: URL = new URL(server.issuer)): Promise<oidc.Configuration> {
    const check = (method: string, target: URL, response: CheckedResponse) => server.openApi.checkResponse(method, `${target.pathname}${target.search}`, response);
    return oidc.discovery(url, client.clientId, undefined, oidc.TlsClientAuth(), { [oidc.customFetch]: mtlsFetch(tpp, ca, check) });
  }

  /** Sends the PSU to `url`, signs in as a sandbox PSU and answers the consent page with `decision`. */
  async function psuAnswers(url: URL, decision: 'grant' | 'refuse'): Promise<string> {
    const browser = new PsuBrowser();
    const signIn = await openPages(server, browser, url.href);
    const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
    expect(consent.status, consent.text).to.equal(200);
    const done = await submit(server, browser, consent, '/consent', decision === 'grant' ? { decision, accounts: ['sb-anna-1'] } : { decision });
    redirectParams(done.location);
    return done.location!;
  }

  /** The authorization URL the library builds, with PKCE S256 and state. */
  async function authorizationRequest(config: oidc.Configuration) {
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'aisp',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
    });
    return { url, codeVerifier, state };
  }

  it('discovers the server from its issuer: endpoints under the issuer, tls_client_auth offered', async () => {
    const config = await discover();
    const metadata = config.serverMetadata();
    expect(metadata.issuer).to.equal(server.issuer);
    expect(metadata.authorization_endpoint).to.equal(`${server.issuer}/authorize`);
    expect(metadata.token_endpoint).to.equal(`${server.issuer}/token`);
    expect(metadata.token_endpoint_auth_methods_supported).to.include('tls_client_auth');
    expect(metadata.code_challenge_methods_supported).to.include('S256');
    expect(metadata.supportsPKCE()).to.equal(true);
  });

  it('accepts the RFC 8414 metadata document under the issuer as well', async () => {
    const config = await discover(client.tpp, new URL(`${server.issuer}/.well-known/oauth-authorization-server`));
    expect(config.serverMetadata().issuer).to.equal(server.issuer);
    expect(config.serverMetadata().token_endpoint).to.equal(`${server.issuer}/token`);
  });

  it('runs the whole flow: authorization with PKCE and state, code exchange, a refresh, then revocation', async () => {
    const config = await discover();
    const { url, codeVerifier, state } = await authorizationRequest(config);
    expect(url.origin + url.pathname).to.equal(`${server.issuer}/authorize`);
    expect(url.searchParams.get('client_id')).to.equal(client.clientId);

    const location = await psuAnswers(url, 'grant');
    const tokens = await oidc.authorizationCodeGrant(config, new URL(location), { pkceCodeVerifier: codeVerifier, expectedState: state });

    expect(tokens.access_token).to.be.a('string').and.not.equal('');
    expect(tokens.refresh_token).to.be.a('string').and.not.equal('');
    expect(tokens.scope).to.equal('aisp');
    expect(tokens.token_type).to.equal('bearer');
    expect(tokens.id_token).to.equal(undefined);
    expect(tokens.expiresIn()).to.be.a('number').above(0);
    const stored = await server.auth.provider.AccessToken.find(tokens.access_token);
    expect((stored as unknown as Record<string, unknown> | undefined)?.['x5t#S256'], 'bound to the TPP certificate').to.equal(thumbprint(client.tpp));

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).to.be.a('string').and.not.equal('');
    expect(refreshed.access_token).not.to.equal(tokens.access_token);
    expect(refreshed.token_type).to.equal('bearer');
    expect(refreshed.scope).to.equal('aisp');
    const renewed = await server.auth.provider.AccessToken.find(refreshed.access_token);
    expect(renewed, 'the refreshed access token is stored').not.to.equal(undefined);
    expect((renewed as unknown as Record<string, unknown>)['x5t#S256'], 'the refreshed token is bound too').to.equal(thumbprint(client.tpp));

    // Revoking the refresh token (RFC 7009) ends the consent: its access tokens go with it.
    await oidc.tokenRevocation(config, tokens.refresh_token!, { token_type_hint: 'refresh_token' });
    expect(await server.auth.provider.AccessToken.find(refreshed.access_token)).to.equal(undefined);
    expect(await server.auth.provider.AccessToken.find(tokens.access_token)).to.equal(undefined);
    let refused: unknown;
    try {
      await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(oidc.ResponseBodyError);
    expect((refused as InstanceType<typeof oidc.ResponseBodyError>).error).to.equal('invalid_grant');
    expect((refused as InstanceType<typeof oidc.ResponseBodyError>).error_description).to.equal('Invalid refresh token');
  });

  it('refuses the same authorization response a second time (invalid_grant)', async () => {
    const config = await discover();
    const { url, codeVerifier, state } = await authorizationRequest(config);
    const location = await psuAnswers(url, 'grant');
    await oidc.authorizationCodeGrant(config, new URL(location), { pkceCodeVerifier: codeVerifier, expectedState: state });
    let error: unknown;
    try {
      await oidc.authorizationCodeGrant(config, new URL(location), { pkceCodeVerifier: codeVerifier, expectedState: state });
    } catch (caught) {
      error = caught;
    }
    expect(error, 'the second exchange throws').to.be.instanceOf(oidc.ResponseBodyError);
    expect((error as oidc.ResponseBodyError).error).to.equal('invalid_grant');
    expect((error as oidc.ResponseBodyError).status).to.equal(400);
  });

  it('reports the PSU\'s refusal as access_denied from authorizationCodeGrant', async () => {
    const config = await discover();
    const { url, codeVerifier, state } = await authorizationRequest(config);
    const location = await psuAnswers(url, 'refuse');
    const params = redirectParams(location);
    expect(params.get('code')).to.equal(null);
    expect(params.get('state')).to.equal(state);

    let error: unknown;
    try {
      await oidc.authorizationCodeGrant(config, new URL(location), { pkceCodeVerifier: codeVerifier, expectedState: state });
    } catch (caught) {
      error = caught;
    }
    expect(error, 'authorizationCodeGrant throws').to.be.instanceOf(oidc.AuthorizationResponseError);
    expect((error as oidc.AuthorizationResponseError).error).to.equal('access_denied');
  });
});
