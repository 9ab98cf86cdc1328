/**
 * Padded PKCE, as a deployed TPP agent sends it: its verifier is Java's `Base64.getUrlEncoder()` of
 * 32 random bytes (44 characters, one `=`), its challenge the same encoder's SHA-256 of the
 * verifier (one `=` too). The challenge is accepted without its padding, the verifier hashed
 * exactly as sent; nothing else is relaxed. Requests are replayed as the agent writes them.
 */
import { createHash, randomBytes } from 'node:crypto';

import { expect } from 'chai';
import type { Browser } from 'playwright-core';

import { CATALOGS } from '../../interactions/i18n.js';
import { entryPath, openPages, REDIRECT_URI, redirectParams, submit, suiteClient, type TestClient } from '../authorization/helpers.js';
import { launchChromium, newPsuContext, TPP_CALLBACK } from '../support/browser.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { type TestServer } from '../support/server.js';
import { agentEncoded, agentExchange, paddedPkce } from './padded-pkce.js';
import { suiteServer } from '../support/suite.js';

/** The agent's authorization URL, written as it writes it: `=` of the challenge as `%3D`. */
function agentUrl(server: TestServer, client: TestClient, path: string, state: string, challenge: string, method = 'S256'): string {
  return `${server.issuer}${path}?response_type=code&client_id=${encodeURIComponent(client.clientId)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`
    + `&scope=aisp&state=${state}&code_challenge=${agentEncoded(challenge)}&code_challenge_method=${method}`;
}

describe('compatibility: padded PKCE (Java Base64.getUrlEncoder())', function () {
  this.timeout(60_000);
  const server = suiteServer();
  const sandbox = suiteClient(server, { environment: 'sandbox' });
  const bank = suiteClient(server, { environment: 'bank', body: { client_name: 'Budget Buddy' } });

  /** A sandbox authorization through the entry page with `challenge` as the agent sends it; returns the code. */
  async function sandboxCode(challenge: string): Promise<string> {
    const browser = new PsuBrowser();
    const state = `st-${randomBytes(4).toString('hex')}`;
    const signIn = await openPages(server, browser, agentUrl(server, sandbox, entryPath('sandbox', 'en'), state, challenge));
    const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
    const done = await submit(server, browser, consent, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
    const params = redirectParams(done.location);
    expect(params.get('error'), params.toString()).to.equal(null);
    expect(params.get('state')).to.equal(state);
    return params.get('code')!;
  }

  it('makes the pair the agent makes: 44 characters each, one `=`', () => {
    const pair = paddedPkce();
    expect(pair.verifier).to.match(/^[\w-]{43}=$/);
    expect(pair.challenge).to.match(/^[\w-]{43}=$/);
  });

  it('sandbox: the padded challenge is accepted, and the padded verifier, hashed as sent, redeems the code', async () => {
    const pair = paddedPkce();
    const code = await sandboxCode(pair.challenge);
    const stored = await server.auth.provider.AuthorizationCode.find(code);
    expect(stored?.codeChallenge, 'kept without its padding').to.equal(pair.challenge.slice(0, -1));
    const res = await agentExchange(server, sandbox, code, pair.verifier);
    expect(res.status, res.text).to.equal(200);
    expect(res.body.scope).to.equal('aisp');
    expect(res.body.access_token).to.be.a('string');
    const again = await agentExchange(server, sandbox, code, pair.verifier);
    expect(again.status, again.text).to.equal(400);
    expect(again.body.error).to.equal('invalid_grant');
  });

  it('refuses every other verifier, and the code stays redeemable with the right one', async () => {
    const pair = paddedPkce();
    const code = await sandboxCode(pair.challenge);
    const unpadded = pair.verifier.slice(0, -1);
    const wrong: [string, string, string][] = [
      ['another padded verifier', paddedPkce().verifier, 'invalid_grant'],
      ['the verifier without its padding', unpadded, 'invalid_grant'],
      ['the verifier padded twice', `${pair.verifier}=`, 'invalid_grant'],
      ['the challenge itself', pair.challenge, 'invalid_grant'],
      ['the unpadded challenge', pair.challenge.slice(0, -1), 'invalid_grant'],
      ['standard base64 characters', `${unpadded.slice(0, -1)}+=`, 'invalid_request'],
      ['a `=` inside', `${unpadded.slice(0, 20)}=${unpadded.slice(20)}`, 'invalid_request'],
      ['too short', `${unpadded.slice(0, 41)}=`, 'invalid_request'],
    ];
    for (const [what, verifier, error] of wrong) {
      const res = await agentExchange(server, sandbox, code, verifier);
      expect(res.status, `${what}: ${res.text}`).to.equal(400);
      expect(res.body.error, what).to.equal(error);
      expect(res.body, what).to.not.have.property('access_token');
    }
    const res = await agentExchange(server, sandbox, code, pair.verifier);
    expect(res.status, res.text).to.equal(200);
  });

  it('a padded verifier never redeems a code whose challenge was made from another verifier', async () => {
    const verifier = randomBytes(32).toString('base64url');
    // A standard client's challenge; the agent's padded form of the same bytes hashes differently.
    const code = await sandboxCode(createHash('sha256').update(verifier).digest('base64url'));
    const padded = await agentExchange(server, sandbox, code, `${verifier}=`);
    expect(padded.status, padded.text).to.equal(400);
    expect(padded.body.error).to.equal('invalid_grant');
    const res = await agentExchange(server, sandbox, code, verifier);
    expect(res.status, res.text).to.equal(200);
  });

  for (const [what, challenge, method, description] of [
    ['padded twice', `${paddedPkce().challenge}=`, 'S256', 'code_challenge contains invalid characters'],
    ['42 characters and `=`', `${paddedPkce().challenge.slice(0, 42)}=`, 'S256', 'code_challenge contains invalid characters'],
    ['`=` inside', `${paddedPkce().challenge.slice(0, 20)}=${paddedPkce().challenge.slice(20, 43)}`, 'S256', 'code_challenge contains invalid characters'],
    ['with the plain method', paddedPkce().challenge, 'plain', 'not supported value of code_challenge_method'],
  ] as const) {
    it(`still refuses a challenge ${what}, back to the TPP with its state`, async () => {
      const res = await new PsuBrowser().get(agentUrl(server, sandbox, entryPath('sandbox', 'en'), 'st-refused', challenge, method));
      const params = redirectParams(res.location);
      expect(params.get('error')).to.equal('invalid_request');
      expect(params.get('error_description')).to.equal(description);
      expect(params.get('state')).to.equal('st-refused');
    });
  }

  it('bank page in Chromium: the PSU signs in and consents, the agent redeems its code with its padded verifier', async () => {
    const chromium: Browser = await launchChromium();
    try {
      const context = await newPsuContext(chromium);
      const page = await context.newPage();
      const m = CATALOGS.en;
      const pair = paddedPkce();
      const url = agentUrl(server, bank, entryPath('bank', 'en'), 'agent-state-1', pair.challenge);
      expect(url).to.contain(`code_challenge=${pair.challenge.slice(0, -1)}%3D&code_challenge_method=S256`);
      expect(REDIRECT_URI).to.equal(TPP_CALLBACK);
      await page.goto(url);
      await page.getByRole('heading', { level: 1, name: m['signin.bank.title'] }).waitFor();
      await page.getByLabel(m['signin.bank.login']).fill('marie');
      await page.getByLabel(m['signin.bank.password']).fill('correct horse');
      await page.getByRole('button', { name: m['signin.bank.submit'] }).click();
      await page.getByRole('heading', { level: 1, name: m['signin.code.title'] }).waitFor();
      await page.getByLabel(m['signin.code.label']).fill('123456');
      await page.getByRole('button', { name: m['signin.code.submit'] }).click();
      await page.getByRole('heading', { level: 1, name: m['consent.title'].replace('{tpp}', 'Budget Buddy') }).waitFor();
      await page.getByLabel(/Compte courant/).check();
      await page.getByRole('button', { name: m['consent.grant'] }).click();
      await page.waitForURL(`${TPP_CALLBACK}**`);
      const callback = new URL(page.url()).searchParams;
      expect(callback.get('error'), callback.toString()).to.equal(null);
      expect(callback.get('state')).to.equal('agent-state-1');
      const res = await agentExchange(server, bank, callback.get('code')!, pair.verifier);
      expect(res.status, res.text).to.equal(200);
      expect(res.body.scope).to.equal('aisp');
      await context.close();
    } finally {
      await chromium.close();
    }
  });
});
