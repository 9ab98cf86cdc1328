/**
 * The token endpoint's authorization_code grant (RFC 6749 §4.1.3, RFC 7636, RFC 8705): a TPP
 * exchanges the code over mutual TLS (`tls_client_auth`) and gets a certificate-bound access
 * token, a refresh token for account access, and RFC 6749 §5.2 JSON errors otherwise.
 */
import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import { bankTpp, sandboxTpp, type TppCredentials } from '../support/pki.js';
import { suiteServer } from '../support/suite.js';
import { memoryOf } from '../registration/helpers.js';
import { expectRefusal, expectTokens, scopeWords, thumbprint, tokenRequest } from './answers.js';
import {
  bankAuthorization,
  exchangeCode,
  pkce,
  redirectParams,
  REDIRECT_URI,
  registerClient,
  sandboxAuthorization,
  suiteClient,
  type Pkce,
  type TestClient,
} from './helpers.js';

type Environment = 'sandbox' | 'bank';

describe('token endpoint: authorization_code grant (tls_client_auth, PKCE, certificate-bound tokens)', function () {
  this.timeout(60_000);

  const server = suiteServer({ options: { storage: new MemoryStorage() } });

  const authorize = (client: TestClient, options: { params?: Record<string, string | undefined>; pair?: Pkce } = {}) => (
    client.environment === 'sandbox' ? sandboxAuthorization(server, client, options) : bankAuthorization(server, client, options)
  );

  /** A whole authorization of `client`; returns the code and what was sent with it. */
  async function codeFor(client: TestClient, options: { params?: Record<string, string | undefined>; pair?: Pkce } = {}) {
    const { location, params, pair } = await authorize(client, options);
    const response = redirectParams(location);
    expect(response.get('error'), location).to.equal(null);
    expect(response.get('state')).to.equal(params.state);
    const code = response.get('code');
    expect(code, location).to.be.a('string').and.not.equal('');
    return { code: code!, pair, params };
  }

  const tpps: Record<Environment, (options: Parameters<typeof sandboxTpp>[0]) => Promise<TppCredentials>> = { sandbox: sandboxTpp, bank: bankTpp };

  for (const environment of ['sandbox', 'bank'] as const) {
    describe(`${environment} client`, () => {
      const client = suiteClient(server, async () => ({
        environment,
        tpp: await tpps[environment]({ roles: ['PSP_AI'], organization: `Code Grant ${environment} AIS` }),
      }));

      it('exchanges the code for a Bearer access token bound to the client certificate, and a refresh token for aisp', async () => {
        const { code, pair } = await codeFor(client);
        const res = await exchangeCode(server, client, code, pair);
        const issued = expectTokens(res);
        expect(scopeWords(issued.body.scope)).to.deep.equal(['aisp']);
        expect(issued.refreshToken, 'aisp gets a refresh token').to.be.a('string').and.not.equal('');

        const stored = await server.auth.provider.AccessToken.find(issued.accessToken);
        expect(stored, 'the access token is stored').not.to.equal(undefined);
        const record = stored as unknown as Record<string, unknown>;
        expect(record.clientId).to.equal(client.clientId);
        expect(record['x5t#S256'], 'cnf.x5t#S256 of the access token').to.equal(thumbprint(client.tpp));
        expect(record.scope).to.equal('aisp');
        expect(await server.auth.provider.RefreshToken.find(issued.refreshToken!), 'the refresh token is stored').not.to.equal(undefined);
      });

      it('answers "aisp extended_transaction_history" with both scopes, and a refresh token', async () => {
        const { code, pair } = await codeFor(client, { params: { scope: 'aisp extended_transaction_history' } });
        const issued = expectTokens(await exchangeCode(server, client, code, pair));
        expect(scopeWords(issued.body.scope)).to.deep.equal(['aisp', 'extended_transaction_history']);
        expect(issued.refreshToken).to.be.a('string').and.not.equal('');
        const stored = await server.auth.provider.AccessToken.find(issued.accessToken);
        expect(scopeWords((stored as unknown as Record<string, unknown>).scope)).to.deep.equal(['aisp', 'extended_transaction_history']);
      });

      it('gives a CBPII client (PSP_IC, scope cbpii) a bound access token and a refresh token', async () => {
        const cbpii = await registerClient(server, {
          environment,
          tpp: await tpps[environment]({ roles: ['PSP_IC'], organization: `Code Grant ${environment} CBPII` }),
          body: { scope: 'cbpii' },
        });
        const { code, pair } = await codeFor(cbpii, { params: { scope: 'cbpii' } });
        const issued = expectTokens(await exchangeCode(server, cbpii, code, pair));
        expect(scopeWords(issued.body.scope)).to.deep.equal(['cbpii']);
        expect(issued.refreshToken, 'cbpii gets a refresh token').to.be.a('string').and.not.equal('');
        const stored = await server.auth.provider.AccessToken.find(issued.accessToken);
        expect((stored as unknown as Record<string, unknown>)['x5t#S256']).to.equal(thumbprint(cbpii.tpp));
      });

      it('takes a code once: the second use is invalid_grant and revokes the tokens of the first', async () => {
        const { code, pair } = await codeFor(client);
        const first = expectTokens(await exchangeCode(server, client, code, pair));
        expect(first.refreshToken).to.be.a('string');

        const second = await exchangeCode(server, client, code, pair);
        expectRefusal(second, 400, 'invalid_grant');

        expect(await server.auth.provider.AccessToken.find(first.accessToken), 'access token of the first exchange').to.equal(undefined);
        expect(await server.auth.provider.RefreshToken.find(first.refreshToken!), 'refresh token of the first exchange').to.equal(undefined);
        // The revoked refresh token no longer works either.
        const refresh = await tokenRequest(server, client.tpp, { grant_type: 'refresh_token', refresh_token: first.refreshToken, client_id: client.clientId });
        expectRefusal(refresh, 400, 'invalid_grant');
      });

      it('refuses a wrong code_verifier with invalid_grant', async () => {
        const { code, pair } = await codeFor(client);
        expectRefusal(await exchangeCode(server, client, code, pair, { code_verifier: pkce().verifier }), 400, 'invalid_grant');
      });

      it('refuses a missing code_verifier with invalid_grant', async () => {
        const { code, pair } = await codeFor(client);
        expectRefusal(await exchangeCode(server, client, code, pair, { code_verifier: undefined }), 400, 'invalid_grant');
      });

      it('refuses a redirect_uri other than the authorization request\'s with invalid_grant', async () => {
        const other = 'https://tpp.example/other-callback';
        const twoUris = await registerClient(server, {
          environment,
          tpp: await tpps[environment]({ roles: ['PSP_AI'], organization: `Code Grant ${environment} Two URIs` }),
          body: { redirect_uris: [REDIRECT_URI, other] },
        });
        const { code, pair } = await codeFor(twoUris);
        // Another URI registered by the same client is still not the one the code was issued for.
        expectRefusal(await exchangeCode(server, twoUris, code, pair, { redirect_uri: other }), 400, 'invalid_grant');
        for (const uri of [`${REDIRECT_URI}/`, `${REDIRECT_URI}?x=1`, REDIRECT_URI.replace('https:', 'http:'), REDIRECT_URI.toUpperCase()]) {
          expectRefusal(await exchangeCode(server, twoUris, code, pair, { redirect_uri: uri }), 400, 'invalid_grant');
        }
      });

      it('never gives tokens for a code presented by another client (its own certificate and client_id)', async () => {
        const thief = await registerClient(server, {
          environment,
          tpp: await tpps[environment]({ roles: ['PSP_AI'], organization: `Code Grant ${environment} Thief` }),
        });
        const { code, pair } = await codeFor(client);
        const res = await exchangeCode(server, thief, code, pair);
        expectRefusal(res, [400, 401], ['invalid_grant', 'invalid_client']);
      });

      it('refuses the right client_id with a certificate of another organization: 401 invalid_client', async () => {
        const foreign = await tpps[environment]({ roles: ['PSP_AI'], organization: `Code Grant ${environment} Foreign` });
        const { code, pair } = await codeFor(client);
        const res = await exchangeCode(server, { ...client, tpp: foreign }, code, pair);
        expectRefusal(res, 401, 'invalid_client');
      });

      it('refuses the right client_id with a certificate of the same organization from the other environment: 401 invalid_client', async () => {
        const other = environment === 'sandbox' ? bankTpp : sandboxTpp;
        const twin = await other({ roles: ['PSP_AI'], organization: `Code Grant ${environment} AIS` });
        const { code, pair } = await codeFor(client);
        expectRefusal(await exchangeCode(server, { ...client, tpp: twin }, code, pair), 401, 'invalid_client');
      });

      it('refuses a request without a client certificate: 401 invalid_client', async () => {
        const { code, pair } = await codeFor(client);
        const res = await tokenRequest(server, undefined, {
          grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pair.verifier, client_id: client.clientId,
        });
        expectRefusal(res, 401, 'invalid_client');
      });

      it('refuses an unknown code with invalid_grant', async () => {
        const { pair } = await codeFor(client);
        expectRefusal(await exchangeCode(server, client, 'x'.repeat(43), pair), 400, 'invalid_grant');
        expectRefusal(await exchangeCode(server, client, 'unknown-code', pair), 400, 'invalid_grant');
      });

      it('refuses an expired code with invalid_grant', async () => {
        const { code, pair } = await codeFor(client);
        // Ages the stored code past its expiry (the record itself stays in storage).
        const adapter = memoryOf(server).adapterFor('AuthorizationCode');
        const payload = await adapter.find(code);
        expect(payload, 'the code is stored under its value').not.to.equal(undefined);
        const now = Math.floor(Date.now() / 1000);
        await adapter.upsert(code, { ...payload!, iat: now - 3600, exp: now - 60 }, 3600);
        expectRefusal(await exchangeCode(server, client, code, pair), 400, 'invalid_grant');
      });

      it('refuses a code whose record is gone (lifetime over) with invalid_grant', async () => {
        const { code, pair } = await codeFor(client);
        await memoryOf(server).adapterFor('AuthorizationCode').destroy(code);
        expectRefusal(await exchangeCode(server, client, code, pair), 400, 'invalid_grant');
      });
    });
  }
});
