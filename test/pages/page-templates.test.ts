/**
 * Pages drawn once per step, language and TPP and filled in per PSU: two PSUs of one TPP get the
 * same page but for their own interaction and form token, each form works for its own PSU only,
 * and what one PSU left on a page (an error) never reaches another's.
 */
import { expect } from 'chai';

import { exchangeCode, pkce, redirectParams, submit } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { pagesSuite } from '../support/pages.js';
import { openBankConsent, openSandboxConsent, openSignIn, stepOf } from './helpers.js';

/** The interaction id in the page's form actions. */
function uidOf(page: PageResponse): string {
  const uid = /action="[^"]*\/interaction\/([^/?"]+)\//.exec(page.text)?.[1];
  expect(uid, 'an interaction in the form actions').to.be.a('string');
  return uid!;
}

/** The page with its interaction id and form token taken out. */
function withoutPsu(page: PageResponse): string {
  return page.text.split(uidOf(page)).join('{uid}').split(csrfOf(page)).join('{csrf}');
}

describe('PSU pages drawn once and filled in per PSU', function templates() {
  const { server, sandbox, bank } = pagesSuite();

  for (const [environment, client] of [['sandbox', () => sandbox], ['bank', () => bank]] as const) {
    it(`${environment} sign-in: two PSUs get the same page, each with their own interaction and form token`, async () => {
      const first = await openSignIn(server, new PsuBrowser(), client());
      const second = await openSignIn(server, new PsuBrowser(), client());
      expect(uidOf(first.page)).not.to.equal(uidOf(second.page));
      expect(csrfOf(first.page)).not.to.equal(csrfOf(second.page));
      expect(withoutPsu(second.page)).to.equal(withoutPsu(first.page));
      for (const page of [first.page, second.page]) {
        const uid = uidOf(page);
        expect(formAction(page, '/signin')).to.contain(`/interaction/${uid}/signin`);
        expect([...page.text.matchAll(/href="([^"]+)"/g)].map((match) => match[1]).filter((href) => href?.includes('lang='))).to.satisfy(
          (links: string[]) => links.length > 0 && links.every((href) => href.includes(`/interaction/${uid}?lang=`)),
        );
      }
    });
  }

  it('consent: the second PSU gets the page filled in for them, and grants with it', async () => {
    await openSandboxConsent(server, new PsuBrowser(), sandbox);
    const pair = pkce();
    const browser = new PsuBrowser();
    const { page } = await openSandboxConsent(server, browser, sandbox, { pair });
    const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
    expect(done.status, done.text).to.equal(303);
    const token = await exchangeCode(server, sandbox, redirectParams(done.location).get('code')!, pair);
    expect(token.status, token.text).to.equal(200);
  });

  it("one PSU's form token does not work on another's page", async () => {
    const first = await openSignIn(server, new PsuBrowser(), sandbox);
    const browser = new PsuBrowser();
    const second = await openSignIn(server, browser, sandbox);
    const forged = { ...second.page, text: second.page.text.split(csrfOf(second.page)).join(csrfOf(first.page)) };
    const refused = await submit(server, browser, forged, '/signin', { psu: 'sandbox-anna' });
    expect(refused.status).to.equal(403);
  });

  it("an error one PSU left on the page does not reach the next PSU's page", async () => {
    const browser = new PsuBrowser();
    const { page } = await openSignIn(server, browser, bank);
    const failed = await submit(server, browser, page, '/signin', { login: 'marie', password: 'wrong' });
    expect(failed.status).to.equal(401);
    const next = await openSignIn(server, new PsuBrowser(), bank);
    expect(next.page.status).to.equal(200);
    expect(next.page.text).not.to.contain('role="alert"');
    expect(withoutPsu(next.page)).to.equal(withoutPsu(page));
    const consent = await openBankConsent(server, new PsuBrowser(), bank);
    expect(stepOf(consent.page)).to.equal('consent');
  });

});
