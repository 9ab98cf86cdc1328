/**
 * The pages' stylesheets are files of the server's own, which every page links to: the package's,
 * and the bank's `pages.stylesheet` when it has one. Each is named by a hash of its text and kept
 * by browsers for good; nothing else is served under their path.
 */
import { createHash } from 'node:crypto';

import { expect } from 'chai';
import supertest from 'supertest';

import { STYLESHEET } from '../../interactions/views/style.js';
import { pagesSuite } from '../support/pages.js';
import { testPki } from '../support/pki.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { startServer } from '../support/server.js';
import { expectStylesheet, openSignIn, stylesheetLinks } from './helpers.js';

const BANK_CSS = 'header.bar{background:#5a1e6e}\n.card{border-color:#5a1e6e}\n';

/** The path of the stylesheet of `css` on a test server (mounted at /oauth2). */
function pathOf(css: string): string {
  return `/oauth2/interaction/assets/${createHash('sha256').update(css).digest('hex').slice(0, 20)}.css`;
}

describe('PSU pages: stylesheets', function stylesheets() {
  describe('without a bank stylesheet', () => {
    const { server, sandbox } = pagesSuite();

    it('a page links to the package stylesheet alone, which GET serves as CSS to keep for good', async () => {
      const { page } = await openSignIn(server, new PsuBrowser(), sandbox);
      const links = stylesheetLinks(page);
      expect(links.map((href) => new URL(href).pathname)).to.deep.equal([pathOf(STYLESHEET)]);
      expect(await expectStylesheet(links[0]!)).to.equal(STYLESHEET);
      // Checked against the OpenAPI document too.
      const res = await server.request().get(pathOf(STYLESHEET));
      expect(res.status).to.equal(200);
      expect(res.headers['set-cookie'], 'no cookie').to.equal(undefined);
      expect(res.headers['strict-transport-security']).to.match(/^max-age=31536000/);
    });

    it('HEAD gets the same headers and no body', async () => {
      const res = await supertest(server.url).head(pathOf(STYLESHEET)).ca((await testPki()).serverCa.certPem);
      expect(res.status).to.equal(200);
      expect(res.headers['content-type']).to.equal('text/css; charset=utf-8');
      expect(res.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['cross-origin-resource-policy']).to.equal('same-origin');
      expect(res.headers['content-length']).to.equal(String(Buffer.byteLength(STYLESHEET)));
      expect(res.text ?? '').to.equal('');
    });

    it('serves its own file alone: any other name under its path, or another method, gets the pages\' 404', async () => {
      const real = pathOf(STYLESHEET);
      expect((await server.request().get(real)).status).to.equal(200);
      for (const path of [pathOf('anything else'), real.replace(/[0-9a-f]+\.css$/, (name) => name.toUpperCase()), `${real}x`, `${real}/x`, pathOf(BANK_CSS)]) {
        const res = await server.request().get(path);
        expect(res.status, path).to.equal(404);
        expect(res.headers['content-type'], path).to.match(/^text\/html/);
        expect(res.headers['cache-control'], path).to.equal('no-store');
      }
      for (const method of ['post', 'put', 'delete'] as const) {
        const res = await server.request()[method](real);
        expect(res.status, method).to.equal(404);
        expect(res.headers['content-type'], method).to.match(/^text\/html/);
      }
    });
  });

  describe('with a bank stylesheet', () => {
    const { server, sandbox } = pagesSuite({ options: { pages: { stylesheet: BANK_CSS } } });

    it('a page links to the package stylesheet, then to the bank\'s, each served as CSS', async () => {
      const { page } = await openSignIn(server, new PsuBrowser(), sandbox);
      const links = stylesheetLinks(page);
      expect(links.map((href) => new URL(href).pathname)).to.deep.equal([pathOf(STYLESHEET), pathOf(BANK_CSS)]);
      expect(await expectStylesheet(links[1]!)).to.equal(BANK_CSS);
      expect((await server.request().get(pathOf(BANK_CSS))).status).to.equal(200);
    });

    it('serves the bank\'s text as it is: a file of its own holds no markup to break out of', async () => {
      const hostile = 'header.bar{background:#000}</style><script>alert(1)</script>';
      const other = await startServer({ options: { pages: { stylesheet: hostile } } });
      try {
        const res = await other.request().get(pathOf(hostile));
        expect(res.status).to.equal(200);
        expect(res.text).to.equal(hostile);
        expect(res.headers['content-type']).to.equal('text/css; charset=utf-8');
      } finally {
        await other.close();
      }
    });
  });
});
