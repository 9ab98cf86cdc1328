import { expect } from 'chai';

import {
  authorizationUrl,
  entryPath,
  exchangeCode,
  pkce,
  redirectParams,
  registerClient,
  requestParams,
  submit,
} from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { pagesSuite } from '../support/pages.js';
import { catalogs, message, openBankConsent, openSandboxConsent, openSignIn, stepOf, watchGrants } from './helpers.js';

const en = catalogs().en;

/** The meanings listed on the consent page, in order. */
function meaningsOf(page: PageResponse): string[] {
  const list = /<ul class="scopes">([\s\S]*?)<\/ul>/.exec(page.text)?.[1] ?? '';
  return [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((match) => match[1] ?? '');
}

/** The buttons of the consent form, as `decision` values. */
function decisionsOf(page: PageResponse): string[] {
  return [...page.text.matchAll(/<button type="submit" name="decision" value="([^"]+)"/g)].map((match) => match[1] ?? '');
}

describe('PSU pages: consent', function consent() {
  const { server, sandbox, bank } = pagesSuite();

  describe('what the PSU is asked', () => {
    it('aisp: the account information meaning, and the 180 days since a refresh token will be issued', async () => {
      const pair = pkce();
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, sandbox, { pair });
      expect(meaningsOf(page)).to.deep.equal([message(en, 'consent.scope.aisp'), message(en, 'consent.duration')]);
      expect(decisionsOf(page)).to.deep.equal(['grant', 'refuse']);
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      const token = await exchangeCode(server, sandbox, redirectParams(done.location).get('code')!, pair);
      expect(token.status, token.text).to.equal(200);
      expect(token.body.refresh_token, 'the 180 days are announced: a refresh token is issued').to.be.a('string');
    });

    it('aisp extended_transaction_history: both meanings', async () => {
      const { page } = await openSandboxConsent(server, new PsuBrowser(), sandbox, { params: { scope: 'aisp extended_transaction_history' } });
      const meanings = meaningsOf(page);
      expect(meanings.slice(0, 2)).to.deep.equal([message(en, 'consent.scope.aisp'), message(en, 'consent.scope.extended_transaction_history')]);
      expect(meanings).to.have.length.at.most(3);
    });

    it('aisp extended_transaction_history: the history beyond 90 days is "allowed once, now", so a refresh does not give it again', async () => {
      const pair = pkce();
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, sandbox, { pair, params: { scope: 'aisp extended_transaction_history' } });
      expect(page.text).to.contain(message(en, 'consent.scope.extended_transaction_history'));
      const announced = meaningsOf(page).includes(message(en, 'consent.duration'));
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      const token = await exchangeCode(server, sandbox, redirectParams(done.location).get('code')!, pair);
      expect(token.status, token.text).to.equal(200);
      expect(String(token.body.scope).split(' ')).to.include('extended_transaction_history');
      expect(typeof token.body.refresh_token === 'string', 'the 180-day line is shown exactly when a refresh token is issued').to.equal(announced);
      if (typeof token.body.refresh_token !== 'string') return;
      const refreshed = await server.request(sandbox.tpp).post('/oauth2/token').type('form').send({
        grant_type: 'refresh_token',
        refresh_token: token.body.refresh_token,
        client_id: sandbox.clientId,
      });
      expect(refreshed.status, refreshed.text).to.equal(200);
      expect(String(refreshed.body.scope).split(' '), 'the PSU was told: "This is allowed once, now."').not.to.include('extended_transaction_history');
    });

    it('aisp extended_transaction_history asked in the other order: the same meanings, aisp first', async () => {
      const { page } = await openSandboxConsent(server, new PsuBrowser(), sandbox, { params: { scope: 'extended_transaction_history aisp' } });
      expect(meaningsOf(page).slice(0, 2)).to.deep.equal([message(en, 'consent.scope.aisp'), message(en, 'consent.scope.extended_transaction_history')]);
    });

    it('cbpii for a PSP_IC client: the funds confirmation meaning', async () => {
      const cbpii = await registerClient(server, { roles: ['PSP_IC'] });
      const pair = pkce();
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, cbpii, { params: { scope: 'cbpii' }, pair });
      const meanings = meaningsOf(page);
      expect(meanings[0]).to.equal(message(en, 'consent.scope.cbpii'));
      expect(meanings).not.to.include(message(en, 'consent.scope.aisp'));
      const announced = meanings.includes(message(en, 'consent.duration'));
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      const token = await exchangeCode(server, cbpii, redirectParams(done.location).get('code')!, pair);
      expect(token.status, token.text).to.equal(200);
      expect(typeof token.body.refresh_token === 'string', 'the 180-day line is shown exactly when a refresh token is issued').to.equal(announced);
    });

    it('no 180-day line for a client without the refresh_token grant, and indeed no refresh token', async () => {
      const shortLived = await registerClient(server, { body: { grant_types: ['authorization_code'] } });
      const pair = pkce();
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, shortLived, { pair });
      expect(meaningsOf(page)).to.deep.equal([message(en, 'consent.scope.aisp')]);
      expect(page.text).not.to.contain(message(en, 'consent.duration'));
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      const token = await exchangeCode(server, shortLived, redirectParams(done.location).get('code')!, pair);
      expect(token.status, token.text).to.equal(200);
      expect(token.body.refresh_token).to.equal(undefined);
    });
  });

  describe('the PSU\'s decision', () => {
    const invalid: [string, readonly string[]][] = [
      ['no account', []],
      ['an account that is not the PSU\'s', ['sb-claire-1']],
      ['an unknown account', ['sb-nobody-9']],
      ['one of the PSU\'s accounts and another one', ['sb-anna-1', 'sb-claire-1']],
    ];
    for (const [name, accounts] of invalid) {
      it(`grant with ${name}: 400, the error, no grant, no redirect`, async () => {
        const grants = watchGrants(server);
        try {
          const browser = new PsuBrowser();
          const { page, params } = await openSandboxConsent(server, browser, sandbox);
          const response = await browser.post(formAction(page, '/consent'), { csrf: csrfOf(page), decision: 'grant', accounts });
          expect(response.status, response.text).to.equal(400);
          expect(response.location).to.equal(undefined);
          expect(response.text).to.contain(message(en, 'consent.accounts.required'));
          expect(stepOf(response)).to.equal('consent');
          expect(grants.ids).to.deep.equal([]);
          // The PSU can still decide.
          const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-2'] });
          const query = redirectParams(done.location);
          expect(query.get('code')).to.be.a('string');
          expect(query.get('state')).to.equal(params.state);
          expect(grants.ids).to.have.length(1);
        } finally {
          grants.stop();
        }
      });
    }

    it('refuse: back to the TPP with access_denied and the state, no grant', async () => {
      const grants = watchGrants(server);
      try {
        const browser = new PsuBrowser();
        const { page, params } = await openSandboxConsent(server, browser, sandbox);
        const response = await browser.post(formAction(page, '/consent'), { csrf: csrfOf(page), decision: 'refuse', accounts: ['sb-anna-1'] });
        expect(response.status).to.equal(303);
        const back = await browser.follow(response, server.url);
        const query = redirectParams(back.location);
        expect(query.get('error')).to.equal('access_denied');
        expect(query.get('state')).to.equal(params.state);
        expect(query.get('code')).to.equal(null);
        expect(grants.ids).to.deep.equal([]);
      } finally {
        grants.stop();
      }
    });

    it('a PSU without accounts sees no grant button, only refuse; a forged grant is refused', async () => {
      const grants = watchGrants(server);
      try {
        const browser = new PsuBrowser();
        const { page, params } = await openBankConsent(server, browser, bank, { login: 'nobody', password: 'no accounts' });
        expect(decisionsOf(page)).to.deep.equal(['refuse']);
        expect(page.text).to.contain(message(en, 'consent.accounts.none'));
        expect(page.text).not.to.contain('name="accounts"');
        const forged = await browser.post(formAction(page, '/consent'), { csrf: csrfOf(page), decision: 'grant' });
        expect(forged.status).to.equal(400);
        expect(grants.ids).to.deep.equal([]);
        const back = await submit(server, browser, page, '/consent', { decision: 'refuse' });
        const query = redirectParams(back.location);
        expect(query.get('error')).to.equal('access_denied');
        expect(query.get('state')).to.equal(params.state);
      } finally {
        grants.stop();
      }
    });
  });

  describe('fresh consent on every authorization', () => {
    it('a second sandbox authorization in the same browser shows the sign-in page again', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, sandbox);
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      expect(redirectParams(done.location).get('code')).to.be.a('string');
      expect(browser.cookieNames).to.include('psd2_session');

      const { page: again } = await openSignIn(server, browser, sandbox);
      expect(again.location).to.equal(undefined);
      expect(stepOf(again)).to.equal('signin');
      expect(again.text).to.contain('value="sandbox-anna"');
    });

    it('a second bank authorization in the same browser asks for the password (and code) again', async () => {
      const browser = new PsuBrowser();
      const { page } = await openBankConsent(server, browser, bank);
      await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['bk-marie-1'] });
      const calls = server.bank.credentialAttempts.length;

      const { page: again } = await openSignIn(server, browser, bank);
      expect(stepOf(again)).to.equal('signin');
      expect(again.text).to.contain('name="password"');
      const secondFactor = await submit(server, browser, again, '/signin', { login: 'marie', password: 'correct horse' });
      expect(stepOf(secondFactor)).to.equal('second-factor');
      expect(server.bank.credentialAttempts).to.have.length(calls + 1);
    });

    for (const [name, earlier] of [['in a fresh browser', false], ['after a completed authorization in the same browser', true]] as const) {
      it(`prompt=none ${name}: no code, login_required (README) with the state`, async () => {
        const browser = new PsuBrowser();
        if (earlier) {
          const { page } = await openSandboxConsent(server, browser, sandbox);
          const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
          expect(redirectParams(done.location).get('code')).to.be.a('string');
        }
        const params = requestParams(sandbox, { prompt: 'none' });
        const response = await browser.follow(await browser.get(authorizationUrl(server, params, entryPath('sandbox'))), server.url);
        const query = redirectParams(response.location);
        expect(query.get('code'), 'no silent authorization').to.equal(null);
        expect(query.get('state')).to.equal(params.state);
        expect(query.get('error'), 'README: "login_required (prompt=none: every authorization needs the PSU)"').to.equal('login_required');
      });
    }
  });

  describe('the grant', () => {
    it('records the PSU, the scope, the chosen accounts and the SCA (bank, with second factor)', async () => {
      const pair = pkce();
      const browser = new PsuBrowser();
      const started = Math.floor(Date.now() / 1000);
      const { page } = await openBankConsent(server, browser, bank, { pair, params: { scope: 'aisp extended_transaction_history' } });
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['bk-marie-2'] });
      const token = await exchangeCode(server, bank, redirectParams(done.location).get('code')!, pair);
      expect(token.status, token.text).to.equal(200);

      const { provider } = server.auth;
      const accessToken = await provider.AccessToken.find(String(token.body.access_token));
      expect(accessToken, 'the access token').not.to.equal(undefined);
      expect(accessToken!.accountId).to.equal('psu-marie');
      const grant = await provider.Grant.find(String(accessToken!.grantId));
      expect(grant, 'the grant').not.to.equal(undefined);
      expect(grant!.accountId).to.equal('psu-marie');
      expect(grant!.clientId).to.equal(bank.clientId);
      expect(grant!.openid?.scope?.split(' ').sort()).to.deep.equal(['aisp', 'extended_transaction_history']);
      const psd2 = (grant as unknown as Record<string, unknown>).psd2 as Record<string, unknown>;
      expect(psd2).to.be.an('object');
      expect(psd2.environment).to.equal('bank');
      expect(psd2.accounts).to.deep.equal([{ id: 'bk-marie-2', iban: 'FR7630004000039876543210987' }]);
      expect(psd2.scaTime).to.be.a('number').within(started - 1, Math.floor(Date.now() / 1000) + 1);
      expect(psd2.amr).to.deep.equal(['pwd', 'otp', 'mfa']);
    });

    it('records the sandbox PSU and the accounts chosen', async () => {
      const pair = pkce();
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, sandbox, { pair });
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1', 'sb-anna-2'] });
      const token = await exchangeCode(server, sandbox, redirectParams(done.location).get('code')!, pair);
      expect(token.status, token.text).to.equal(200);
      const accessToken = await server.auth.provider.AccessToken.find(String(token.body.access_token));
      const grant = await server.auth.provider.Grant.find(String(accessToken!.grantId));
      expect(grant!.accountId).to.equal('sandbox-anna');
      expect(grant!.openid?.scope).to.equal('aisp');
      const psd2 = (grant as unknown as Record<string, unknown>).psd2 as Record<string, unknown>;
      expect(psd2.environment).to.equal('sandbox');
      expect(psd2.accounts).to.deep.equal([
        { id: 'sb-anna-1', iban: 'DE89370400440532013000' },
        { id: 'sb-anna-2', iban: 'DE02120300000000202051' },
      ]);
      expect(Math.abs(Number(psd2.scaTime) - Date.now() / 1000)).to.be.below(60);
      expect(psd2.amr).to.be.an('array');
    });

    it('records the authentication methods the bank reported (no second factor)', async () => {
      const pair = pkce();
      const browser = new PsuBrowser();
      const { page } = await openBankConsent(server, browser, bank, { pair, login: 'lukas', password: 'battery staple' });
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['bk-lukas-1'] });
      const token = await exchangeCode(server, bank, redirectParams(done.location).get('code')!, pair);
      const accessToken = await server.auth.provider.AccessToken.find(String(token.body.access_token));
      const grant = await server.auth.provider.Grant.find(String(accessToken!.grantId));
      expect(grant!.accountId).to.equal('psu-lukas');
      const psd2 = (grant as unknown as Record<string, unknown>).psd2 as Record<string, unknown>;
      expect(psd2.accounts).to.deep.equal([{ id: 'bk-lukas-1', iban: 'DE75512108001245126199' }]);
      expect(psd2.amr).to.deep.equal(['pwd', 'hwk']);
    });
  });

  describe('tokens outlive the browser session', () => {
    it('the browser session ends with the authorization, and the access and refresh tokens still work', async () => {
      const pair = pkce();
      const browser = new PsuBrowser();
      const { page } = await openSandboxConsent(server, browser, sandbox, { pair });
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      const token = await exchangeCode(server, sandbox, redirectParams(done.location).get('code')!, pair);
      expect(token.status, token.text).to.equal(200);
      const { provider } = server.auth;
      const accessToken = await provider.AccessToken.find(String(token.body.access_token));
      expect(accessToken).not.to.equal(undefined);
      expect(accessToken!.expiresWithSession, 'the access token does not expire with the session').not.to.equal(true);

      browser.clearCookies();
      expect(accessToken!.sessionUid, 'the token names its session').to.be.a('string');
      expect(await provider.Session.findByUid(String(accessToken!.sessionUid)), 'the server ended the browser session').to.equal(undefined);

      const still = await provider.AccessToken.find(String(token.body.access_token));
      expect(still, 'the access token is still there').not.to.equal(undefined);
      expect(still!.isExpired).to.equal(false);
      const refresh = await provider.RefreshToken.find(String(token.body.refresh_token));
      expect(refresh, 'the refresh token is still there').not.to.equal(undefined);
      expect(refresh!.expiresWithSession).not.to.equal(true);

      const refreshed = await server.request(sandbox.tpp).post('/oauth2/token').type('form').send({
        grant_type: 'refresh_token',
        refresh_token: String(token.body.refresh_token),
        client_id: sandbox.clientId,
      });
      expect(refreshed.status, refreshed.text).to.equal(200);
      expect(refreshed.body.access_token).to.be.a('string');
    });
  });
});
