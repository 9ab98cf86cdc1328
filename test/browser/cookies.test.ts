/**
 * The PSU's cookies as Chromium keeps them: this product's own names, on paths under the mount
 * path, next to the bank's own cookies of oidc-provider's default names on `/`, which survive the
 * authorization untouched.
 */
import { expect } from 'chai';
import type { Cookie } from 'playwright-core';

import { CATALOGS } from '../../interactions/i18n.js';
import { authorizationUrl, entryPath, exchangeCode, pkce, requestParams, suiteClient } from '../authorization/helpers.js';
import { TPP_CALLBACK } from '../support/browser.js';
import { suiteChromium } from '../support/pages.js';
import { suiteServer } from '../support/suite.js';

const BANK_COOKIES = ['_session', '_interaction', '_interaction_resume'];

describe('PSU cookies in Chromium', function () {
  this.timeout(60_000);
  const server = suiteServer({
    beforeMount: (app) => app.get('/bank/home', (_req, res) => {
      res.setHeader('Set-Cookie', BANK_COOKIES.map((name) => `${name}=bank-${name}; Path=/; Secure; HttpOnly; SameSite=Lax`));
      res.type('text/plain').send('the bank');
    }),
  });
  const chromium = suiteChromium();
  const client = suiteClient(server, { environment: 'bank', body: { client_name: 'Budget Buddy' } });

  const byName = (cookies: Cookie[]) => Object.fromEntries(cookies.map((cookie) => [cookie.name, cookie]));

  it('keeps psd2_interaction, psd2_resume and psd2_session under /oauth2, and the bank\'s own cookies on / unchanged', async () => {
    const context = await chromium.open();
    const page = await context.newPage();
    await page.goto(`${server.url}/bank/home`);
    const pair = pkce();
    const params = requestParams(client, {}, pair);
    await page.goto(authorizationUrl(server, params, entryPath('bank', 'en')));
    const m = CATALOGS.en;
    await page.getByRole('heading', { level: 1, name: m['signin.bank.title'] }).waitFor();

    const uid = new URL(page.url()).pathname.split('/').pop()!;
    const during = byName(await context.cookies());
    expect(during.psd2_interaction?.path).to.equal(`/oauth2/interaction/${uid}`);
    expect(during['psd2_interaction.sig']?.path).to.equal(`/oauth2/interaction/${uid}`);
    expect(during.psd2_resume?.path).to.equal(`/oauth2/authorize/${uid}`);
    for (const name of ['psd2_interaction', 'psd2_resume']) {
      expect(during[name], name).to.include({ secure: true, httpOnly: true, sameSite: 'Lax' });
    }

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
    expect(callback.get('state')).to.equal(params.state);
    expect((await exchangeCode(server, client, callback.get('code') ?? '', pair)).status).to.equal(200);

    const after = await context.cookies();
    const ours = after.filter((cookie) => !BANK_COOKIES.includes(cookie.name));
    expect(ours.map((cookie) => cookie.name).every((name) => name.startsWith('psd2_')), JSON.stringify(ours)).to.equal(true);
    for (const cookie of ours) expect(cookie.path === '/oauth2' || cookie.path.startsWith('/oauth2/'), `${cookie.name} on ${cookie.path}`).to.equal(true);
    expect(byName(after).psd2_session?.path).to.equal('/oauth2');
    expect(byName(after).psd2_resume, 'the resume cookie is cleared once used').to.equal(undefined);
    for (const name of BANK_COOKIES) {
      expect(byName(after)[name], name).to.include({ value: `bank-${name}`, path: '/' });
    }
    await context.close();
  });
});
