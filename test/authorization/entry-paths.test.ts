/**
 * Custom entry paths (environments.*.entryPath): served in place of the defaults, and checked at
 * start-up so that none shadows an endpoint.
 */
import { expect } from 'chai';

import { ConfigurationError, createAuthorizationServer, type AuthorizationServerOptions } from '../../lib/index.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { startServer, testSigningKey, type TestServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';
import { BANK_TITLE, environmentsWith, expectErrorPage, expectInteraction, expectPage, expectTppError, SANDBOX_TITLE } from './answers.js';
import {
  authorizationUrl,
  entryPath,
  exchangeCode,
  openPages,
  redirectParams,
  registerClient,
  requestParams,
  sandboxAuthorization,
  suiteClient,
} from './helpers.js';

describe('custom entry paths (environments.*.entryPath)', () => {
  const sandboxPath = (language: string) => `/${language}/psd2/sandbox`;
  const bankPath = '/psd2/bank-signin.aspx';
  const server = suiteServer(async () => ({ options: { environments: await environmentsWith({ sandbox: '/{lang}/psd2/sandbox', bank: bankPath }) } }));
  const sandbox = suiteClient(server);
  const bank = suiteClient(server, { environment: 'bank' });

  it('the default entry paths are then no endpoint: 404 JSON', async () => {
    for (const [client, path] of [[sandbox, entryPath('sandbox', 'en')], [bank, entryPath('bank', 'fr')]] as const) {
      const url = new URL(authorizationUrl(server, requestParams(client), path));
      const res = await server.request().get(`${url.pathname}${url.search}`);
      expect(res.status, `${path}: ${res.text}`).to.equal(404);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(res.headers.location).to.equal(undefined);
      expect(res.body.error).to.equal('not_found');
    }
  });

  for (const language of ['de', 'fr'] as const) {
    it(`the new sandbox entry path /oauth2/${language}/psd2/sandbox starts an authorization in ${language}`, async () => {
      const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(sandbox), sandboxPath(language)));
      expectPage(page, language, SANDBOX_TITLE[language]);
    });
  }

  it('the new bank entry path (without {lang}) starts an authorization in the language of ui_locales', async () => {
    const page = await openPages(server, new PsuBrowser(), authorizationUrl(server, requestParams(bank, { ui_locales: 'fr' }), bankPath));
    expectPage(page, 'fr', BANK_TITLE.fr);
  });

  it('a whole sandbox authorization through the new path yields a working code', async () => {
    const { location, pair, params } = await sandboxAuthorization(server, sandbox, { path: sandboxPath('en') });
    const back = redirectParams(location);
    expect(back.get('state')).to.equal(params.state);
    const token = await exchangeCode(server, sandbox, back.get('code')!, pair);
    expect(token.status, token.text).to.equal(200);
  });

  it('a client of the other environment on a new path goes back to the TPP, told the path of its own page', async () => {
    const bankParams = requestParams(bank);
    expectTppError(await new PsuBrowser().get(authorizationUrl(server, bankParams, sandboxPath('en'))), 'invalid_request', bankParams.state, {
      description: new RegExp(`/oauth2${bankPath.replace(/\./g, '\\.')}`),
    });
    const sandboxParams = requestParams(sandbox);
    expectTppError(await new PsuBrowser().get(authorizationUrl(server, sandboxParams, bankPath)), 'invalid_request', sandboxParams.state, {
      description: /\/oauth2\/\{lang\}\/psd2\/sandbox/,
    });
  });

  it('/oauth2/authorize keeps working for both', async () => {
    expectInteraction(server, await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox))));
    expectInteraction(server, await new PsuBrowser().get(authorizationUrl(server, requestParams(bank))));
  });

  it('an unknown client on a new path gets the error page in the language of the path', async () => {
    expectErrorPage(await new PsuBrowser().get(authorizationUrl(server, requestParams(sandbox, { client_id: 'nope' }), sandboxPath('de'))), 'de');
  });
});

describe('entry path options at start-up', () => {
  async function optionsWith(paths: { sandbox?: string; bank?: string }): Promise<AuthorizationServerOptions> {
    return {
      issuer: 'https://bank.example/oauth2',
      signingKeys: { keys: [testSigningKey()] },
      cookieKeys: ['0123456789abcdef0123456789abcdef'],
      environments: await environmentsWith(paths),
    };
  }

  function expectRefused(options: AuthorizationServerOptions, path: string, message: RegExp): void {
    let thrown: unknown;
    try {
      createAuthorizationServer(options);
    } catch (error) {
      thrown = error;
    }
    expect(thrown, 'expected a ConfigurationError').to.be.instanceOf(ConfigurationError);
    expect((thrown as ConfigurationError).path).to.equal(path);
    expect((thrown as Error).message).to.contain(path).and.match(message);
  }

  it('accepts other valid entry paths', async () => {
    const server = createAuthorizationServer(await optionsWith({ sandbox: '/{lang}/psd2/sandbox', bank: '/banque/{lang}/connexion.aspx' }));
    expect(server.router).to.be.a('function');
  });

  for (const path of ['/token', '/authorize', '/register/{lang}', '/revoke', '/jwks', '/interaction/{lang}', '/.well-known/{lang}/signin']) {
    it(`refuses an entry path that shadows an endpoint (${path})`, async () => {
      expectRefused(await optionsWith({ sandbox: path }), 'environments.sandbox.entryPath', /shadow/);
    });
  }

  for (const path of ['/{lang}ken', '/{lang}ks', '/re{lang}ster']) {
    it(`refuses an entry path whose {lang} would match an endpoint (${path})`, async () => {
      expectRefused(await optionsWith({ sandbox: path }), 'environments.sandbox.entryPath', /shadow/);
    });
  }

  it('an entry path accepted at start-up never shadows the token endpoint over TLS (/{lang}ken would match /token)', async () => {
    let server: TestServer;
    try {
      server = await startServer({ options: { environments: await environmentsWith({ sandbox: '/{lang}ken' }) } });
    } catch (error) {
      expect(error, 'refused at start-up is fine').to.be.instanceOf(ConfigurationError);
      return;
    }
    try {
      const client = await registerClient(server, { roles: ['PSP_AI', 'PSP_PI'] });
      const res = await server.request(client.tpp).post('/oauth2/token').type('form')
        .send({ grant_type: 'client_credentials', client_id: client.clientId, scope: 'pisp' });
      expect(res.status, `POST /oauth2/token → ${res.status} ${res.text}`).to.equal(200);
      expect(res.body.access_token).to.be.a('string');
    } finally {
      await server.close();
    }
  });

  it('refuses an entry path with {lang} twice', async () => {
    expectRefused(await optionsWith({ sandbox: '/{lang}/sandbox/{lang}/signin.html' }), 'environments.sandbox.entryPath', /once/);
  });

  for (const path of ['/<script>/signin', '/{lang}/sign in.html', '/{lang}/signin?x=1', '{lang}/signin', '/{lang}//signin', '/{language}/signin', '/{lang}/%2e%2e', '', '/']) {
    it(`refuses an entry path with characters or a form a path may not have (${JSON.stringify(path)})`, async () => {
      expectRefused(await optionsWith({ sandbox: path }), 'environments.sandbox.entryPath', /path/);
    });
  }

  it('refuses a bad bank entry path, naming environments.bank.entryPath', async () => {
    expectRefused(await optionsWith({ bank: '/token/{lang}' }), 'environments.bank.entryPath', /shadow/);
  });

  it('refuses identical sandbox and bank entry paths', async () => {
    expectRefused(await optionsWith({ sandbox: '/{lang}/signin', bank: '/{lang}/signin' }), 'environments.bank.entryPath', /differ/);
  });
});
