/**
 * The pages' styles in real Chromium: the stylesheets are files the pages link to, which the CSP
 * allows and the browser applies, and keeps: the next page does not fetch them again. Chromium
 * trusts the test server's certificate here, as a PSU's browser trusts the bank's: it caches
 * nothing from a server whose certificate errors it only ignores.
 */
import { expect } from 'chai';
import type express from 'express';
import type { Page } from 'playwright-core';

import { CATALOGS } from '../../interactions/i18n.js';
import { authorizationUrl, entryPath, requestParams, suiteClient } from '../authorization/helpers.js';
import { suiteChromium } from '../support/pages.js';
import { suiteServer } from '../support/suite.js';

const m = CATALOGS.en;
const BANK_CSS = 'header.bar{background:#5a1e6e}\n';

interface StyledElement {
  readonly ownerDocument: {
    readonly defaultView: { getComputedStyle(element: StyledElement): { readonly backgroundColor: string } };
    readonly styleSheets: ArrayLike<{ readonly href: string | null }>;
  };
}

/**
 * Records the paths of the stylesheet requests the server receives; the host app answers the
 * browser's favicon request, as a bank's site does (its 404 would be reported on the console).
 */
function stylesheetRequests(requests: string[]): (app: express.Express) => void {
  return (app) => {
    app.get('/favicon.ico', (_req, res) => res.status(204).end());
    app.use((req, _res, next) => {
      if (req.path.startsWith('/oauth2/interaction/assets/')) requests.push(`${req.method} ${req.path}`);
      next();
    });
  };
}

/** What the page applies: the header bar's background, the body's, and where each stylesheet came from. */
async function stylesOf(page: Page): Promise<{ header: string; body: string; sheets: (string | null)[] }> {
  const header = page.locator('header.bar');
  return {
    header: await header.evaluate((element: StyledElement) => element.ownerDocument.defaultView.getComputedStyle(element).backgroundColor),
    body: await page.locator('body').evaluate((element: StyledElement) => element.ownerDocument.defaultView.getComputedStyle(element).backgroundColor),
    sheets: await header.evaluate((element: StyledElement) => Array.from(element.ownerDocument.styleSheets, (sheet) => sheet.href)),
  };
}

/**
 * Opens the sandbox sign-in page, signs in as Claire Martin and waits for the consent page; `check`
 * looks at each. What the console reports is returned. The profile routes no request: Playwright
 * turns Chromium's cache off for a profile that does, and the TPP is not reached here.
 */
async function signInAndConsent(chromium: ReturnType<typeof suiteChromium>, url: string, check: (page: Page) => Promise<void>): Promise<string[]> {
  const context = await chromium.browser.newContext({ locale: 'en-GB' });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // A style refused by the policy is reported on the console.
    page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text()); });
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: m['signin.sandbox.title'] }).waitFor();
    await check(page);
    await page.getByLabel('Claire Martin').check();
    await page.getByRole('button', { name: m['signin.sandbox.submit'] }).click();
    await page.getByRole('heading', { level: 1, name: m['consent.title'].replace('{tpp}', 'Acme Money') }).waitFor();
    await check(page);
    return errors;
  } finally {
    await context.close();
  }
}

const CASES = [
  { title: 'styles the sign-in and consent pages from the package stylesheet\'s file, fetched once, with nothing refused', stylesheet: undefined, header: 'rgb(11, 58, 111)', files: 1 },
  { title: 'applies the bank\'s stylesheet after the package\'s, each from its file fetched once, with nothing refused', stylesheet: BANK_CSS, header: 'rgb(90, 30, 110)', files: 2 },
];

describe('PSU page styles in Chromium', function () {
  this.timeout(60_000);
  const chromium = suiteChromium({ trustTestServer: true });

  for (const { title, stylesheet, header, files } of CASES) {
    describe(stylesheet ? 'with a bank stylesheet' : 'without a bank stylesheet', () => {
      const requests: string[] = [];
      const server = suiteServer({ beforeMount: stylesheetRequests(requests), ...(stylesheet ? { options: { pages: { stylesheet } } } : {}) });
      const client = suiteClient(server);

      it(title, async () => {
        requests.length = 0;
        const errors = await signInAndConsent(chromium, authorizationUrl(server, requestParams(client), entryPath('sandbox', 'en')), async (page) => {
          const styles = await stylesOf(page);
          // The package's brand colour (#0b3a6f) or the bank's (#5a1e6e); the package's page background (#f3f5f8).
          expect(styles.header, 'the header bar\'s background').to.equal(header);
          expect(styles.body, 'the page background').to.equal('rgb(243, 245, 248)');
          expect(styles.sheets.map((href) => href && new URL(href).pathname), 'the stylesheets are the files fetched').to.deep.equal(requests.map((request) => request.replace(/^GET /, '')));
        });
        expect(errors, errors.join('\n')).to.deep.equal([]);
        expect(requests, 'each fetched by the first page, kept for the next').to.have.length(files);
        for (const request of requests) expect(request).to.match(/^GET \/oauth2\/interaction\/assets\/[0-9a-f]+\.css$/);
      });
    });
  }
});
