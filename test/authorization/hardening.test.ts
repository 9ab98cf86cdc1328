/**
 * Authorization requests that must not be accepted (security review findings): a resource
 * indicator outside payment authorizations, and parameters longer than their documented limits,
 * which an unauthenticated link could otherwise make the server store with each interaction.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { MemoryStorage } from '../../adapters/memory.js';
import { AUTHORIZATION_PARAMETER_LIMITS } from '../../lib/parameter-limits.js';
import { PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { type TestServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';
import { memoryOf } from '../registration/helpers.js';
import { authorizationUrl, entryPath, REDIRECT_URI, redirectParams, registerClient, requestParams, sandboxAuthorization, type TestClient } from './helpers.js';

/** Expects the PSU sent back to the TPP's redirect URI with `error`; returns the callback's parameters. */
function backAtTpp(res: PageResponse, error: string, description?: RegExp): URLSearchParams {
  expect([302, 303], `${res.status} ${res.location ?? res.text.slice(0, 300)}`).to.include(res.status);
  const url = new URL(res.location!);
  expect(`${url.origin}${url.pathname}`).to.equal(REDIRECT_URI);
  expect(url.searchParams.get('error'), url.href).to.equal(error);
  if (description) expect(url.searchParams.get('error_description')).to.match(description);
  return url.searchParams;
}

/** Expects the first PSU page: the request was accepted. */
function toPages(server: TestServer, res: PageResponse): void {
  expect(res.status, `${res.location ?? res.text.slice(0, 300)}`).to.equal(303);
  expect(res.location).to.match(new RegExp(`^${server.issuer}/interaction/`));
}

describe('authorization requests refused since the security review', function () {
  this.timeout(120_000);
  const server = suiteServer({ options: { storage: new MemoryStorage() } });
  let storage: MemoryStorage;
  let aisp: TestClient;
  let cbpii: TestClient;
  let bankAisp: TestClient;

  before(async () => {
    storage = memoryOf(server);
    [aisp, cbpii, bankAisp] = await Promise.all([
      registerClient(server, { roles: ['PSP_AI'] }),
      registerClient(server, { roles: ['PSP_IC'], body: { scope: 'cbpii' } }),
      registerClient(server, { environment: 'bank', roles: ['PSP_AI'] }),
    ]);
  });

  /** GETs the authorization URL of `client` with `overrides`, through `path`. */
  const authorize = (client: TestClient, overrides: Record<string, string | undefined>, path?: string) => new PsuBrowser().get(authorizationUrl(server, requestParams(client, overrides), path ?? entryPath(client.environment)));

  describe('resource (RFC 8707) outside payment authorizations', () => {
    const paymentApi = () => `${server.url}/payments`;

    for (const [what, client, scope] of [['aisp', () => aisp, 'aisp'], ['aisp with the extended history', () => aisp, 'aisp extended_transaction_history'], ['cbpii', () => cbpii, 'cbpii'], ['bank aisp', () => bankAisp, 'aisp']] as const) {
      it(`refuses the payment API as resource in an ${what} authorization: back to the TPP with invalid_target and state`, async () => {
        const before = storage.size;
        const res = await authorize(client(), { scope, resource: paymentApi(), state: 'keep-me' });
        const params = backAtTpp(res, 'invalid_target', /^resource \(RFC 8707\) is accepted only in payment authorizations/);
        expect(params.get('state')).to.equal('keep-me');
        expect(storage.size, 'no interaction stored').to.equal(before);
      });
    }

    it('refuses it at the standard authorization endpoint too, and for any other resource', async () => {
      backAtTpp(await authorize(aisp, { resource: paymentApi() }, '/authorize'), 'invalid_target');
      backAtTpp(await authorize(aisp, { resource: 'https://accounts.bank.example/' }), 'invalid_target');
    });
  });

  describe('parameter lengths', () => {
    it('accepts a state of exactly 2048 characters and returns it unchanged', async () => {
      expect(AUTHORIZATION_PARAMETER_LIMITS.state).to.equal(2048);
      const state = `${'s'.repeat(2000)}${'é'.repeat(47)}=`;
      const { location } = await sandboxAuthorization(server, aisp, { params: { state } });
      expect(redirectParams(location).get('state')).to.equal(state);
    });

    for (const length of [2049, 10_000]) {
      it(`refuses a state of ${length} characters: back to the TPP with invalid_request, without the state, storing nothing`, async () => {
        const before = storage.size;
        const res = await authorize(aisp, { state: 's'.repeat(length) });
        const params = backAtTpp(res, 'invalid_request', /^state must be at most 2048 characters/);
        expect(params.has('state'), 'an over-long state is not echoed').to.equal(false);
        expect(res.location!.length, 'the redirect stays short').to.be.below(600);
        expect(storage.size, 'no interaction stored').to.equal(before);
        expect(([] as string[]).concat(res.headers['set-cookie'] ?? []), 'no interaction cookie').to.deep.equal([]);
      });
    }

    it('measures characters, not bytes: 2048 non-ASCII characters are accepted', async () => {
      toPages(server, await authorize(aisp, { state: 'é'.repeat(2048) }));
    });

    // Parameters that only OpenID Connect uses (nonce, acr_values, claims_locales, max_age,
    // id_token_hint) are refused by oidc-provider without the openid scope, whatever their length.
    const valid: Record<string, (length: number) => string> = {
      login_hint: (length) => `${'a'.repeat(length - 12)}@tpp.example`,
      ui_locales: (length) => 'de '.repeat(Math.ceil(length / 3)).slice(0, length).trimEnd().padEnd(length, 'e'),
      display: (length) => 'p'.repeat(length),
    };
    for (const [name, value] of Object.entries(valid)) {
      const limit = AUTHORIZATION_PARAMETER_LIMITS[name as keyof typeof AUTHORIZATION_PARAMETER_LIMITS];
      it(`bounds ${name} to ${limit} characters: longer goes back to the TPP with invalid_request and state`, async () => {
        toPages(server, await authorize(aisp, { [name]: value(limit) }));
        const before = storage.size;
        const params = backAtTpp(await authorize(aisp, { [name]: value(limit + 1), state: 'kept' }), 'invalid_request', new RegExp(`^${name} must be at most ${limit} characters`));
        expect(params.get('state')).to.equal('kept');
        expect(storage.size).to.equal(before);
      });
    }

    it('property: any bounded parameter past its limit never reaches the pages, and an over-long state never comes back', async () => {
      const names = Object.keys(AUTHORIZATION_PARAMETER_LIMITS) as (keyof typeof AUTHORIZATION_PARAMETER_LIMITS)[];
      const character = fc.constantFrom('a', 'Z', '0', ' ', '-', 'é', '€', '"', '<', '%', '&', '=', '+', '#');
      await fc.assert(fc.asyncProperty(
        fc.constantFrom(...names),
        fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 3000 })),
        fc.array(character, { minLength: 1, maxLength: 8 }),
        fc.constantFrom<'sandbox' | 'bank'>('sandbox', 'bank'),
        async (name, extra, pattern, environment) => {
          const limit = AUTHORIZATION_PARAMETER_LIMITS[name];
          const text = pattern.join('').repeat(Math.ceil((limit + extra) / pattern.length)).slice(0, limit + extra);
          const before = storage.size;
          const res = await authorize(environment === 'sandbox' ? aisp : bankAisp, { [name]: text, ...(name === 'state' ? {} : { state: 'fuzz' }) });
          // 431: the request line is past Node's header limit (16 KB) before the server sees it.
          expect(res.status, `${name} × ${text.length}: ${res.location}`).to.be.oneOf([302, 303, 400, 431]);
          expect(res.location ?? '', `${name} × ${text.length} reached the pages`).not.to.contain('/interaction/');
          expect(storage.size, `${name} × ${text.length} stored something`).to.equal(before);
          if (res.location) {
            const params = new URL(res.location).searchParams;
            expect(params.get('error')).to.be.a('string');
            if (name === 'state') expect(params.has('state')).to.equal(false);
            else expect(params.get('state')).to.equal('fuzz');
          }
        },
      ), { numRuns: 80 });
    });
  });
});
