import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';
import supertest from 'supertest';

import { pkce } from '../authorization/helpers.js';
import { createOpenApiValidator, type OpenApiValidator } from '../support/openapi.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';

const run = promisify(execFile);
const API_SECRET = 'walkthrough-api-secret-0123456789abcdef';
const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) resolve(output);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`example app exited with ${code}:\n${output}`)));
  });
}

describe('the example app walk-through (README)', function walkthrough() {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess;
  let port: number;
  let startup: string;
  let openApi: OpenApiValidator | undefined;

  /** The app at `path`, every answer held to the app's own OpenAPI document. */
  const app = (method: 'get' | 'post', path: string) => {
    const test = supertest(`https://localhost:${port}`)[method](path);
    return path.startsWith('/oauth2/') ? test.expect((res) => openApi?.checkResponse(method.toUpperCase(), path, res)) : test;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dev-pki-'));
    port = await freePort();
    child = spawn(tsx, ['example-app/server.ts'], {
      env: { ...process.env, PORT: String(port), DEV_PKI_DIR: dir, RESOURCE_SERVER_CREDENTIALS: `psd2-api:${API_SECRET}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The last line printed at start-up when the development PKI is in use.
    startup = await waitForLine(child, /mint a TPP certificate: .*\n/);
    const document = await supertest(`https://localhost:${port}`).get('/oauth2/openapi.json').ca(readFileSync(join(dir, 'server-ca.pem'), 'utf8'));
    openApi = createOpenApiValidator(document.body as Record<string, unknown>, '/oauth2');
  });

  after(() => {
    child?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with no configuration, generating a development PKI and saying where', () => {
    expect(startup).to.contain(`generated the development PKI and keys in ${dir}`);
    expect(startup).to.contain('never use them in production');
    expect(startup).to.contain(`https://localhost:${port}/oauth2/.well-known/oauth-authorization-server`);
  });

  it('mints a TPP certificate and registers a client with it over mutual TLS', async () => {
    const { stdout } = await run(tsx, ['example-app/tpp-cert.ts', '--roles', 'PSP_AI,PSP_PI', '--org', 'Acme'], {
      env: { ...process.env, DEV_PKI_DIR: dir, PORT: String(port) },
    });
    expect(stdout).to.contain('organizationIdentifier: PSDFR-NCA-ACME');
    const cert = readFileSync(join(dir, 'sandbox-acme.pem'), 'utf8');
    const key = readFileSync(join(dir, 'sandbox-acme-key.pem'), 'utf8');
    const ca = readFileSync(join(dir, 'server-ca.pem'), 'utf8');

    const res = await app('post', '/oauth2/register')
      .ca(ca).cert(cert).key(key)
      .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Acme' });
    expect(res.status).to.equal(201);
    expect(res.body.provider_legal_id).to.equal('PSDFR-NCA-ACME');
    expect(res.body.psd2_environment).to.equal('sandbox');
    expect(res.body.scope).to.equal('aisp extended_transaction_history pisp');
    expect(res.body.grant_types).to.have.members(['authorization_code', 'refresh_token', 'client_credentials']);
  });

  /** Walks the README's "Send a PSU through the pages" with a client of `env`; returns the token response. */
  async function psuWalk(env: 'sandbox' | 'bank', steps: (browser: PsuBrowser, page: PageResponse) => Promise<PageResponse>): Promise<supertest.Response> {
    const org = `Walk ${env}`;
    await run(tsx, ['example-app/tpp-cert.ts', '--roles', 'PSP_AI', '--org', org, '--env', env], { env: { ...process.env, DEV_PKI_DIR: dir } });
    const slug = org.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    const cert = readFileSync(join(dir, `${env}-${slug}.pem`), 'utf8');
    const key = readFileSync(join(dir, `${env}-${slug}-key.pem`), 'utf8');
    const ca = readFileSync(join(dir, 'server-ca.pem'), 'utf8');
    const base = `https://localhost:${port}`;
    const registered = await app('post', '/oauth2/register').ca(ca).cert(cert).key(key)
      .send({ redirect_uris: ['https://tpp.example/callback'], client_name: org });
    expect(registered.status, registered.text).to.equal(201);
    const clientId = String(registered.body.client_id);

    const pair = pkce();
    const path = env === 'sandbox' ? '/oauth2/fr/sandbox/signin.html' : '/oauth2/en/banque/oauth2_authorization.aspx';
    const url = new URL(`${base}${path}`);
    for (const [name, value] of Object.entries({
      response_type: 'code', client_id: clientId, redirect_uri: 'https://tpp.example/callback', scope: 'aisp', state: 'xyz',
      code_challenge: pair.challenge, code_challenge_method: 'S256',
    })) url.searchParams.set(name, value);
    const browser = new PsuBrowser(undefined, ca);
    const first = await browser.follow(await browser.get(url.href), base);
    expect(first.status, first.text).to.equal(200);
    const last = await steps(browser, first);
    const back = new URL(last.location ?? 'missing:');
    expect(`${back.origin}${back.pathname}`).to.equal('https://tpp.example/callback');
    expect(back.searchParams.get('state')).to.equal('xyz');
    return app('post', '/oauth2/token').ca(ca).cert(cert).key(key).type('form').send({
      grant_type: 'authorization_code', code: back.searchParams.get('code') ?? '', code_verifier: pair.verifier,
      redirect_uri: 'https://tpp.example/callback', client_id: clientId,
    });
  }

  const post = async (browser: PsuBrowser, page: PageResponse, action: string, fields: Record<string, string>) => browser.follow(
    await browser.post(formAction(page, action), { csrf: csrfOf(page), ...fields }),
    `https://localhost:${port}`,
  );

  it('sends a PSU through the sandbox page with a test customer of the fixture, and the TPP gets tokens', async () => {
    const token = await psuWalk('sandbox', async (browser, page) => {
      expect(page.text).to.contain('Claire Martin');
      const consent = await post(browser, page, '/signin', { psu: 'sandbox-psu-claire' });
      expect(consent.text).to.contain('Compte joint');
      return post(browser, consent, '/consent', { decision: 'grant', accounts: 'acc-claire-joint' });
    });
    expect(token.status, token.text).to.equal(200);
    expect(token.body.refresh_token).to.be.a('string');

    // The bank's API, configured by RESOURCE_SERVER_CREDENTIALS, introspects the token.
    const ca = readFileSync(join(dir, 'server-ca.pem'), 'utf8');
    const introspection = await app('post', '/oauth2/introspect').ca(ca).type('form')
      .set('Authorization', `Basic ${Buffer.from(`psd2-api:${API_SECRET}`).toString('base64')}`)
      .send({ token: token.body.access_token });
    expect(introspection.body).to.include({ active: true, sub: 'sandbox-psu-claire', scope: 'aisp' });
    expect(introspection.body.accounts).to.deep.equal([{ id: 'acc-claire-joint', iban: 'FR7610278060610001020480202' }]);
  });

  it('signs a demo customer in on the bank page with password and one-time code, and the TPP gets tokens', async () => {
    const token = await psuWalk('bank', async (browser, page) => {
      const code = await post(browser, page, '/signin', { login: 'marie.dupont', password: 'demo-password-1' });
      expect(code.text).to.contain('+33 6');
      const consent = await post(browser, code, '/second-factor', { code: '123456' });
      expect(consent.text).to.contain('Livret');
      return post(browser, consent, '/consent', { decision: 'grant', accounts: 'acc-0001-courant' });
    });
    expect(token.status, token.text).to.equal(200);
  });

  it('keeps serving its own routes', async () => {
    const ca = readFileSync(join(dir, 'server-ca.pem'), 'utf8');
    const res = await supertest(`https://localhost:${port}`).get('/api/health').ca(ca);
    expect(res.body).to.deep.equal({ status: 'ok' });
  });

  it('refuses bad command-line input of tpp-cert with a clear message', async () => {
    let failure: { code?: number; stderr?: string } | undefined;
    try {
      await run(tsx, ['example-app/tpp-cert.ts', '--roles', 'PSP_XX'], { env: { ...process.env, DEV_PKI_DIR: dir } });
    } catch (error) {
      failure = error as { code?: number; stderr?: string };
    }
    expect(failure?.code).to.equal(2);
    expect(failure?.stderr).to.contain('unknown role PSP_XX');
  });
});
