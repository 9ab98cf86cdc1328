import { expect } from 'chai';
import supertest from 'supertest';

import { pkce } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { run, startExampleApp, tsx, type ExampleApp } from './helpers.js';

const API_SECRET = 'walkthrough-api-secret-0123456789abcdef';

describe('the example app walk-through (README)', function walkthrough() {
  this.timeout(60_000);
  let example: ExampleApp;
  let dir: string;
  let port: number;
  let startup: string;

  /** The app at `path`, every answer held to the app's own OpenAPI document. */
  const app = (method: 'get' | 'post', path: string) => example.request(method, path);

  before(async () => {
    example = await startExampleApp({ RESOURCE_SERVER_CREDENTIALS: `psd2-api:${API_SECRET}` });
    ({ dir, port, startup } = example);
  });

  after(() => {
    example?.stop();
  });

  it('starts with no configuration, generating a development PKI and saying where', () => {
    expect(startup).to.contain(`generated the development PKI and keys in ${dir}`);
    expect(startup).to.contain('never use them in production');
    expect(startup).to.contain(`https://localhost:${port}/oauth2/.well-known/oauth-authorization-server`);
  });

  it('mints a TPP certificate and registers a client with it over mutual TLS', async () => {
    const { stdout, cert, key } = await example.tppCert('PSP_AI,PSP_PI', 'Acme');
    expect(stdout).to.contain('organizationIdentifier: PSDFR-NCA-ACME');
    expect(stdout).to.contain(`--cert ${dir}/sandbox-acme.pem`);

    const res = await app('post', '/oauth2/register')
      .cert(cert).key(key)
      .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Acme' });
    expect(res.status).to.equal(201);
    expect(res.body.provider_legal_id).to.equal('PSDFR-NCA-ACME');
    // The environment is stored, not answered; the sandbox sign-in walk below needs a sandbox client.
    expect(res.body).not.to.have.property('psd2_environment');
    expect(res.body.scope).to.equal('aisp extended_transaction_history pisp');
    expect(res.body.grant_types).to.have.members(['authorization_code', 'refresh_token', 'client_credentials']);
  });

  /** Walks the README's "Send a PSU through the pages" with a client of `env`; returns the token response. */
  async function psuWalk(env: 'sandbox' | 'bank', steps: (browser: PsuBrowser, page: PageResponse) => Promise<PageResponse>): Promise<supertest.Response> {
    const org = `Walk ${env}`;
    const { cert, key } = await example.tppCert('PSP_AI', org, env);
    const { ca, base } = example;
    const registered = await app('post', '/oauth2/register').cert(cert).key(key)
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
    return app('post', '/oauth2/token').cert(cert).key(key).type('form').send({
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
    const introspection = await app('post', '/oauth2/introspect').type('form')
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
    const res = await supertest(`https://localhost:${port}`).get('/api/health').ca(example.ca);
    expect(res.body).to.deep.equal({ status: 'ok' });
  });

  it('refuses bad command-line input of tpp-cert with a clear message', async () => {
    let failure: { code?: number; stderr?: string } | undefined;
    try {
      await run(tsx, ['tools/dev-pki/tpp-cert.ts', '--roles', 'PSP_XX'], { env: { ...process.env, DEV_PKI_DIR: dir } });
    } catch (error) {
      failure = error as { code?: number; stderr?: string };
    }
    expect(failure?.code).to.equal(2);
    expect(failure?.stderr).to.contain('unknown role PSP_XX');
  });
});
