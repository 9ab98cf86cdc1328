/**
 * The pages under the conditions real browsers and attackers create: concurrent sign-in attempts,
 * double clicks and reloads after the decision, two customers in one browser, registrations
 * trying to smuggle header syntax, and clients of an environment the server no longer serves.
 */
import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import type { CredentialsAttempt, CredentialsResult, SecondFactorAttempt, SecondFactorResult } from '../../lib/index.js';
import {
  authorizationUrl,
  entryPath,
  exchangeCode,
  openPages,
  redirectParams,
  registerClient,
  requestParams,
  sandboxAuthorization,
  submit,
  REDIRECT_URI,
} from '../authorization/helpers.js';
import { expectError } from '../registration/helpers.js';
import { sandboxTpp, testPki } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser } from '../support/psu-browser.js';
import { BANK_CUSTOMERS, SANDBOX_PSUS, TestBank } from '../support/psus.js';
import { eachTestServer, testEnvironments } from '../support/pages.js';
import { startServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';

/**
 * A bank that can hold its calls: posts sent at once reach it together, and it answers them once
 * every post has either been answered without it or is waiting at it, whatever the machine's pace.
 */
class HoldingBank extends TestBank {
  #held: (() => void)[] = [];
  #holding = false;
  #arrived: () => void = () => undefined;

  override async verifyCredentials(attempt: CredentialsAttempt): Promise<CredentialsResult> {
    await this.#hold();
    return super.verifyCredentials(attempt);
  }

  override async verifySecondFactor(attempt: SecondFactorAttempt): Promise<SecondFactorResult> {
    await this.#hold();
    return super.verifySecondFactor(attempt);
  }

  #hold(): Promise<void> {
    if (!this.#holding) return Promise.resolve();
    return new Promise((resolve) => {
      this.#held.push(resolve);
      this.#arrived();
    });
  }

  /** Sends every post at once; the bank answers those that reach it when the others are answered. */
  async overlapping<T>(posts: readonly (() => Promise<T>)[]): Promise<T[]> {
    let answered = 0;
    const check = () => {
      if (!this.#holding || answered + this.#held.length < posts.length) return;
      this.#holding = false;
      for (const release of this.#held.splice(0)) release();
    };
    this.#holding = true;
    this.#arrived = check;
    return Promise.all(posts.map((post) => post().finally(() => {
      answered += 1;
      check();
    })));
  }
}

describe('PSU pages: robustness', function robustness() {
  this.timeout(30_000);

  describe('sign-in limits under concurrent attempts', () => {
    let bank: HoldingBank;
    // A fresh server per test: the attempts of one test use up the address's allowance.
    const server = eachTestServer(async () => {
      bank = new HoldingBank([...BANK_CUSTOMERS, { login: 'otto', password: 'pw', code: '999999', psuId: 'psu-otto', accounts: [] }]);
      return { options: { environments: await testEnvironments(bank) } };
    });

    it('lets no more than the allowed passwords reach the bank when 30 are posted at once', async () => {
      const client = await registerClient(server, { environment: 'bank' });
      const browser = new PsuBrowser();
      const page = await openPages(server, browser, authorizationUrl(server, requestParams(client), entryPath('bank')));
      const action = formAction(page, '/signin');
      const csrf = csrfOf(page);
      const answers = await bank.overlapping(Array.from({ length: 30 }, (_, i) => () => browser.post(action, { csrf, login: 'marie', password: `guess ${i}` })));
      expect(bank.credentialAttempts.filter((attempt) => attempt.login === 'marie')).to.have.length(5);
      expect(answers.filter((answer) => answer.status === 429).length).to.be.at.least(25);
    });

    it('lets no more than the allowed one-time codes reach the bank when 30 are posted at once', async () => {
      const client = await registerClient(server, { environment: 'bank' });
      const browser = new PsuBrowser();
      const signIn = await openPages(server, browser, authorizationUrl(server, requestParams(client), entryPath('bank')));
      const codePage = await submit(server, browser, signIn, '/signin', { login: 'otto', password: 'pw' });
      expect(codePage.status, codePage.text).to.equal(200);
      const action = formAction(codePage, '/second-factor');
      const csrf = csrfOf(codePage);
      const codes = Array.from({ length: 30 }, (_, i) => String(100000 + i));
      codes[25] = '999999';
      const answers = await bank.overlapping(codes.map((code) => () => browser.post(action, { csrf, code })));
      // The password counted as one attempt; four codes are left for this window.
      expect(bank.secondFactorAttempts).to.have.length(4);
      expect(answers.filter((answer) => answer.status === 303)).to.have.length(0);
    });
  });

  describe('after the PSU decided', () => {
    const server = suiteServer();

    it('a second click on grant, a reload or a language link carry on to the TPP instead of starting over', async () => {
      const client = await registerClient(server);
      const browser = new PsuBrowser();
      const params = requestParams(client);
      const signIn = await openPages(server, browser, authorizationUrl(server, params, entryPath('sandbox')));
      const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
      const fields = { csrf: csrfOf(consent), decision: 'grant', accounts: 'sb-anna-1' };
      const first = await browser.post(formAction(consent, '/consent'), fields);
      expect(first.status).to.equal(303);
      const second = await browser.post(formAction(consent, '/consent'), fields);
      expect(second.status, second.text).to.equal(303);
      expect(second.location).to.equal(first.location);
      const reload = await browser.get(consent.url);
      expect(reload.status).to.equal(303);
      expect(reload.location).to.equal(first.location);
      const language = await browser.get(`${consent.url}?lang=fr`);
      expect(language.location).to.equal(first.location);
      const back = await browser.follow(second, server.url);
      expect(redirectParams(back.location).get('state')).to.equal(params.state);
      expect(redirectParams(back.location).get('code')).to.be.a('string');
    });

    it('a cancel cannot be undone by posting again', async () => {
      const client = await registerClient(server);
      const browser = new PsuBrowser();
      const params = requestParams(client);
      const signIn = await openPages(server, browser, authorizationUrl(server, params, entryPath('sandbox')));
      const cancel = await browser.post(formAction(signIn, '/cancel'), { csrf: csrfOf(signIn) });
      const again = await browser.post(formAction(signIn, '/signin'), { csrf: csrfOf(signIn), psu: 'sandbox-anna' });
      expect(again.location).to.equal(cancel.location);
      const back = await browser.follow(again, server.url);
      expect(redirectParams(back.location).get('error')).to.equal('access_denied');
    });

    it('two customers one after the other in the same browser both reach the TPP with a code', async () => {
      const client = await registerClient(server);
      const browser = new PsuBrowser();
      for (const psuId of ['sandbox-anna', 'sandbox-claire']) {
        const accounts = psuId === 'sandbox-anna' ? ['sb-anna-1'] : ['sb-claire-1'];
        const { location, pair } = await sandboxAuthorization(server, client, { browser, psuId, accounts });
        const code = redirectParams(location).get('code');
        expect(code, `${psuId}: ${location}`).to.be.a('string');
        const token = await exchangeCode(server, client, code!, pair);
        expect(token.status).to.equal(200);
        const access = await server.auth.provider.AccessToken.find(token.body.access_token);
        expect(access?.accountId).to.equal(psuId);
      }
    });

    it('a refresh token lives as long as the consent it renews', async () => {
      const client = await registerClient(server);
      const { location, pair } = await sandboxAuthorization(server, client);
      const token = await exchangeCode(server, client, redirectParams(location).get('code')!, pair);
      const refresh = await server.auth.provider.RefreshToken.find(token.body.refresh_token);
      const grant = await server.auth.provider.Grant.find(refresh!.grantId!);
      expect(refresh!.exp).to.be.within(grant!.exp! - 5, grant!.exp!);
      expect(grant!.exp! - Math.floor(Date.now() / 1000)).to.be.above(179 * 24 * 3600);
    });
  });

  describe('registrations that would put header syntax into the pages', () => {
    const server = suiteServer();

    for (const uri of ['https://tpp.example;sandbox/cb', 'https://tpp.example,x/cb', 'https://tpp.example%3B/cb']) {
      it(`refuses the redirect URI ${uri}`, async () => {
        const res = await server.request(await sandboxTpp()).post('/oauth2/register').send({ redirect_uris: [uri], client_name: 'Acme' });
        expectError(res, 400, 'invalid_redirect_uri', /host/);
      });
    }

    it('refuses a logo whose host carries CSP syntax', async () => {
      const res = await server.request(await sandboxTpp()).post('/oauth2/register')
        .send({ redirect_uris: [REDIRECT_URI], client_name: 'Acme', 'logo_uri#fr': 'https://cdn.example;script-src/logo.png' });
      expectError(res, 400, 'invalid_client_metadata', /logo_uri#fr/);
    });
  });

  describe('a client of an environment the server no longer serves', () => {
    it('is sent back to the TPP with invalid_request, not shown a page it cannot use', async () => {
      const storage = new MemoryStorage();
      const both = await startServer({ options: { storage } });
      const client = await registerClient(both, { environment: 'bank' });
      await both.close();
      const pki = await testPki();
      const sandboxOnly = await startServer({
        options: { storage, environments: { sandbox: { trustAnchors: pki.sandboxRoot.certPem, requireQualifiedStatements: false, testPsus: SANDBOX_PSUS } } },
      });
      try {
        const params = requestParams(client);
        const res = await new PsuBrowser().get(authorizationUrl(sandboxOnly, params));
        const back = redirectParams(res.location);
        expect(back.get('error')).to.equal('invalid_request');
        expect(back.get('error_description')).to.match(/bank environment/);
        expect(back.get('state')).to.equal(params.state);
      } finally {
        await sandboxOnly.close();
      }
    });
  });
});
