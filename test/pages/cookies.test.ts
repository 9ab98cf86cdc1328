/**
 * The PSU's browser cookies carry this product's own names and live under the mount path only:
 * the bank's origin keeps its own `_session` or `_interaction` cookies, which the server neither
 * reads, sets nor clears.
 */
import { expect } from 'chai';

import { COOKIE_NAMES } from '../../lib/provider/index.js';
import { authorizationUrl, entryPath, exchangeCode, openPages, redirectParams, registerClient, requestParams, submit, pkce } from '../authorization/helpers.js';
import { pagesSuite } from '../support/pages.js';
import { PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { startServer } from '../support/server.js';

interface SetCookie {
  readonly name: string;
  readonly value: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly from: string;
}

/** A PSU browser that records every Set-Cookie it receives. */
function recordingBrowser(headers: Record<string, string> = {}): { browser: PsuBrowser; cookies: SetCookie[] } {
  const browser = new PsuBrowser();
  const cookies: SetCookie[] = [];
  const record = (res: PageResponse): PageResponse => {
    for (const line of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const [pair = '', ...rest] = line.split(';').map((part) => part.trim());
      const attributes = Object.fromEntries(rest.map((part) => {
        const [key = '', value = ''] = part.split('=');
        return [key.toLowerCase(), value];
      }));
      cookies.push({ name: pair.slice(0, pair.indexOf('=')), value: pair.slice(pair.indexOf('=') + 1), attributes, from: new URL(res.url).pathname });
    }
    return res;
  };
  const get = browser.get.bind(browser);
  const post = browser.post.bind(browser);
  browser.get = async (url, extra = {}) => record(await get(url, { ...headers, ...extra }));
  browser.post = async (url, fields, extra = {}) => record(await post(url, fields, { ...headers, ...extra }));
  return { browser, cookies };
}

describe('PSU cookies: names of the product\'s own, scoped to the mount path', function () {
  this.timeout(60_000);
  const { server, sandbox, bank } = pagesSuite();

  it('names them psd2_session, psd2_interaction and psd2_resume (each with its .sig), never _session or _interaction', () => {
    expect(COOKIE_NAMES).to.deep.equal({ session: 'psd2_session', interaction: 'psd2_interaction', resume: 'psd2_resume' });
  });

  for (const environment of ['sandbox', 'bank'] as const) {
    it(`sets only its own cookies through a whole ${environment} authorization, each on a path under /oauth2`, async () => {
      const { browser, cookies } = recordingBrowser();
      const client = environment === 'sandbox' ? sandbox : bank;
      const pair = pkce();
      const params = requestParams(client, {}, pair);
      const first = await openPages(server, browser, authorizationUrl(server, params, entryPath(environment)));
      const uid = new URL(first.url).pathname.split('/').pop()!;
      let page = environment === 'sandbox'
        ? await submit(server, browser, first, '/signin', { psu: 'sandbox-anna' })
        : await submit(server, browser, first, '/signin', { login: 'marie', password: 'correct horse' });
      if (page.text.includes('/second-factor"')) page = await submit(server, browser, page, '/second-factor', { code: '123456' });
      const done = await submit(server, browser, page, '/consent', { decision: 'grant', accounts: [environment === 'sandbox' ? 'sb-anna-1' : 'bk-marie-1'] });
      const code = redirectParams(done.location).get('code');
      expect((await exchangeCode(server, client, code ?? '', pair)).status).to.equal(200);

      const names = new Set(cookies.map((cookie) => cookie.name));
      expect([...names].sort()).to.deep.equal(['psd2_interaction', 'psd2_interaction.sig', 'psd2_resume', 'psd2_resume.sig', 'psd2_session', 'psd2_session.sig']);
      const paths: Record<string, string> = {
        psd2_interaction: `/oauth2/interaction/${uid}`,
        psd2_resume: `/oauth2/authorize/${uid}`,
        psd2_session: '/oauth2',
      };
      for (const cookie of cookies) {
        expect(cookie.attributes.path, `${cookie.name} set by ${cookie.from}`).to.equal(paths[cookie.name.replace(/\.sig$/, '')]);
        expect(cookie.attributes, cookie.name).to.include.keys('secure', 'httponly');
        expect(cookie.attributes.samesite, cookie.name).to.equal('lax');
      }
    });
  }

  it('leaves the bank\'s own _session, _interaction and _interaction_resume cookies on / alone', async () => {
    // The bank's own app, on the same origin, with cookies of oidc-provider's default names.
    const BANK_COOKIES = ['_session', '_session.sig', '_interaction', '_interaction.sig', '_interaction_resume'];
    const host = await startServer({
      beforeMount: (app) => app.get('/bank/home', (_req, res) => {
        res.setHeader('Set-Cookie', BANK_COOKIES.map((name) => `${name}=bank-${name}; Path=/; Secure; HttpOnly`));
        res.send('the bank');
      }),
    });
    try {
      const client = await registerClient(host);
      const { browser, cookies } = recordingBrowser();
      await browser.get(`${host.url}/bank/home`);
      const params = requestParams(client);
      const first = await openPages(host, browser, authorizationUrl(host, params, entryPath('sandbox')));
      const consent = await submit(host, browser, first, '/signin', { psu: 'sandbox-anna' });
      const done = await submit(host, browser, consent, '/consent', { decision: 'grant', accounts: ['sb-anna-1'] });
      expect(redirectParams(done.location).get('code')).to.be.a('string');
      const touched = cookies.filter((cookie) => cookie.from.startsWith('/oauth2') && !cookie.name.startsWith('psd2_'));
      expect(touched, 'no Set-Cookie for a name of the bank').to.deep.equal([]);
      expect(browser.cookieNames).to.include.members(BANK_COOKIES);
    } finally {
      await host.close();
    }
  });
});
