import { expect } from 'chai';

import { submit } from '../authorization/helpers.js';
import { MemoryStorage } from '../../adapters/memory.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { pagesSuite } from '../support/pages.js';
import { catalogs, expectSecurePage, message, openSignIn, stepOf, watchGrants } from './helpers.js';

const en = catalogs().en;

/** The expired-session page: 400, nobody redirected. */
async function expectExpired(page: PageResponse): Promise<void> {
  expect(page.status, page.text).to.equal(400);
  expect(page.location, 'no redirect').to.equal(undefined);
  expect(page.text).to.contain(message(en, 'error.expired.title'));
  expect(page.text).not.to.contain('name="csrf"');
  await expectSecurePage(page);
}

describe('PSU pages: an interaction that expired', function expiry() {
  let clock = Date.now();
  const { server, sandbox, bank } = pagesSuite({ options: { storage: new MemoryStorage({ now: () => clock }) } });

  beforeEach(() => {
    clock = Date.now();
  });

  it('still works just before the 600 s are over', async () => {
    const browser = new PsuBrowser();
    const { page } = await openSignIn(server, browser, sandbox);
    clock += 590_000;
    const again = await browser.get(page.url);
    expect(again.status).to.equal(200);
    expect(stepOf(again)).to.equal('signin');
  });

  it('sign-in page: GET and POST show the expired page once 600 s are over, and nothing is asked', async () => {
    const browser = new PsuBrowser();
    const { page } = await openSignIn(server, browser, bank);
    clock += 601_000;
    await expectExpired(await browser.get(page.url));
    const calls = server.bank.credentialAttempts.length;
    await expectExpired(await browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), login: 'lukas', password: 'battery staple' }));
    expect(server.bank.credentialAttempts).to.have.length(calls);
    await expectExpired(await browser.post(formAction(page, '/cancel'), { csrf: csrfOf(page) }));
  });

  it('consent page: GET and POST show the expired page, no grant, no redirect to the TPP', async () => {
    const grants = watchGrants(server);
    try {
      const browser = new PsuBrowser();
      const { page: signIn } = await openSignIn(server, browser, sandbox);
      const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
      expect(stepOf(consent)).to.equal('consent');
      clock += 601_000;
      await expectExpired(await browser.get(consent.url));
      const granted = await browser.post(formAction(consent, '/consent'), { csrf: csrfOf(consent), decision: 'grant', accounts: ['sb-anna-1'] });
      await expectExpired(granted);
      const refused = await browser.post(formAction(consent, '/consent'), { csrf: csrfOf(consent), decision: 'refuse' });
      await expectExpired(refused);
      expect(grants.ids).to.deep.equal([]);
    } finally {
      grants.stop();
    }
  });

  it('second-factor page: the POST shows the expired page and the code is not checked', async () => {
    const browser = new PsuBrowser();
    const { page: signIn } = await openSignIn(server, browser, bank);
    const secondFactor = await submit(server, browser, signIn, '/signin', { login: 'marie', password: 'correct horse' });
    expect(stepOf(secondFactor)).to.equal('second-factor');
    clock += 601_000;
    const factors = server.bank.secondFactorAttempts.length;
    await expectExpired(await browser.post(formAction(secondFactor, '/second-factor'), { csrf: csrfOf(secondFactor), code: '123456' }));
    expect(server.bank.secondFactorAttempts).to.have.length(factors);
  });

  it('a language link on an expired page leads to the expired page too', async () => {
    const browser = new PsuBrowser();
    const { page } = await openSignIn(server, browser, sandbox);
    clock += 601_000;
    await expectExpired(await browser.get(`${page.url}?lang=en`));
  });
});
