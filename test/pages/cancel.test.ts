/**
 * "Cancel and return to …": on every page of the PSU's way, consent and payment included, where it
 * answers as refusing does; on an error page only where the authorization is still open, and never
 * leading anywhere but the client's registered redirect URI.
 */
import { expect } from 'chai';

import { authorizationUrl, entryPath, redirectParams, requestParams, submit } from '../authorization/helpers.js';
import { decide, decisionsOffered, expectDenied, expectOutcome, paymentPage, toldOnce } from '../payments/harness.js';
import { request } from '../payments/helpers.js';
import { pagesSuite, paymentsSuite } from '../support/pages.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { catalogs, expectSecurePage, message, openBankConsent, openSandboxConsent, openSignIn, stepOf, TPP_ORIGIN, watchGrants } from './helpers.js';

const en = catalogs().en;

/** The action of the page's "Cancel and return to …" form, if it has one. */
function cancelActionOf(page: PageResponse): string | undefined {
  return /<form method="post" action="([^"]*)" class="cancel">/.exec(page.text)?.[1];
}

/** What the TPP is told, by the redirect back to it. */
function toldTpp(back: PageResponse): { error: string | null; description: string | null; state: string | null; code: string | null } {
  const query = redirectParams(back.location);
  return { error: query.get('error'), description: query.get('error_description'), state: query.get('state'), code: query.get('code') };
}

/** Nothing on the page leads away from the server: no form posts elsewhere, no link leaves it. */
function expectNoWayOut(page: PageResponse): void {
  expect(cancelActionOf(page), 'no cancel form').to.equal(undefined);
  expect(page.text).not.to.contain('name="csrf"');
  for (const [, href] of page.text.matchAll(/<a href="([^"]*)"/g)) {
    expect(new URL((href ?? '').replace(/&amp;/g, '&'), page.url).origin, `${href} stays on the server`).to.equal(new URL(page.url).origin);
  }
}

describe('PSU pages: cancel and return to the TPP', function cancel() {
  this.timeout(30_000);

  describe('on the consent page', () => {
    const { server, sandbox, bank } = pagesSuite();

    /** The consent page of a fresh PSU browser, in `environment`. */
    const consentPage = async (environment: 'sandbox' | 'bank') => {
      const browser = new PsuBrowser();
      const opened = environment === 'sandbox' ? await openSandboxConsent(server, browser, sandbox) : await openBankConsent(server, browser, bank);
      return { browser, ...opened };
    };

    for (const environment of ['sandbox', 'bank'] as const) {
      it(`is offered on the ${environment} consent page and answers as "refuse" does: access_denied with the state, no grant`, async () => {
        const grants = watchGrants(server);
        try {
          const cancelled = await consentPage(environment);
          expect(cancelled.page.text).to.contain(message(en, 'page.cancel', { tpp: 'Acme Money' }));
          expect(cancelActionOf(cancelled.page)).to.match(/\/interaction\/[\w-]+\/cancel$/);
          await expectSecurePage(cancelled.page, { formTarget: TPP_ORIGIN });
          const viaCancel = toldTpp(await submit(server, cancelled.browser, cancelled.page, '/cancel', {}));
          const refused = await consentPage(environment);
          const viaRefuse = toldTpp(await submit(server, refused.browser, refused.page, '/consent', { decision: 'refuse' }));
          expect(viaCancel).to.deep.equal({ error: 'access_denied', description: 'the PSU refused access', state: cancelled.params.state, code: null });
          expect(viaRefuse).to.deep.equal({ ...viaCancel, state: refused.params.state });
          expect(grants.ids, 'no grant saved').to.deep.equal([]);
        } finally {
          grants.stop();
        }
      });
    }
  });

  describe('on the payment page', () => {
    const { server, client, outcomes } = paymentsSuite();
    /** Lukas's account at the bank: Anna, the sandbox PSU who signs in, does not hold it. */
    const LUKAS = 'DE75 5121 0800 1245 1261 99';

    it('is offered beside confirm and reject, and rejects the payment: access_denied with the state, the bank told "rejected"', async () => {
      const opened = await server.auth.payments.openInitiation(request(client, { state: 'cancel-on-payment' }));
      const { browser, page } = await paymentPage(server, opened.url);
      expect(page.text).to.contain(message(en, 'page.cancel', { tpp: 'Pay Now' }));
      expect(decisionsOffered(page)).to.deep.equal(['grant', 'refuse']);
      expectDenied(await submit(server, browser, page, '/cancel', {}), 'cancel-on-payment');
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'rejected', psuId: 'sandbox-anna' });
    });

    it('is offered on the page saying the PSU does not hold the account to debit, and rejects the payment', async () => {
      const opened = await server.auth.payments.openInitiation(request(client, { state: 'cancel-not-held', payment: { ...request(client).payment, debtorAccount: LUKAS } }));
      const { browser, page } = await paymentPage(server, opened.url);
      const notHeld = await decide(server, browser, page, { decision: 'grant' });
      expect(notHeld.status, notHeld.text).to.equal(403);
      expect(cancelActionOf(notHeld)).to.match(/\/cancel$/);
      expectDenied(await submit(server, browser, notHeld, '/cancel', {}), 'cancel-not-held');
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'rejected', psuId: 'sandbox-anna' });
    });
  });

  describe('on error pages', () => {
    const { server, sandbox } = pagesSuite();

    it('a form refused for its token offers it, back to the registered redirect URI with access_denied and the state', async () => {
      const browser = new PsuBrowser();
      const { page, params } = await openSignIn(server, browser, sandbox);
      const refused = await browser.post(formAction(page, '/signin'), { csrf: 'A'.repeat(43), psu: 'sandbox-anna' });
      expect(refused.status, refused.text).to.equal(403);
      expect(refused.text).to.contain(message(en, 'page.cancel', { tpp: 'Acme Money' }));
      await expectSecurePage(refused, { formTarget: TPP_ORIGIN });
      expect(csrfOf(refused), 'the interaction\'s own token').to.equal(csrfOf(page));
      const back = toldTpp(await submit(server, browser, refused, '/cancel', {}));
      expect(back).to.deep.equal({ error: 'access_denied', description: 'the PSU cancelled the sign-in', state: params.state, code: null });
    });

    it('an expired or unknown interaction offers none, and no way off the server', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, sandbox);
      const elsewhere = await new PsuBrowser().get(page.url);
      expect(elsewhere.status).to.equal(400);
      expectNoWayOut(elsewhere);
      const unknown = await browser.post(`${server.issuer}/interaction/unknown-interaction/cancel`, { csrf: csrfOf(page) });
      expect(unknown.status).to.equal(400);
      expectNoWayOut(unknown);
      expect(stepOf(await browser.get(page.url)), 'the PSU\'s own page is untouched').to.equal('signin');
    });

    for (const [name, change] of [
      ['an unknown client', { client_id: 'no-such-client' }],
      ['a redirect URI the client did not register', { redirect_uri: 'https://attacker.example/cb' }],
    ] as const) {
      it(`an authorization request with ${name} offers none, and no way off the server`, async () => {
        const page = await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, change), entryPath('sandbox')));
        expect(page.status, page.text).to.equal(400);
        expect(page.location).to.equal(undefined);
        expectNoWayOut(page);
        expect(page.text).not.to.match(/(?:href|action)="https:\/\/attacker\.example/);
      });
    }

    it('a form too large to be read offers none: its page leads back to the step', async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, sandbox);
      const tooLarge = await browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), psu: 'x'.repeat(20_000) });
      expect(tooLarge.status).to.equal(413);
      expect(cancelActionOf(tooLarge), 'no cancel form').to.equal(undefined);
      expectNoWayOut(tooLarge);
      expect(tooLarge.text).to.contain(`href="${new URL(page.url).pathname}"`);
      expect(tooLarge.text, 'and to the step in another language').to.contain(`href="${new URL(page.url).pathname}?lang=fr"`);
    });
  });
});
