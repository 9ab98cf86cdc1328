/**
 * The example app's proxy and certificate-status settings: refused at start-up when they are
 * wrong, and, behind a proxy, the certificate header believed from the named proxies only.
 */
import { request } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';

import { createExampleApp } from '../../example-app/app.js';
import { loadConfig } from '../../example-app/config.js';
import { startExampleApp, startupFailure, type ExampleApp } from './helpers.js';

async function refusal(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dev-pki-config-'));
  try {
    await loadConfig({ DEV_PKI_DIR: dir, ...env });
  } catch (error) {
    return (error as Error).message;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`${JSON.stringify(env)} was accepted`);
}

describe('the example app\'s proxy and certificate-status settings', function configuration() {
  this.timeout(60_000);

  it('refuses to start with CLIENT_CERT_HEADER but no TRUSTED_PROXIES, naming both', async () => {
    const { code, output } = await startupFailure({ CLIENT_CERT_HEADER: 'x-ssl-client-cert' });
    expect(code).to.equal(1);
    expect(output).to.match(/The example app cannot start: CLIENT_CERT_HEADER is set but TRUSTED_PROXIES is not/);
    expect(output).not.to.contain('listening');
  });

  it('refuses to start with a bad REVOCATION_BANK', async () => {
    const { code, output } = await startupFailure({ REVOCATION_BANK: 'strict' });
    expect(code).to.equal(1);
    expect(output).to.contain('REVOCATION_BANK=strict: must be hard, soft or off');
  });

  it('says what is wrong with each bad proxy or certificate-status value', async () => {
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ TRUSTED_PROXIES: '10.0.0.1' }, 'TRUSTED_PROXIES is set but CLIENT_CERT_HEADER is not'],
      [{ CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: ' , ' }, 'CLIENT_CERT_HEADER is set but TRUSTED_PROXIES is not'],
      [{ CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: '10.0.0.0/33' }, 'TRUSTED_PROXIES: "10.0.0.0/33" is not an IP address or CIDR range'],
      [{ CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: '10.0.0.1,proxy.bank.example' }, '"proxy.bank.example" is not an IP address'],
      [{ CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: 'fd00::/129' }, '"fd00::/129" is not an IP address'],
      [{ REVOCATION_SANDBOX: 'HARD' }, 'REVOCATION_SANDBOX=HARD: must be hard, soft or off'],
      [{ REVOCATION_MAX_AGE: '0' }, 'REVOCATION_MAX_AGE=0: must be a whole number of seconds from 1 to 86400'],
      [{ REVOCATION_MAX_AGE: '86401' }, 'REVOCATION_MAX_AGE=86401: must be'],
      [{ REVOCATION_MAX_AGE: '1.5' }, 'REVOCATION_MAX_AGE=1.5: must be'],
      [{ REVOCATION_MAX_AGE: 'an hour' }, 'REVOCATION_MAX_AGE=an hour: must be'],
      [{ QTSP_PORT: '70000' }, 'QTSP_PORT=70000 is not a port number'],
    ];
    for (const [env, message] of cases) expect(await refusal(env), JSON.stringify(env)).to.contain(message);
  });

  it('passes the certificate-status settings on, with their defaults, and trusts exactly the named proxies', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dev-pki-config-'));
    try {
      const defaults = await loadConfig({ DEV_PKI_DIR: dir });
      expect(defaults.options.revocation).to.deep.equal({ bank: 'hard', sandbox: 'soft', maxAge: 3600 });
      expect(defaults.options.clientCertificateHeader).to.equal(undefined);
      expect(defaults.devQtsp?.port).to.equal(undefined);

      const config = await loadConfig({
        DEV_PKI_DIR: dir,
        REVOCATION_BANK: 'soft',
        REVOCATION_SANDBOX: 'off',
        REVOCATION_MAX_AGE: '1',
        QTSP_PORT: '8481',
        CLIENT_CERT_HEADER: 'x-ssl-client-cert',
        CLIENT_CERT_CHAIN_HEADER: 'x-ssl-client-chain',
        TRUSTED_PROXIES: '10.1.2.3, 192.168.0.0/16,fd00::/8',
      });
      expect(config.options.revocation).to.deep.equal({ bank: 'soft', sandbox: 'off', maxAge: 1 });
      expect(config.devQtsp?.port).to.equal(8481);
      expect(config.options.clientCertificateHeader).to.deep.equal({
        header: 'x-ssl-client-cert',
        chainHeader: 'x-ssl-client-chain',
        trustedProxies: ['10.1.2.3', '192.168.0.0/16', 'fd00::/8'],
      });

      // The bank's own routes believe X-Forwarded-For from those proxies, and from no one else.
      const { app, auth } = createExampleApp(config.options);
      try {
        const trusted = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
        for (const address of ['10.1.2.3', '::ffff:10.1.2.3', '192.168.7.9', 'fd12::1']) expect(trusted(address, 0), address).to.equal(true);
        for (const address of ['10.1.2.4', '127.0.0.1', '::1', '8.8.8.8', 'fe80::1']) expect(trusted(address, 0), address).to.equal(false);
      } finally {
        await auth.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('behind a TLS-terminating proxy', () => {
    let example: ExampleApp;
    let tpp: { cert: string; key: string };

    before(async () => {
      // The test itself plays the proxy, on 127.0.0.1 (or ::1); 127.0.0.2 plays anyone else.
      example = await startExampleApp({ CLIENT_CERT_HEADER: 'x-ssl-client-cert', TRUSTED_PROXIES: '127.0.0.1,::1' });
      tpp = await example.tppCert('PSP_AI', 'Proxied');
    });

    after(() => {
      example?.stop();
    });

    /** POST /oauth2/register with the certificate in the header, from `localAddress`. */
    const register = (localAddress: string) => new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const body = JSON.stringify({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Proxied' });
      const req = request({
        host: '127.0.0.1',
        port: example.port,
        localAddress,
        servername: 'localhost',
        ca: example.ca,
        method: 'POST',
        path: '/oauth2/register',
        headers: { 'content-type': 'application/json', 'x-ssl-client-cert': encodeURIComponent(tpp.cert) },
      }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
      });
      req.on('error', reject);
      req.end(body);
    });

    it('prints where client certificates come from', () => {
      expect(example.startup).to.contain('client certificates: from the x-ssl-client-cert header of 127.0.0.1, ::1');
    });

    it('takes the client certificate from the header set by a trusted proxy', async () => {
      const res = await register('127.0.0.1');
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.provider_legal_id).to.equal('PSDFR-NCA-PROXIED');
    });

    it('refuses the header from any other peer with 401 invalid_client', async () => {
      const res = await register('127.0.0.2');
      expect(res.status, JSON.stringify(res.body)).to.equal(401);
      expect(res.body.error).to.equal('invalid_client');
      expect(String(res.body.error_description)).to.contain('untrusted peer');
    });
  });
});
