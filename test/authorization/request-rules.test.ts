/**
 * The PSD2 rules of the authorization request: with a valid client and redirect URI, every error
 * goes back to the TPP with state.
 */
import { expect } from 'chai';

import { PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { suiteServer } from '../support/suite.js';
import { expectInteraction, expectTppError } from './answers.js';
import {
  authorizationUrl,
  entryPath,
  exchangeCode,
  redirectParams,
  requestParams,
  sandboxAuthorization,
  suiteClient,
  type TestClient,
} from './helpers.js';

describe('authorization request rules: with a valid client and redirect URI, every error goes back to the TPP with state', () => {
  const server = suiteServer();
  /** Sandbox client holding PSP_AI only. */
  const aisp = suiteClient(server, { roles: ['PSP_AI'] });
  /** Sandbox client holding PSP_AI and PSP_IC. */
  const both = suiteClient(server, { roles: ['PSP_AI', 'PSP_IC'] });
  /** Bank client holding PSP_AI and PSP_PI. */
  const payments = suiteClient(server, { environment: 'bank', roles: ['PSP_AI', 'PSP_PI'] });
  /** Bank client holding PSP_AI. */
  const bank = suiteClient(server, { environment: 'bank', roles: ['PSP_AI'] });

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
