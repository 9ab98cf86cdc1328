/**
 * The PSU's way through the pages in real Chromium: from the TPP's authorization URL to the tokens,
 * through the sandbox and the bank sign-in, in German, English and French.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';

import type { Language } from '../../lib/index.js';
import { CATALOGS } from '../../interactions/i18n.js';
import { authorizationUrl, entryPath, exchangeCode, pkce, requestParams, suiteClient } from '../authorization/helpers.js';
import { screenshot, TPP_CALLBACK } from '../support/browser.js';
import { suiteChromium } from '../support/pages.js';
import { suiteServer } from '../support/suite.js';

const LANGUAGES: Language[] = ['de', 'en', 'fr'];

/** Waits for the PSU to arrive back at the TPP, and returns the callback's parameters. */
async function backAtTpp(page: Page): Promise<URLSearchParams> {
  await page.waitForURL(`${TPP_CALLBACK}**`);
  return new URL(page.url()).searchParams;
}

describe('PSU pages in Chromium', function () {
  this.timeout(60_000);
  const server = suiteServer();
  const chromium = suiteChromium();
  const sandboxClient = suiteClient(server, { environment: 'sandbox', body: { client_name: 'Acme Money', 'client_name#fr': 'Acme Argent', 'client_name#de': 'Acme Geld' } });
  const bankClient = suiteClient(server, { environment: 'bank', body: { client_name: 'Budget Buddy' } });

  for (const language of LANGUAGES) {
    const m = CATALOGS[language];

    it(`sandbox (${language}): choose a test customer, grant one account, and the TPP gets tokens`, async () => {
      const context = await chromium.open();
      const page = await context.newPage();
      const pair = pkce();
      const params = requestParams(sandboxClient, { scope: 'aisp extended_transaction_history' }, pair);
      await page.goto(authorizationUrl(server, params, entryPath('sandbox', language)));

      await expect(await page.getAttribute('html', 'lang')).to.equal(language);
      await page.getByRole('heading', { level: 1, name: m['signin.sandbox.title'] }).waitFor();
      expect(await page.getByRole('note').textContent()).to.equal(m['page.sandboxBanner']);
      await screenshot(page, `sandbox-signin-${language}`);
      await page.getByLabel('Claire Martin').check();
      await page.getByRole('button', { name: m['signin.sandbox.submit'] }).click();

      const name = { de: 'Acme Geld', en: 'Acme Money', fr: 'Acme Argent' }[language];
      await page.getByRole('heading', { level: 1, name: m['consent.title'].replace('{tpp}', name) }).waitFor();
      expect(await page.locator('ul.scopes li').allTextContents()).to.deep.equal([
        m['consent.scope.aisp'],
        m['consent.scope.extended_transaction_history'],
        m['consent.duration'],
      ]);
      await page.getByLabel(/Compte courant/).check();
      await screenshot(page, `consent-${language}`);
      await page.getByRole('button', { name: m['consent.grant'] }).click();

      const callback = await backAtTpp(page);
      expect(callback.get('state')).to.equal(params.state);
      const token = await exchangeCode(server, sandboxClient, callback.get('code') ?? '', pair);
      expect(token.status, token.text).to.equal(200);
      expect(token.body.scope.split(' ').sort()).to.deep.equal(['aisp', 'extended_transaction_history']);
      expect(token.body.refresh_token).to.be.a('string');
      await context.close();
    });

    it(`bank (${language}): sign in with password and one-time code, choose accounts, and the TPP gets tokens`, async () => {
      const context = await chromium.open();
      const page = await context.newPage();
      const pair = pkce();
      const params = requestParams(bankClient, {}, pair);
      await page.goto(authorizationUrl(server, params, entryPath('bank', language)));

      await page.getByRole('heading', { level: 1, name: m['signin.bank.title'] }).waitFor();
      expect(await page.getByRole('note').count(), 'no sandbox banner on the bank page').to.equal(0);
      await screenshot(page, `bank-signin-${language}`);
      await page.getByLabel(m['signin.bank.login']).fill('marie');
      await page.getByLabel(m['signin.bank.password']).fill('correct horse');
      await page.getByRole('button', { name: m['signin.bank.submit'] }).click();

      await page.getByRole('heading', { level: 1, name: m['signin.code.title'] }).waitFor();
      await screenshot(page, `second-factor-${language}`);
      await page.getByLabel(m['signin.code.label']).fill('123456');
      await page.getByRole('button', { name: m['signin.code.submit'] }).click();

      await page.getByRole('heading', { level: 1, name: m['consent.title'].replace('{tpp}', 'Budget Buddy') }).waitFor();
      await page.getByLabel(/Compte courant/).check();
      await page.getByLabel(/Livret/).check();
      await screenshot(page, `bank-consent-${language}`);
      await page.getByRole('button', { name: m['consent.grant'] }).click();

      const callback = await backAtTpp(page);
      expect(callback.get('state')).to.equal(params.state);
      const token = await exchangeCode(server, bankClient, callback.get('code') ?? '', pair);
      expect(token.status, token.text).to.equal(200);
      expect(token.body.scope).to.equal('aisp');
      const access = await server.auth.provider.AccessToken.find(token.body.access_token);
      const grant = await server.auth.provider.Grant.find(access?.grantId ?? '');
      expect((grant as unknown as { psd2: { accounts: { id: string }[] } }).psd2.accounts.map((a) => a.id)).to.deep.equal(['bk-marie-1', 'bk-marie-2']);
      await context.close();
    });
  }

  it('refusal: the PSU refuses at the consent page and the TPP receives access_denied with its state', async () => {
    const context = await chromium.open();
    const page = await context.newPage();
    const params = requestParams(sandboxClient);
    await page.goto(authorizationUrl(server, params, entryPath('sandbox', 'fr')));
    const m = CATALOGS.fr;
    await page.getByLabel('Anna Schmidt').check();
    await page.getByRole('button', { name: m['signin.sandbox.submit'] }).click();
    await page.getByRole('button', { name: m['consent.refuse'] }).click();
    const callback = await backAtTpp(page);
    expect(callback.get('error')).to.equal('access_denied');
    expect(callback.get('state')).to.equal(params.state);
    expect(callback.get('code')).to.equal(null);
    await context.close();
  });

  it('cancel at the consent page: "Cancel and return" refuses, and the TPP receives access_denied with its state', async () => {
    const context = await chromium.open();
    const page = await context.newPage();
    const params = requestParams(sandboxClient);
    await page.goto(authorizationUrl(server, params, entryPath('sandbox', 'de')));
    const m = CATALOGS.de;
    await page.getByLabel('Anna Schmidt').check();
    await page.getByRole('button', { name: m['signin.sandbox.submit'] }).click();
    await page.getByRole('heading', { level: 1, name: m['consent.title'].replace('{tpp}', 'Acme Geld') }).waitFor();
    await page.getByRole('button', { name: m['page.cancel'].replace('{tpp}', 'Acme Geld') }).click();
    const callback = await backAtTpp(page);
    expect(callback.get('error')).to.equal('access_denied');
    expect(callback.get('error_description')).to.equal('the PSU refused access');
    expect(callback.get('state')).to.equal(params.state);
    await context.close();
  });

  it('a refused form: its page leads to the step in another language, and its "Cancel and return" goes back to the TPP', async () => {
    const context = await chromium.open();
    const page = await context.newPage();
    const params = requestParams(sandboxClient);
    await page.goto(authorizationUrl(server, params, entryPath('sandbox', 'en')));
    await page.getByLabel('Anna Schmidt').check();
    // A form token that is not the interaction's, as a form posted from elsewhere would carry.
    await page.locator('form[action$="/signin"] input[name="csrf"]').evaluate((input: { value: string }) => {
      input.value = 'A'.repeat(43);
    });
    await page.getByRole('button', { name: CATALOGS.en['signin.sandbox.submit'] }).click();
    await page.getByRole('heading', { level: 1, name: CATALOGS.en['error.form.title'] }).waitFor();
    const french = page.getByRole('link', { name: CATALOGS.fr['language.fr'] });
    expect(new URL(await french.getAttribute('href') ?? '', page.url()).searchParams.get('lang')).to.equal('fr');
    await page.getByRole('button', { name: CATALOGS.en['page.cancel'].replace('{tpp}', 'Acme Money') }).click();
    const callback = await backAtTpp(page);
    expect(callback.get('error')).to.equal('access_denied');
    expect(callback.get('state')).to.equal(params.state);
    await context.close();
  });

  it('failed login: a wrong password shows the error next to the form, the identifier is kept, and the PSU can still succeed or cancel', async () => {
    const context = await chromium.open();
    const page = await context.newPage();
    const params = requestParams(bankClient);
    await page.goto(authorizationUrl(server, params, entryPath('bank', 'de')));
    const m = CATALOGS.de;
    await page.getByLabel(m['signin.bank.login']).fill('lukas');
    await page.getByLabel(m['signin.bank.password']).fill('wrong password');
    await page.getByRole('button', { name: m['signin.bank.submit'] }).click();

    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).to.contain(m['signin.bank.failed']);
    expect(await page.getByLabel(m['signin.bank.login']).inputValue()).to.equal('lukas');
    expect(await page.getByLabel(m['signin.bank.password']).getAttribute('aria-invalid')).to.equal('true');
    expect(await page.locator('#form-error:focus').count(), 'focus moves to the error').to.equal(1);
    await screenshot(page, 'bank-signin-failed-de');

    await page.getByRole('button', { name: m['page.cancel'].replace('{tpp}', 'Budget Buddy') }).click();
    const callback = await backAtTpp(page);
    expect(callback.get('error')).to.equal('access_denied');
    expect(callback.get('state')).to.equal(params.state);
    await context.close();
  });

  it('works without JavaScript and with the keyboard alone: focus starts on the first field', async () => {
    const context = await chromium.open({ javaScriptEnabled: false });
    const page = await context.newPage();
    const pair = pkce();
    const params = requestParams(bankClient, {}, pair);
    await page.goto(authorizationUrl(server, params, entryPath('bank', 'en')));
    // The page puts the focus on the identifier field by itself.
    await page.locator('#login:focus').waitFor();
    await page.keyboard.type('lukas');
    await page.keyboard.press('Tab');
    await page.keyboard.type('battery staple');
    await page.keyboard.press('Enter');
    const m = CATALOGS.en;
    await page.locator('#account-0:focus').waitFor();
    await page.getByRole('heading', { level: 1, name: m['consent.title'].replace('{tpp}', 'Budget Buddy') }).waitFor();
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: m['consent.grant'] }).focus();
    // Without JavaScript the browser's request to the TPP is observed rather than answered.
    const back = page.waitForRequest((request) => request.url().startsWith(TPP_CALLBACK));
    await page.keyboard.press('Enter');
    const callback = new URL((await back).url()).searchParams;
    const token = await exchangeCode(server, bankClient, callback.get('code') ?? '', pair);
    expect(token.status, token.text).to.equal(200);
    await context.close();
  });

  it('an invalid request shows a localized error page, with no link carrying the request, and stays on the server', async () => {
    const context = await chromium.open();
    const page = await context.newPage();
    const params = requestParams(sandboxClient, { redirect_uri: 'https://attacker.example/cb' });
    const response = await page.goto(authorizationUrl(server, params, entryPath('sandbox', 'fr')));
    expect(response?.status()).to.equal(400);
    await page.getByRole('heading', { level: 1, name: CATALOGS.fr['error.title'] }).waitFor();
    expect(new URL(page.url()).origin).to.equal(server.url);
    await screenshot(page, 'error-fr');
    expect(await page.getByRole('link').count(), 'no link carries the untrusted request').to.equal(0);
    await context.close();
  });
});
