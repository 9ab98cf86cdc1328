/**
 * The OpenAPI document's page to read (`/docs`): built by the server from the same document,
 * every operation by tag with its parameters, bodies, responses and schemas; no script, nothing
 * loaded from elsewhere, text from the document escaped; readable offline in Chromium.
 */
import { createHash } from 'node:crypto';

import { expect } from 'chai';

import { documentView } from '../../lib/openapi/view/page.js';
import { launchChromium } from '../support/browser.js';
import { startServer, type TestServer } from '../support/server.js';

type Document = {
  info: { title: string; version: string };
  paths: Record<string, Record<string, { operationId?: string }>>;
  components: { schemas: Record<string, unknown> };
};

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** What the test reads of an element in the browser. */
interface PageElement {
  readonly ownerDocument: { readonly defaultView: { getComputedStyle(element: PageElement): { readonly backgroundColor: string } } };
}

/** `METHOD path` of every operation of the document, in its order. */
function operationsOf(document: Document): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) => METHODS.filter((method) => method in item).map((method) => `${method.toUpperCase()} ${path}`));
}

/** The page's text with its tags removed and its entities read back, as a reader sees it. */
function textOf(page: string): string {
  return page.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, '\'').replace(/&#96;/g, '`').replace(/&amp;/g, '&');
}

/** The page's markup alone: attribute values emptied, so that only real tags and attributes are left to match. */
function markupOf(page: string): string {
  return page.replace(/"[^"]*"/g, '""');
}

/** Whether the page holds a script, an embedded resource, or an event handler attribute. */
const ACTIVE = /<(?:script|link|img|iframe|object|embed)\b|<[^>]*\son[a-z]+=/i;

describe('the OpenAPI document\'s page', function view() {
  this.timeout(60_000);
  let server: TestServer;
  let document: Document;
  before(async () => {
    server = await startServer();
    document = (await server.request().get('/oauth2/openapi.json')).body as Document;
  });
  after(() => server?.close());

  it('is HTML under a policy that runs no script and allows only its own inline style, by hash', async () => {
    const res = await server.request().get('/oauth2/docs');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    const policy = String(res.headers['content-security-policy']);
    expect(policy).to.contain('default-src \'none\'').and.contain('frame-ancestors \'none\'').and.contain('base-uri \'none\'');
    expect(policy).to.not.match(/script-src|unsafe-inline|unsafe-eval|\*/);
    const styles = [...res.text.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => match[1]!);
    expect(styles).to.have.length(1);
    expect(policy).to.contain(`style-src 'sha256-${createHash('sha256').update(styles[0]!).digest('base64')}'`);
    expect(markupOf(res.text)).to.not.match(ACTIVE);
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['x-frame-options']).to.equal('DENY');
  });

  it('lists every operation of the document by tag, every path, and links to the JSON and YAML documents', async () => {
    const page = (await server.request().get('/oauth2/docs')).text;
    const text = textOf(page);
    expect(text).to.contain(document.info.title).and.contain(`Version ${document.info.version}`);
    expect(page).to.contain('href="/oauth2/openapi.json"').and.contain('href="/oauth2/openapi.yaml"');
    const operations = operationsOf(document);
    expect(operations.length).to.be.above(10);
    expect(page.match(/<article class="operation"/g)).to.have.length(operations.length);
    for (const operation of operations) expect(text, operation).to.contain(operation);
    for (const path of Object.keys(document.paths)) expect(page, path).to.contain(`<code class="path">${path}</code>`);
    for (const tag of ['Metadata', 'Registration', 'Authorization', 'PSU pages', 'Tokens']) expect(page).to.contain(`<h2>${tag}</h2>`);
    for (const name of Object.keys(document.components.schemas)) expect(page, name).to.contain(`id="schema-${name}"`);
  });

  it('shows parameters, request bodies, responses and schemas, references linked to what they name', async () => {
    const page = (await server.request().get('/oauth2/docs')).text;
    const text = textOf(page);
    const token = page.slice(page.indexOf('id="op-token"'), page.indexOf('</article>', page.indexOf('id="op-token"')));
    expect(textOf(token)).to.contain('Request body').and.contain('application/x-www-form-urlencoded').and.contain('authorization_code')
      .and.contain('code_verifier').and.contain('Responses').and.contain('Refresh token has expired').and.contain('Retry-After');
    expect(token).to.contain('href="#schema-TokenResponse"').and.contain('href="#security-mutualTLS"');
    expect(text).to.contain('Parameters').and.contain('code_challenge_method').and.contain('"S256"');
    expect(text).to.contain('https URIs (http on loopback hosts in the sandbox)');
    expect(page).to.contain('href="#response-NotFound"');
    const anchors = new Set([...page.matchAll(/\sid="([^"]+)"/g)].map((match) => match[1]));
    const links = [...page.matchAll(/href="#([^"]+)"/g)].map((match) => match[1]);
    expect(links.length).to.be.above(50);
    expect(links.filter((link) => !anchors.has(link)), 'links to nothing').to.deep.equal([]);
  });

  it('escapes every text of the document: descriptions, names and examples are never markup', () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'`';
    const page = documentView({
      openapi: '3.1.0',
      info: { title: hostile, version: hostile, description: `**${hostile}** \`${hostile}\`` },
      servers: [{ url: hostile }],
      tags: [{ name: hostile, description: hostile }],
      paths: { [`/${hostile}`]: { get: { tags: [hostile], operationId: hostile, summary: hostile, parameters: [{ name: hostile, in: 'query', schema: { enum: [hostile], pattern: hostile } }], responses: { 200: { description: hostile, content: { [hostile]: { schema: { $ref: `#/components/schemas/${hostile}` }, examples: { [hostile]: { value: hostile } } } } } } } } },
      components: { schemas: { [hostile]: { type: 'object', properties: { [hostile]: { const: hostile, description: hostile } } } } },
    }, { json: hostile, yaml: hostile });
    expect(markupOf(page)).to.not.match(ACTIVE);
    expect(textOf(page)).to.contain(hostile);
  });

  it('can be read offline in a browser: nothing is loaded but the page, nothing is refused, every operation shows', async () => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const requested: string[] = [];
      await context.route('**/*', (route) => {
        requested.push(route.request().url());
        return route.request().url().startsWith(server.url) ? route.continue() : route.abort();
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // A stylesheet refused by the policy is reported on the console.
      page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
      await page.goto(`${server.issuer}/docs`);
      expect(await page.locator('h1').textContent()).to.contain('PSD2 OAuth 2 authorization server');
      expect(await page.locator('article.operation').count()).to.equal(operationsOf(document).length);
      // The inline stylesheet applies: methods are coloured badges.
      const badge = await page.locator('.method-post').first().evaluate((element: PageElement) => element.ownerDocument.defaultView.getComputedStyle(element).backgroundColor);
      expect(badge).to.equal('rgb(11, 92, 173)');
      await page.locator('a[href="#schema-TokenResponse"]').first().click();
      expect(new URL(page.url()).hash).to.equal('#schema-TokenResponse');
      expect(requested, requested.join('\n')).to.deep.equal([`${server.issuer}/docs`]);
      expect(errors, errors.join('\n')).to.deep.equal([]);
      await context.close();
    } finally {
      await browser.close();
    }
  });
});
