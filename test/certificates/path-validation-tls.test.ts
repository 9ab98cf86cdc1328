/**
 * Certificate paths that RFC 5280 path validation refuses, presented over real mutual TLS to a
 * registration: each is refused with 401 invalid_client and its own description, and audited.
 */
import 'reflect-metadata';

import { request } from 'node:https';

import { expect } from 'chai';
import * as x509 from '@peculiar/x509';

import { OID } from '../../lib/certificates/oids.js';
import { sandboxTpp, testPki, type TestPki, type TppCredentials } from '../support/pki.js';
import { SANDBOX_PSUS } from '../support/psus.js';
import { type TestServer } from '../support/server.js';
import { logsPerTest, suiteServer } from '../support/suite.js';
import { credentials, mint, tppSubject, unknownExtension, type MintOptions, type Minted } from './path-pki.js';

const REGISTRATION = { redirect_uris: ['https://tpp.example/cb'], scope: 'aisp' };
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

interface Connection {
  /**
   * Lowers the client's own OpenSSL security level, which otherwise refuses to send a weak key or a
   * SHA-1 certificate at all; the server must refuse them itself.
   */
  readonly weak?: boolean;
  /** TLS 1.2: a 512-bit RSA key is too short for the RSA-PSS signatures of TLS 1.3. */
  readonly tls12?: boolean;
}

describe('certificate path validation over mutual TLS (POST /oauth2/register)', () => {
  let pki: TestPki;
  const server = suiteServer();
  let plainCa: Minted;

  const qtsp = (name: string, options: Partial<MintOptions> = {}) => mint({
    issuer: pki.sandboxRoot, subject: `C=EU,O=${name},CN=${name}`, ca: { pathLength: 0 }, freshKey: true, ...options,
  });
  const tpp = (issuer: Minted, options: Partial<MintOptions> = {}) => mint({ issuer, subject: tppSubject('api.path-tpp.example'), ...options });

  /** POSTs a registration over TLS presenting `tpp`, with the connection settings a test needs. */
  function register(tpp: TppCredentials, connection: Connection = {}, to: TestServer = server): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(`${to.url}/oauth2/register`, {
        method: 'POST',
        ca: pki.serverCa.certPem,
        cert: tpp.chainPem,
        key: tpp.keyPem,
        ...(connection.weak ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {}),
        ...(connection.tls12 ? { maxVersion: 'TLSv1.2' as const } : {}),
        headers: { 'content-type': 'application/json' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => { text += chunk; });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
          } catch (error) {
            reject(error as Error);
          }
        });
      });
      req.on('error', reject);
      req.end(JSON.stringify(REGISTRATION));
    });
  }

  function expectRefused(answer: Answer, reason: string, description: string, by: TestServer = server): void {
    expect(answer.status, JSON.stringify(answer.body)).to.equal(401);
    expect(answer.body).to.deep.equal({ error: 'invalid_client', error_description: description });
    const entry = by.logs.find((log) => log.fields.event === 'certificate.rejected' && log.fields.reason === reason);
    expect(entry, `a certificate.rejected log entry with reason ${reason}`).to.not.equal(undefined);
    expect(entry?.message).to.equal(description);
  }

  before(async () => {
    pki = await testPki();
    plainCa = await qtsp('TLS Path QTSP');
  });
  logsPerTest(server);

  describe('controls', () => {
    it('registers with leaf, intermediate and root of the sandbox PKI', async () => {
      const answer = await register(await sandboxTpp());
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
      // The environment is stored with the client; the answer keeps the reference bank's fields.
      expect((await server.auth.provider.Client.find(String(answer.body.client_id)))?.metadata().psd2_environment).to.equal('sandbox');
    });

    it('registers with a leaf inside the name constraints of its intermediate', async () => {
      const constrained = await qtsp('TLS Constrained QTSP', { nameConstraints: { permitted: [{ directoryName: 'C=FR,O=Path TPP' }, { dNSName: 'path-tpp.example' }] } });
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }] });
      const answer = await register(credentials(leaf, constrained));
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
      expect(answer.body.provider_legal_id).to.equal('PSDFR-NCA-PATHTPP');
    });
  });

  it('refuses a 1024-bit RSA key', async () => {
    expectRefused(
      // Node 24's OpenSSL will not send a 1024-bit key at its default security level.
      await register(credentials(await tpp(plainCa, { key: 'RSA-1024' }), plainCa), { weak: true }),
      'weak_key',
      'the client certificate has a 1024-bit RSA key; at least 2048 bits are required',
    );
  });

  it('refuses a 512-bit RSA key', async () => {
    expectRefused(
      await register(credentials(await tpp(plainCa, { key: 'RSA-512' }), plainCa), { weak: true, tls12: true }),
      'weak_key',
      'the client certificate has a 512-bit RSA key; at least 2048 bits are required',
    );
  });

  it('refuses a certificate signed with SHA-1', async () => {
    const rsaCa = await qtsp('TLS RSA QTSP', { key: 'RSA-2048' });
    expectRefused(
      await register(credentials(await tpp(rsaCa, { hash: 'SHA-1' }), rsaCa), { weak: true }),
      'weak_signature',
      'the client certificate is signed with sha1WithRSAEncryption; SHA-256, SHA-384, SHA-512 or EdDSA is required',
    );
  });

  it('refuses an intermediate with a 1024-bit RSA key', async () => {
    const weakCa = await qtsp('TLS Weak QTSP', { key: 'RSA-1024' });
    expectRefused(
      await register(credentials(await tpp(weakCa), weakCa), { weak: true }),
      'weak_key',
      'the CA certificate "CN=TLS Weak QTSP,O=TLS Weak QTSP,C=EU" has a 1024-bit RSA key; at least 2048 bits are required',
    );
  });

  it('refuses a certificate with an unknown critical extension', async () => {
    expectRefused(
      await register(credentials(await tpp(plainCa, { extensions: [unknownExtension(true)] }), plainCa)),
      'unrecognised_critical_extension',
      'the client certificate has a critical extension this server does not recognise (1.3.6.1.4.1.55555.1.1)',
    );
  });

  it('refuses a CA certificate as the TPP certificate', async () => {
    const caLeaf = await mint({
      issuer: plainCa, subject: tppSubject('ca.path-tpp.example'), ca: true, psd2: true,
      keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign,
    });
    expectRefused(
      await register(credentials(caLeaf, plainCa)),
      'certificate_is_ca',
      "the client certificate is a CA certificate (basicConstraints cA TRUE), not a TPP's own certificate",
    );
  });

  it('refuses a certificate for code signing only', async () => {
    expectRefused(
      await register(credentials(await tpp(plainCa, { extendedKeyUsages: [CODE_SIGNING] }), plainCa)),
      'extended_key_usage_not_client_auth',
      "the client certificate's extended key usage (codeSigning) does not allow TLS client authentication (clientAuth or serverAuth is required)",
    );
  });

  it('refuses a certificate whose key usage does not allow signing', async () => {
    expectRefused(
      await register(credentials(await tpp(plainCa, { keyUsage: x509.KeyUsageFlags.keyEncipherment }), plainCa)),
      'key_usage_not_client_auth',
      "the client certificate's key usage (keyEncipherment) does not allow TLS client authentication, which needs digitalSignature",
    );
  });

  it('refuses an intermediate whose extended key usage is serverAuth only', async () => {
    const serverCa = await qtsp('TLS Server QTSP', { extendedKeyUsages: [OID.serverAuth] });
    expectRefused(
      await register(credentials(await tpp(serverCa), serverCa)),
      'ca_extended_key_usage_not_client_auth',
      'the extended key usage of the CA certificate "CN=TLS Server QTSP,O=TLS Server QTSP,C=EU" (serverAuth) excludes TLS client authentication',
    );
  });

  it('refuses a leaf outside the name constraints of its intermediate', async () => {
    const constrained = await qtsp('TLS Narrow QTSP', { nameConstraints: { permitted: [{ dNSName: 'other-tpp.example' }] } });
    expectRefused(
      await register(credentials(await tpp(constrained), constrained)),
      'name_constraints_violated',
      'the client certificate\'s name DNS:api.path-tpp.example is outside the names permitted by the name constraints of the CA certificate "CN=TLS Narrow QTSP,O=TLS Narrow QTSP,C=EU"',
    );
  });

  it('refuses a path that requires an explicit policy the leaf does not have', async () => {
    const explicit = await qtsp('TLS Policy QTSP', { policies: ['1.3.6.1.4.1.55555.2.1'], policyConstraints: { requireExplicitPolicy: 0 } });
    expectRefused(
      await register(credentials(await tpp(explicit), explicit)),
      'certificate_policy_invalid',
      'no certificate policy is valid along the path down to the client certificate, and the CA certificate "CN=TLS Policy QTSP,O=TLS Policy QTSP,C=EU" requires an explicit policy',
    );
  });

  describe('with the options of an environment', () => {
    const strict = suiteServer(async () => ({
      options: {
        environments: {
          sandbox: {
            trustAnchors: (await testPki()).sandboxRoot.certPem, requireQualifiedStatements: false, testPsus: SANDBOX_PSUS,
            minimumRsaKeySize: 3072, acceptServerAuthOnlyCAs: true,
          },
        },
      },
    }));

    it('refuses an RSA key below minimumRsaKeySize', async () => {
      expectRefused(
        await register(credentials(await tpp(plainCa, { key: 'RSA-2048' }), plainCa), {}, strict),
        'weak_key',
        'the client certificate has a 2048-bit RSA key; at least 3072 bits are required',
        strict,
      );
    });

    it('registers through a serverAuth-only intermediate where acceptServerAuthOnlyCAs is set', async () => {
      const serverCa = await qtsp('TLS Lenient QTSP', { extendedKeyUsages: [OID.serverAuth] });
      const answer = await register(credentials(await tpp(serverCa, { extendedKeyUsages: [OID.serverAuth] }), serverCa), {}, strict);
      expect(answer.status, JSON.stringify(answer.body)).to.equal(201);
    });
  });
});
