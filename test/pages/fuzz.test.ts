/**
 * Property tests of the PSU pages: whatever a browser (or anyone) posts to them, at whatever step,
 * the answer is never a 5xx, never a stack trace, and never a redirect anywhere but the server's
 * own pages or the client's registered redirect URI.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { openPages, REDIRECT_URI, authorizationUrl, entryPath, requestParams, submit } from '../authorization/helpers.js';
import { LEAK } from '../support/leak.js';
import { pagesSuite, testEnvironments } from '../support/pages.js';
import { csrfOf, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { TestBank } from '../support/psus.js';
import type { TestServer } from '../support/server.js';


const ACTIONS = ['signin', 'second-factor', 'consent', 'cancel', '', 'unknown', '../authorize', '%2e%2e'] as const;

const value = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', 'grant', 'refuse', 'sandbox-anna', 'sb-anna-1', 'bk-marie-1', 'marie', 'correct horse', '123456', '<script>', '\u0000', '__proto__', 'x'.repeat(5000)),
).filter((text) => !LEAK.test(text));

const field = fc.constantFrom('csrf', 'psu', 'login', 'password', 'code', 'decision', 'accounts', 'accounts[]', '__proto__', 'constructor', 'lang');

const body = fc.array(fc.tuple(field, value), { maxLength: 8 });

function checkAnswer(server: TestServer, res: PageResponse, what: string): void {
  const context = `${what} → ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, context).to.be.below(500);
  expect(res.text, `leak: ${context}`).not.to.match(LEAK);
  if (res.location) {
    const inside = res.location.startsWith(`${server.issuer}/interaction/`) || res.location.startsWith(`${server.issuer}/authorize/`);
    const toClient = res.location.startsWith(`${REDIRECT_URI}?`);
    expect(inside || toClient, `redirect to ${res.location}: ${context}`).to.equal(true);
  }
}

describe('PSU pages under random and hostile input', function () {
  this.timeout(60_000);
  // Limits high enough that random failed sign-ins never lock the steps this test starts from.
  const many = { attempts: 1_000_000, windowSeconds: 60 };
  const { server, sandbox, bank } = pagesSuite(async () => ({ options: { environments: await testEnvironments(new TestBank(), { loginLimits: { perPsu: many, perIp: many } }) } }));

  /** A page at one step of an authorization, and the browser that holds its cookie. */
  async function pageAt(step: 'sandbox' | 'bank' | 'second-factor' | 'consent'): Promise<{ browser: PsuBrowser; page: PageResponse }> {
    const browser = new PsuBrowser();
    const client = step === 'sandbox' ? sandbox : bank;
    let page = await openPages(server, browser, authorizationUrl(server, requestParams(client), entryPath(client.environment)));
    if (step === 'second-factor' || step === 'consent') page = await submit(server, browser, page, '/signin', { login: 'marie', password: 'correct horse' });
    if (step === 'consent') page = await submit(server, browser, page, '/second-factor', { code: '123456' });
    return { browser, page };
  }

  it('answers any form posted at any step of the sandbox and bank pages without a 5xx or a foreign redirect', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom('sandbox', 'bank', 'second-factor', 'consent') as fc.Arbitrary<'sandbox' | 'bank' | 'second-factor' | 'consent'>,
      fc.constantFrom(...ACTIONS),
      body,
      fc.boolean(),
      async (step, action, fields, withCsrf) => {
        const { browser, page } = await pageAt(step);
        const uid = new URL(page.url).pathname.split('/').pop();
        const form = new URLSearchParams();
        if (withCsrf) form.append('csrf', csrfOf(page));
        for (const [name, text] of fields) form.append(name, text);
        const target = `${server.issuer}/interaction/${uid}${action ? `/${action}` : ''}`;
        const res = await browser.post(target, Object.fromEntries([...new Set(form.keys())].map((key) => [key, form.getAll(key)])));
        checkAnswer(server, res, `${step} POST ${action} ${JSON.stringify(fields).slice(0, 200)}`);
        const after = await browser.follow(res, server.url);
        checkAnswer(server, after, `${step} then GET`);
      },
    ), { numRuns: 120 });
  });

  it('answers random interaction ids, paths and languages without a 5xx', async () => {
    await fc.assert(fc.asyncProperty(
      fc.string({ maxLength: 60 }),
      fc.constantFrom('GET', 'POST'),
      async (suffix, method) => {
        const browser = new PsuBrowser();
        const path = `${server.issuer}/interaction/${encodeURIComponent(suffix)}${method === 'GET' ? `?lang=${encodeURIComponent(suffix)}` : '/signin'}`;
        const res = method === 'GET' ? await browser.get(path) : await browser.post(path, { csrf: suffix });
        checkAnswer(server, res, `${method} ${path}`);
        expect(res.status, path).to.be.oneOf([400, 403, 404]);
        expect(res.headers['content-type'], path).to.match(/^text\/html/);
      },
    ), { numRuns: 100 });
  });

  it('keeps a half-done authorization usable after hostile posts: the PSU can still finish it', async () => {
    const { browser, page } = await pageAt('consent');
    const uid = new URL(page.url).pathname.split('/').pop();
    for (const fields of fc.sample(body, 20)) {
      const form = new Map<string, string[]>();
      for (const [name, text] of fields) form.set(name, [...(form.get(name) ?? []), text]);
      checkAnswer(server, await browser.post(`${server.issuer}/interaction/${uid}/consent`, Object.fromEntries(form)), 'hostile consent post');
    }
    const again = await browser.get(`${server.issuer}/interaction/${uid}`);
    expect(again.status).to.equal(200);
    const done = await submit(server, browser, again, '/consent', { decision: 'grant', accounts: ['bk-marie-1'] });
    expect(done.location).to.match(new RegExp(`^${REDIRECT_URI}\\?code=`));
  });
});
