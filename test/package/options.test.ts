import { generateKeyPairSync } from 'node:crypto';

import { expect } from 'chai';

import { ConfigurationError, createAuthorizationServer, MemoryStorage, type AuthorizationServerOptions } from '../../lib/index.js';
import { optionsWithEnvironments } from '../support/options.js';
import { testPki } from '../support/pki.js';
import { SANDBOX_PSUS, TestBank } from '../support/psus.js';
import { withProvider } from '../support/server.js';

async function validOptions(): Promise<AuthorizationServerOptions> {
  return optionsWithEnvironments({ trustAnchors: (await testPki()).bankCa.certPem, ...bankSide });
}

const bank = new TestBank();
const bankSide = { authenticator: bank, accounts: bank };

function expectConfigurationError(build: () => unknown, path: string, message: RegExp): void {
  let thrown: unknown;
  try {
    build();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a ConfigurationError').to.be.instanceOf(ConfigurationError);
  expect((thrown as ConfigurationError).path).to.equal(path);
  expect((thrown as Error).message).to.match(message);
  expect((thrown as Error).message).to.contain(path);
}

describe('options', () => {
  it('accept a complete configuration and return a router and the provider', async () => {
    const server = createAuthorizationServer({ ...(await validOptions()), storage: new MemoryStorage() });
    expect(server.router).to.be.a('function');
    expect(withProvider(server).provider.issuer).to.equal('https://bank.example/oauth2');
  });

  it('reject an unknown option, naming it', async () => {
    const options = { ...(await validOptions()), redisUrl: 'redis://x' };
    expectConfigurationError(() => createAuthorizationServer(options as AuthorizationServerOptions), 'redisUrl', /unknown option/);
  });

  it('reject an unknown nested option, naming its path', async () => {
    const options = await validOptions();
    const bad = { ...options, environments: { sandbox: { ...options.environments.sandbox, requireQC: true } } };
    expectConfigurationError(() => createAuthorizationServer(bad as AuthorizationServerOptions), 'environments.sandbox.requireQC', /unknown option/);
  });

  it('require an https issuer', async () => {
    const options = { ...(await validOptions()), issuer: 'http://bank.example/oauth2' };
    expectConfigurationError(() => createAuthorizationServer(options), 'issuer', /https/);
  });

  it('require at least one environment', async () => {
    const options = { ...(await validOptions()), environments: {} };
    expectConfigurationError(() => createAuthorizationServer(options), 'environments', /at least one/);
  });

  it('reject trust anchors that are not a PEM bundle', async () => {
    const options = { ...(await validOptions()), environments: { bank: { trustAnchors: 'not a certificate', ...bankSide } } };
    expectConfigurationError(() => createAuthorizationServer(options), 'environments.bank.trustAnchors', /PEM bundle/);
  });

  it('reject a trust anchor that is not a CA certificate', async () => {
    const pki = await testPki();
    const options = { ...(await validOptions()), environments: { bank: { trustAnchors: pki.server.certPem, ...bankSide } } };
    expectConfigurationError(() => createAuthorizationServer(options), 'environments.bank.trustAnchors', /not a CA/);
  });

  it('reject the same anchor in both environments', async () => {
    const pki = await testPki();
    const options = { ...(await validOptions()), environments: { sandbox: { trustAnchors: pki.bankCa.certPem, testPsus: SANDBOX_PSUS }, bank: { trustAnchors: pki.bankCa.certPem, ...bankSide } } };
    expectConfigurationError(() => createAuthorizationServer(options), 'environments', /must not share/);
  });

  it('reject a bank entry path that the sandbox entry path would catch in one of the languages', async () => {
    const options = await validOptions();
    const environments = {
      sandbox: { ...options.environments.sandbox!, entryPath: '/{lang}/signin' },
      bank: { ...options.environments.bank!, entryPath: '/fr/signin' },
    };
    expectConfigurationError(() => createAuthorizationServer({ ...options, environments }), 'environments.bank.entryPath', /every language/);
    const apart = { ...environments, bank: { ...environments.bank, entryPath: '/fr/banque/signin' } };
    expect(() => createAuthorizationServer({ ...options, environments: apart })).to.not.throw();
  });

  it('reject a public signing key', async () => {
    const publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    const options = { ...(await validOptions()), signingKeys: { keys: [publicKey as Record<string, unknown>] } };
    expectConfigurationError(() => createAuthorizationServer(options), 'signingKeys.keys[0].d', /private key/);
  });

  it('reject short cookie keys', async () => {
    const options = { ...(await validOptions()), cookieKeys: ['short'] };
    expectConfigurationError(() => createAuthorizationServer(options), 'cookieKeys[0]', /32 characters/);
  });

  it('reject a storage that does not implement the interface', async () => {
    const options = { ...(await validOptions()), storage: {} as MemoryStorage };
    expectConfigurationError(() => createAuthorizationServer(options), 'storage', /Storage interface/);
  });

  it('reject a bad proxy header name', async () => {
    const options = { ...(await validOptions()), clientCertificateHeader: { header: 'bad header', trustedProxies: ['127.0.0.1'] } };
    expectConfigurationError(() => createAuthorizationServer(options), 'clientCertificateHeader.header', /header name/);
  });

  it('reject a bank stylesheet holding control characters', async () => {
    for (const css of ['body{color:red}\u0000', 'a{color:red}\u001b[0m', 'b{}\u0085']) {
      const options = { ...(await validOptions()), pages: { stylesheet: css } };
      expectConfigurationError(() => createAuthorizationServer(options), 'pages.stylesheet', /control characters/);
    }
    createAuthorizationServer({ ...(await validOptions()), storage: new MemoryStorage(), pages: { stylesheet: 'body{color:red}\r\n\t.card{color:blue}\f' } });
  });

  it('accept an EC signing key', async () => {
    const privateKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const server = createAuthorizationServer({ ...(await validOptions()), signingKeys: { keys: [privateKey as Record<string, unknown>] } });
    expect(withProvider(server).provider.issuer).to.equal('https://bank.example/oauth2');
  });
});
