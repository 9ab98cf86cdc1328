/**
 * The OpenAPI document: valid and lint-clean, served as JSON and YAML, adapted to the options,
 * and complete: every route the server answers is in it. Its page to read: view.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';
import YAML from 'yaml';

import { openApiDocument } from '../../lib/openapi/index.js';
import { resolveOptions } from '../../lib/options/index.js';
import { sandboxTpp, testPki } from '../support/pki.js';
import { SANDBOX_PSUS, TestBank } from '../support/psus.js';
import { startServer, testSigningKey, type TestServer } from '../support/server.js';

const run = promisify(execFile);

type Document = { paths: Record<string, Record<string, unknown>>; servers: { url: string }[]; info: { title: string } };

async function bankOptions(overrides: Record<string, unknown> = {}) {
  const pki = await testPki();
  const bank = new TestBank();
  return resolveOptions({
    issuer: 'https://api.bank.example/psd2/oauth2',
    signingKeys: { keys: [testSigningKey()] },
    cookieKeys: ['0123456789abcdef0123456789abcdef'],
    environments: {
      sandbox: { trustAnchors: pki.sandboxRoot.certPem, testPsus: SANDBOX_PSUS },
      bank: { trustAnchors: pki.bankCa.certPem, authenticator: bank, accounts: bank },
    },
    resourceServers: [{ id: 'accounts-api', secret: 'a-resource-server-secret-of-32-chars!' }],
    ...overrides,
  });
}

/** The documented operation answering `method path`, if any. */
function documented(document: Document, method: string, path: string): boolean {
  return Object.entries(document.paths).some(([template, item]) => {
    const pattern = new RegExp(`^${template.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    return pattern.test(path) && method.toLowerCase() in item;
  });
}

function send(url: string, method: string, cert?: { chainPem: string; keyPem: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, rejectUnauthorized: false, ...(cert ? { cert: cert.chainPem, key: cert.keyPem } : {}) }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the OpenAPI document', function openapi() {
  this.timeout(60_000);
  let server: TestServer;
  before(async () => { server = await startServer(); });
  after(() => server.close());

  it('passes redocly lint with the project\'s rules, without warnings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(openApiDocument(await bankOptions())));
      const { stdout, stderr } = await run(join(process.cwd(), 'node_modules', '.bin', 'redocly'), ['lint', file, '--config', join(process.cwd(), 'redocly.yaml')], { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
      const output = `${stdout}${stderr}`;
      expect(output, output).to.match(/valid/i);
      expect(output, output).to.not.match(/\d+ warnings?|\d+ errors?/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is served as JSON and YAML, the same document', async () => {
    const json = await server.request().get('/oauth2/openapi.json');
    expect(json.status).to.equal(200);
    expect(json.headers['content-type']).to.match(/^application\/json/);
    const yaml = await server.request().get('/oauth2/openapi.yaml');
    expect(yaml.status).to.equal(200);
    expect(yaml.headers['content-type']).to.match(/^application\/yaml/);
    expect(YAML.parse(yaml.text)).to.deep.equal(json.body);
    expect(json.body.openapi).to.equal('3.1.0');
    expect(json.body.servers).to.deep.equal([{ url: server.issuer }]);
  });

  it('carries the package\'s version', async () => {
    const { version } = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string };
    expect((openApiDocument(await bankOptions()).info as { version: string }).version).to.equal(version);
  });

  it('adapts to the options: issuer, entry paths, environments and resource servers', async () => {
    const standard = openApiDocument(await bankOptions()) as unknown as Document;
    expect(standard.servers).to.deep.equal([{ url: 'https://api.bank.example/psd2/oauth2' }]);
    expect(standard.paths).to.include.keys('/{lang}/sandbox/signin.html', '/{lang}/banque/oauth2_authorization.aspx', '/introspect');
    const pki = await testPki();
    const custom = openApiDocument(await bankOptions({
      environments: { sandbox: { trustAnchors: pki.sandboxRoot.certPem, testPsus: SANDBOX_PSUS, entryPath: '/sandbox/{lang}/login' } },
      resourceServers: [],
    })) as unknown as Document;
    expect(custom.paths).to.include.keys('/sandbox/{lang}/login');
    expect(custom.paths).to.not.have.keys('/{lang}/banque/oauth2_authorization.aspx');
    expect(JSON.stringify(custom.paths['/introspect'])).to.contain('No resource server is configured');
  });

  it('documents every route the server answers, for every method, with and without a certificate', async () => {
    const document = (await server.request().get('/oauth2/openapi.json')).body as Document;
    const tpp = await sandboxTpp();
    const candidates = new Set<string>([
      ...Object.keys(document.paths).map((template) => template.replace('{lang}', 'en').replace(/\{[^}]+\}/g, 'x')),
      '/auth', '/backchannel', '/device', '/challenge', '/device/auth', '/session/end', '/session/end/success', '/token/introspection',
      '/request', '/reg', '/token/revocation', '/me', '/credential', '/.well-known/openid-credential-issuer', '/.well-known/webfinger',
      '/interaction/x/login', '/interaction/x/abort', '/docs/x', '/authorize/x/y', '/introspection', '/userinfo', '/',
    ]);
    const undocumented: string[] = [];
    for (const path of candidates) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        for (const cert of [undefined, tpp]) {
          const res = await send(`${server.issuer}${path}`, method, cert);
          const notFound = res.status === 404;
          if (!notFound && !documented(document, method, path)) undocumented.push(`${method} ${path} → ${res.status}${cert ? ' (with a certificate)' : ''}`);
        }
      }
    }
    expect(undocumented, undocumented.join('\n')).to.deep.equal([]);
  });
});
