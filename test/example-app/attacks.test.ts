/**
 * The certificate path attacks of RFC 5280 §6 path validation, replayed over real mutual TLS
 * against the example app as a newcomer runs it (`npm start`, development PKI): each certificate is
 * issued by the app's own sandbox QTSP, so the attack is the only reason for refusal, and each is
 * refused with 401 invalid_client, its own description, and a `certificate.rejected` log line.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';

import * as x509 from '@peculiar/x509';
import { expect } from 'chai';

import { loadAuthority, issueTppCertificate, type Authority, type IssuedCertificate } from '../../tools/dev-pki/pki.js';
import { OID } from '../../lib/certificates/oids.js';
import { credentials, mint, tppSubject, unknownExtension, type MintOptions, type Minted } from '../certificates/path-pki.js';
import type { TppCredentials } from '../support/pki.js';
import { startExampleApp, type ExampleApp } from './helpers.js';

const REGISTER = '/oauth2/register';
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

describe('the example app refuses each certificate path attack over mutual TLS', function attacks() {
  this.timeout(60_000);
  let example: ExampleApp;
  /** The example app's own sandbox QTSP, the trust anchor of its sandbox environment. */
  let qtsp: Authority;

  /** A TPP certificate of the sandbox QTSP with the PSD2 statement and organizationIdentifier, changed as `options` say. */
  const tpp = (options: Partial<MintOptions> = {}, issuer: Authority | Minted = qtsp) => mint({
    issuer, subject: tppSubject('api.path-tpp.example'), freshKey: true, ...options,
  });
  /** An intermediate CA issued by the sandbox QTSP, changed as `options` say. */
  const intermediate = (name: string, options: Partial<MintOptions> = {}) => mint({
    issuer: qtsp, subject: `C=EU,O=${name},CN=${name}`, ca: { pathLength: 0 }, freshKey: true, ...options,
  });

  /**
   * POST /oauth2/register over TLS presenting `tpp`. `weak` lowers the client's own OpenSSL security
   * level, which otherwise refuses to present a SHA-1 certificate: the server must refuse it itself.
   */
  function register(tpp: TppCredentials, weak = false): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(`${example.base}${REGISTER}`, {
        method: 'POST',
        ca: example.ca,
        cert: tpp.chainPem,
        key: tpp.keyPem,
        ...(weak ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
        headers: { 'content-type': 'application/json' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { text += chunk; });
        res.on('end', () => {
          try {
            example.openApi.checkResponse('POST', REGISTER, { status: res.statusCode ?? 0, headers: res.headers, text });
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
          } catch (error) {
            reject(error as Error);
          }
        });
      });
      req.on('error', reject);
      req.end(JSON.stringify({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Path TPP', scope: 'aisp' }));
    });
  }

  /** The answer is 401 invalid_client with exactly `description`, and the app logged it with `reason`. */
  async function expectRefused(answer: Answer, reason: string, description: string): Promise<void> {
    expect(answer.status, JSON.stringify(answer.body)).to.equal(401);
    expect(answer.body).to.deep.equal({ error: 'invalid_client', error_description: description });
    const output = await example.waitForOutput(`"msg":${JSON.stringify(description)}`);
    const logged = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((entry) => entry.event === 'certificate.rejected' && entry.msg === description);
    expect(logged?.reason, `the certificate.rejected log line of "${description}"`).to.equal(reason);
    expect(logged?.path).to.equal(REGISTER);
  }

  before(async () => {
    example = await startExampleApp();
    const read = (name: string) => readFileSync(join(example.dir, name), 'utf8');
    qtsp = await loadAuthority('sandbox', read('sandbox-qtsp.pem'), read('sandbox-qtsp-key.pem'));
  });

  after(() => {
    example?.stop();
  });

  it('registers a TPP certificate of the same QTSP as the development PKI issues it', async () => {
    const issued: IssuedCertificate = await issueTppCertificate(qtsp, { organization: 'Control TPP' });
    const answer = await register(credentials(issued));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    // The answer keeps the reference bank's fields; the environment is stored (test/certificates/registration-certificates.test.ts).
    expect(answer.body).not.to.have.property('psd2_environment');
    expect(answer.body.provider_legal_id).to.equal('PSDFR-NCA-CONTROLTPP');
  });

  it('registers the TPP certificate that each attack below changes in one respect', async () => {
    const answer = await register(credentials(await tpp()));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    // The answer keeps the reference bank's fields; the environment is stored (test/certificates/registration-certificates.test.ts).
    expect(answer.body).not.to.have.property('psd2_environment');
    expect(answer.body.provider_legal_id).to.equal('PSDFR-NCA-PATHTPP');
  });

  it('registers a leaf inside the name constraints of its intermediate', async () => {
    const constrained = await intermediate('Allowed Names QTSP', { nameConstraints: { permitted: [{ dNSName: '.allowed.example' }] } });
    const leaf = await tpp({ subject: tppSubject('api.tpp.allowed.example') }, constrained);
    const answer = await register(credentials(leaf, constrained));
    expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
  });

  it('refuses a leaf whose key usage is keyCertSign only', async () => {
    await expectRefused(
      await register(credentials(await tpp({ keyUsage: x509.KeyUsageFlags.keyCertSign }))),
      'key_usage_not_client_auth',
      "the client certificate's key usage (keyCertSign) does not allow TLS client authentication, which needs digitalSignature",
    );
  });

  it('refuses a leaf whose extended key usage is codeSigning only', async () => {
    await expectRefused(
      await register(credentials(await tpp({ extendedKeyUsages: [CODE_SIGNING] }))),
      'extended_key_usage_not_client_auth',
      "the client certificate's extended key usage (codeSigning) does not allow TLS client authentication (clientAuth or serverAuth is required)",
    );
  });

  it('refuses a CA certificate (basicConstraints cA TRUE) as the TPP certificate', async () => {
    const caLeaf = await tpp({ ca: true, psd2: true, keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign });
    await expectRefused(
      await register(credentials(caLeaf)),
      'certificate_is_ca',
      "the client certificate is a CA certificate (basicConstraints cA TRUE), not a TPP's own certificate",
    );
  });

  it('refuses a leaf with an unknown critical extension', async () => {
    await expectRefused(
      await register(credentials(await tpp({ extensions: [unknownExtension(true)] }))),
      'unrecognised_critical_extension',
      'the client certificate has a critical extension this server does not recognise (1.3.6.1.4.1.55555.1.1)',
    );
  });

  it('refuses a leaf with a 1024-bit RSA key', async () => {
    await expectRefused(
      // Node 24's OpenSSL will not send a 1024-bit key at its default security level.
      await register(credentials(await tpp({ key: 'RSA-1024' })), true),
      'weak_key',
      'the client certificate has a 1024-bit RSA key; at least 2048 bits are required',
    );
  });

  it('refuses a leaf signed with ECDSA and SHA-1', async () => {
    await expectRefused(
      await register(credentials(await tpp({ hash: 'SHA-1' })), true),
      'weak_signature',
      'the client certificate is signed with ecdsa-with-SHA1; SHA-256, SHA-384, SHA-512 or EdDSA is required',
    );
  });

  it('refuses a leaf outside the name constraints of its intermediate', async () => {
    const constrained = await intermediate('Allowed Names QTSP', { nameConstraints: { permitted: [{ dNSName: '.allowed.example' }] } });
    await expectRefused(
      await register(credentials(await tpp({}, constrained), constrained)),
      'name_constraints_violated',
      'the client certificate\'s name DNS:api.path-tpp.example is outside the names permitted by the name constraints of '
        + 'the CA certificate "CN=Allowed Names QTSP,O=Allowed Names QTSP,C=EU"',
    );
  });

  it('refuses an intermediate whose extended key usage is serverAuth only', async () => {
    const serverOnly = await intermediate('Server Only QTSP', { extendedKeyUsages: [OID.serverAuth] });
    await expectRefused(
      await register(credentials(await tpp({}, serverOnly), serverOnly)),
      'ca_extended_key_usage_not_client_auth',
      'the extended key usage of the CA certificate "CN=Server Only QTSP,O=Server Only QTSP,C=EU" (serverAuth) excludes TLS client authentication',
    );
  });
});
