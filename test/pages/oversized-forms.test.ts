/**
 * PSU page forms larger than the pages accept (16 KiB): refused before they are read with a page
 * in the PSU's language, `413`, and a way back to the step; the interaction carries on.
 */
import { connect } from 'node:tls';

import { expect } from 'chai';

import { BODY_LIMITS } from '../../lib/body-limits.js';
import { authorizationUrl, entryPath, openPages, requestParams, submit } from '../authorization/helpers.js';
import { testPki } from '../support/pki.js';
import { pagesSuite, suiteChromium } from '../support/pages.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { catalogs, expectSecurePage, htmlLang, message, stepOf } from './helpers.js';

const { de, fr } = catalogs();

/** What the test touches of a form element in the page (the DOM types are not in this project's lib). */
interface PageForm {
  readonly ownerDocument: { createElement(tag: 'input'): { type: string; name: string; value: string } };
  appendChild(node: unknown): unknown;
}

describe('PSU page forms over the pages\' limit', function oversizedForms() {
  this.timeout(60_000);
  const { server, bank } = pagesSuite();

  it('get a page in the PSU\'s language (413) leading back to the step, and the sign-in carries on', async () => {
    const browser = new PsuBrowser('fr-FR,fr;q=0.9');
    const signIn = await openPages(server, browser, authorizationUrl(server, requestParams(bank), entryPath('bank', 'fr')));
    const action = formAction(signIn, '/signin');
    const refused = await browser.post(action, { csrf: csrfOf(signIn), login: 'marie', password: 'p'.repeat(BODY_LIMITS.pageForm) });
    expect(refused.status, refused.text).to.equal(413);
    server.openApi.checkResponse('POST', new URL(action).pathname, refused);
    await expectSecurePage(refused);
    expect(refused.headers['strict-transport-security']).to.equal('max-age=31536000; includeSubDomains');
    expect(htmlLang(refused)).to.equal('fr');
    expect(refused.text).to.contain(message(fr, 'error.form.title'));
    expect(refused.text).to.contain(message(fr, 'error.form'));
    expect(refused.text).to.contain('the request body is larger than this endpoint accepts (16 KiB)');
    const back = /<a href="([^"]+)">/.exec(refused.text)?.[1];
    expect(back).to.equal(new URL(action).pathname.replace(/\/signin$/, ''));

    const again = await browser.get(new URL(back!, server.url).href);
    expect(again.status).to.equal(200);
    expect(stepOf(again)).to.equal('signin');
    const next = await submit(server, browser, again, '/signin', { login: 'marie', password: 'correct horse' });
    expect(stepOf(next)).to.equal('second-factor');
  });

  it('are refused as well when sent chunked', async () => {
    const browser = new PsuBrowser('de');
    const signIn: PageResponse = await openPages(server, browser, authorizationUrl(server, requestParams(bank), entryPath('bank', 'de')));
    const action = new URL(formAction(signIn, '/signin'));
    const pki = await testPki();
    const socket = connect({ host: 'localhost', port: Number(action.port), servername: 'localhost', ca: pki.serverCa.certPem });
    let text = '';
    socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const body = `csrf=${encodeURIComponent(csrfOf(signIn))}&login=marie&password=${'p'.repeat(BODY_LIMITS.pageForm)}`;
    socket.write(`POST ${action.pathname} HTTP/1.1\r\nHost: ${action.host}\r\nContent-Type: application/x-www-form-urlencoded\r\n`
      + `Accept-Language: de\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`);
    await closed;
    expect(text).to.match(/^HTTP\/1\.1 413 /);
    expect(text).to.match(/\r\ncontent-type: text\/html; charset=utf-8\r\n/i);
    expect(text).to.contain(message(de, 'error.form.title'));
  });

  describe('in Chromium', () => {
    const chromium = suiteChromium();

    it('a form made too large shows the page, whose link leads back to the sign-in', async () => {
      const context = await chromium.open({ locale: 'de-DE' });
      const page = await context.newPage();
      await page.goto(authorizationUrl(server, requestParams(bank), entryPath('bank', 'de')));
      await page.getByRole('heading', { level: 1, name: de['signin.bank.title']! }).waitFor();
      // What a PSU could paste into the form: 20 KB more than it holds.
      await page.locator('form[action$="/signin"]').evaluate((form: PageForm, size: number) => {
        const input = form.ownerDocument.createElement('input');
        input.type = 'hidden';
        input.name = 'pasted';
        input.value = 'x'.repeat(size);
        form.appendChild(input);
      }, BODY_LIMITS.pageForm + 4096);
      await page.getByLabel(de['signin.bank.login']!).fill('marie');
      await page.getByLabel(de['signin.bank.password']!).fill('correct horse');
      const [response] = await Promise.all([
        page.waitForResponse((candidate) => candidate.url().endsWith('/signin')),
        page.locator('form[action$="/signin"] button[type="submit"]').click(),
      ]);
      expect(response.status()).to.equal(413);
      await page.getByRole('heading', { level: 1, name: de['error.form.title']! }).waitFor();
      await page.getByRole('link', { name: de['error.continue']! }).click();
      await page.getByRole('heading', { level: 1, name: de['signin.bank.title']! }).waitFor();
      await context.close();
    });
  });
});
