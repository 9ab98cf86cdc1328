/**
 * PKCE appended to a payment link: a deployed TPP agent takes the authorization URL the bank's
 * payment API returned (`client_id` and `request_uri`), appends `redirect_uri`, `state`, its padded
 * `code_challenge` and `code_challenge_method=S256`, and redeems the code with its verifier. When
 * the payment API set no challenge, the appended S256 one binds the code; everything else appended
 * is ignored, as before.
 */
import { createHash, randomBytes } from 'node:crypto';

import { expect } from 'chai';
import type { Browser } from 'playwright-core';

import { CATALOGS } from '../../interactions/i18n.js';
import { pkce, REDIRECT_URI, redirectParams, type TestClient } from '../authorization/helpers.js';
import { decide, expectCode, paymentPage } from '../payments/harness.js';
import { pispClient, request } from '../payments/helpers.js';
import { launchChromium, newPsuContext, TPP_CALLBACK } from '../support/browser.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { agentEncoded, agentExchange, paddedPkce } from './padded-pkce.js';
import { suiteServer } from '../support/suite.js';

/** The agent's additions to the payment API's URL, written as it writes them. */
function appended(url: string, challenge: string | undefined, method: string | null = 'S256', state = 'agent-state'): string {
  return `${url}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&state=${state}`
    + `${challenge === undefined ? '' : `&code_challenge=${agentEncoded(challenge)}`}${method === null ? '' : `&code_challenge_method=${method}`}`;
}

describe('compatibility: PKCE appended to a payment authorization link', function () {
  this.timeout(60_000);
  const server = suiteServer();
  let client: TestClient;

  before(async () => {
    client = await pispClient(server);
  });

  /** Opens a payment (`codeChallenge` set by the payment API or not), the agent appends to its URL, the PSU confirms. */
  async function confirmedWith(challenge: string | undefined, method: string | null = 'S256', codeChallenge?: string): Promise<string> {
    const opened = await server.auth.payments.openInitiation(request(client, codeChallenge ? { codeChallenge } : {}));
    expect(opened.url).to.match(/\?client_id=[^&]+&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A[^&]+$/);
    const { browser, page } = await paymentPage(server, appended(opened.url, challenge, method));
    // The payment API's state comes back; the appended one is ignored.
    return expectCode(await decide(server, browser, page, { decision: 'grant' }), 'pisp-state-1');
  }

  it('honours an appended padded S256 challenge: the padded verifier redeems the code, nothing else does', async () => {
    const pair = paddedPkce();
    const code = await confirmedWith(pair.challenge);
    expect((await server.auth.provider.AuthorizationCode.find(code))?.codeChallenge).to.equal(pair.challenge.slice(0, -1));
    const none = await server.request(client.tpp).post('/oauth2/token').type('form')
      .send(`grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&client_id=${encodeURIComponent(client.clientId)}`);
    expect(none.status, none.text).to.equal(400);
    expect(none.body.error).to.equal('invalid_grant');
    for (const verifier of [paddedPkce().verifier, pair.verifier.slice(0, -1), pair.challenge]) {
      const res = await agentExchange(server, client, code, verifier);
      expect(res.status, `${verifier}: ${res.text}`).to.equal(400);
      expect(res.body.error).to.equal('invalid_grant');
    }
    const res = await agentExchange(server, client, code, pair.verifier);
    expect(res.status, res.text).to.equal(200);
    expect(res.body.scope).to.equal('pisp');
    expect(res.body.authorization_details).to.have.length(1);
  });

  it('honours an appended unpadded S256 challenge with the standard verifier', async () => {
    const pair = pkce();
    const code = await confirmedWith(pair.challenge);
    const wrong = await agentExchange(server, client, code, pkce().verifier);
    expect(wrong.body.error, wrong.text).to.equal('invalid_grant');
    const res = await agentExchange(server, client, code, pair.verifier);
    expect(res.status, res.text).to.equal(200);
  });

  it('keeps the payment API\'s challenge when it set one: the appended one is ignored', async () => {
    const api = pkce();
    const agent = paddedPkce();
    const code = await confirmedWith(agent.challenge, 'S256', api.challenge);
    const refused = await agentExchange(server, client, code, agent.verifier);
    expect(refused.status, refused.text).to.equal(400);
    expect(refused.body.error).to.equal('invalid_grant');
    const res = await agentExchange(server, client, code, api.verifier);
    expect(res.status, res.text).to.equal(200);
  });

  for (const [what, method] of [['the plain method', 'plain'], ['no method', null]] as const) {
    it(`ignores an appended challenge with ${what}, as before: the code needs no verifier`, async () => {
      const verifier = randomBytes(32).toString('base64url');
      const code = await confirmedWith(verifier, method);
      expect((await server.auth.provider.AuthorizationCode.find(code))?.codeChallenge).to.equal(undefined);
      const res = await server.request(client.tpp).post('/oauth2/token').type('form')
        .send(`grant_type=authorization_code&code=${encodeURIComponent(code)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&client_id=${encodeURIComponent(client.clientId)}`);
      expect(res.status, res.text).to.equal(200);
    });
  }

  for (const [what, challenge] of [
    ['too short', paddedPkce().challenge.slice(2)],
    ['padded twice', `${paddedPkce().challenge}=`],
    ['of 128 characters', createHash('sha512').update('x').digest('base64url').repeat(2).slice(0, 128)],
  ] as const) {
    it(`sends the PSU back with invalid_request and the payment's state for an appended S256 challenge ${what}`, async () => {
      const opened = await server.auth.payments.openInitiation(request(client));
      const res = await new PsuBrowser().get(appended(opened.url, challenge));
      const params = redirectParams(res.location);
      expect(params.get('error'), params.toString()).to.equal('invalid_request');
      expect(params.get('state')).to.equal('pisp-state-1');
      expect(params.get('code')).to.equal(null);
    });
  }

  it('bank page in Chromium: the PSU confirms the payment, the agent redeems its code with its padded verifier', async () => {
    const bank = await pispClient(server, 'bank', 'Budget Pay');
    const chromium: Browser = await launchChromium();
    try {
      const context = await newPsuContext(chromium);
      const page = await context.newPage();
      const m = CATALOGS.en;
      const pair = paddedPkce();
      const opened = await server.auth.payments.openInitiation(request(bank, { state: 'pisp-state-bank' }));
      expect(REDIRECT_URI).to.equal(TPP_CALLBACK);
      await page.goto(appended(opened.url, pair.challenge));
      await page.getByRole('heading', { level: 1, name: m['signin.bank.title'] }).waitFor();
      await page.getByLabel(m['signin.bank.login']).fill('marie');
      await page.getByLabel(m['signin.bank.password']).fill('correct horse');
      await page.getByRole('button', { name: m['signin.bank.submit'] }).click();
      await page.getByRole('heading', { level: 1, name: m['signin.code.title'] }).waitFor();
      await page.getByLabel(m['signin.code.label']).fill('123456');
      await page.getByRole('button', { name: m['signin.code.submit'] }).click();
      await page.getByRole('heading', { level: 1, name: m['payment.initiation.title'] }).waitFor();
      await page.getByRole('button', { name: m['payment.initiation.confirm'], exact: true }).click();
      await page.waitForURL(`${TPP_CALLBACK}**`);
      const callback = new URL(page.url()).searchParams;
      expect(callback.get('error'), callback.toString()).to.equal(null);
      expect(callback.get('state')).to.equal('pisp-state-bank');
      const refused = await agentExchange(server, bank, callback.get('code')!, paddedPkce().verifier);
      expect(refused.body.error, refused.text).to.equal('invalid_grant');
      const res = await agentExchange(server, bank, callback.get('code')!, pair.verifier);
      expect(res.status, res.text).to.equal(200);
      expect(res.body.scope).to.equal('pisp');
      expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('confirmed');
      await context.close();
    } finally {
      await chromium.close();
    }
  });
});
