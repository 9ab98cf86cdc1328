/**
 * Certificate path validation (RFC 5280 §6.1): critical extensions it does not know, CA
 * certificates presented as the TPP's, key usage and extended key usage of the TPP and its CAs.
 */
import 'reflect-metadata';

import { expect } from 'chai';
import * as x509 from '@peculiar/x509';

import { CertificateVerifier } from '../../lib/certificates/identity.js';
import { OID } from '../../lib/certificates/oids.js';
import { expectRejection, rejectionOf, testEnvironments } from './helpers.js';
import { mint, tppSubject, unknownExtension } from './path-pki.js';
import { caLabel, CODE_SIGNING, EMAIL_PROTECTION, pathSuite, present } from './path-suite.js';

describe('certificate path validation (RFC 5280 §6.1)', () => {
  const suite = pathSuite();
  const { pki, qtsp, tpp, refusal } = suite;

  describe('unrecognised_critical_extension', () => {
    it('refuses a leaf with a critical extension it does not know', async () => {
      expectRejection(
        refusal(await tpp(suite.plainCa, { extensions: [unknownExtension(true)] }), suite.plainCa),
        'unrecognised_critical_extension',
        'the client certificate has a critical extension this server does not recognise (1.3.6.1.4.1.55555.1.1)',
      );
    });

    it('refuses an intermediate with a critical extension it does not know', async () => {
      const ca = await qtsp('Critical QTSP', { extensions: [unknownExtension(true)] });
      expectRejection(
        refusal(await tpp(ca), ca),
        'unrecognised_critical_extension',
        `${caLabel('Critical QTSP')} has a critical extension this server does not recognise (1.3.6.1.4.1.55555.1.1)`,
      );
    });
  });

  describe('certificate_is_ca', () => {
    it('refuses a CA certificate presented as the TPP certificate, even one with PSD2 statements', async () => {
      const caLeaf = await mint({ issuer: suite.plainCa, subject: tppSubject('ca.path-tpp.example'), ca: true, psd2: true });
      expectRejection(refusal(caLeaf, suite.plainCa), 'certificate_is_ca', "the client certificate is a CA certificate (basicConstraints cA TRUE), not a TPP's own certificate");
    });

    it("refuses the QTSP's own certificate presented as a client certificate", () => {
      expectRejection(
        rejectionOf(() => suite.verifier.identify({ leaf: pki.sandboxCa.der, chain: [] })),
        'certificate_is_ca',
        "the client certificate is a CA certificate (basicConstraints cA TRUE), not a TPP's own certificate",
      );
    });
  });

  describe('key_usage_not_client_auth', () => {
    it('refuses a leaf whose key usage is keyCertSign only', async () => {
      expectRejection(
        refusal(await tpp(suite.plainCa, { keyUsage: x509.KeyUsageFlags.keyCertSign }), suite.plainCa),
        'key_usage_not_client_auth',
        "the client certificate's key usage (keyCertSign) does not allow TLS client authentication, which needs digitalSignature",
      );
    });

    it('refuses a leaf whose key usage is keyAgreement and keyEncipherment', async () => {
      expectRejection(
        refusal(await tpp(suite.plainCa, { keyUsage: x509.KeyUsageFlags.keyAgreement | x509.KeyUsageFlags.keyEncipherment }), suite.plainCa),
        'key_usage_not_client_auth',
        "the client certificate's key usage (keyEncipherment, keyAgreement) does not allow TLS client authentication, which needs digitalSignature",
      );
    });
  });

  describe('extended_key_usage_not_client_auth', () => {
    it('refuses a leaf for code signing only', async () => {
      expectRejection(
        refusal(await tpp(suite.plainCa, { extendedKeyUsages: [CODE_SIGNING] }), suite.plainCa),
        'extended_key_usage_not_client_auth',
        "the client certificate's extended key usage (codeSigning) does not allow TLS client authentication (clientAuth or serverAuth is required)",
      );
    });

    it('refuses a leaf for e-mail protection and an unknown usage', async () => {
      expectRejection(
        refusal(await tpp(suite.plainCa, { extendedKeyUsages: [EMAIL_PROTECTION, '1.3.6.1.4.1.55555.3'] }), suite.plainCa),
        'extended_key_usage_not_client_auth',
        "the client certificate's extended key usage (emailProtection, 1.3.6.1.4.1.55555.3) does not allow TLS client authentication (clientAuth or serverAuth is required)",
      );
    });
  });

  describe('ca_extended_key_usage_not_client_auth', () => {
    it('refuses an intermediate whose extended key usage is serverAuth only', async () => {
      const ca = await qtsp('Server QTSP', { extendedKeyUsages: [OID.serverAuth] });
      expectRejection(
        refusal(await tpp(ca), ca),
        'ca_extended_key_usage_not_client_auth',
        `the extended key usage of ${caLabel('Server QTSP')} (serverAuth) excludes TLS client authentication`,
      );
    });

    it('refuses an intermediate for code signing', async () => {
      const ca = await qtsp('Code QTSP', { extendedKeyUsages: [CODE_SIGNING] });
      expectRejection(
        refusal(await tpp(ca), ca),
        'ca_extended_key_usage_not_client_auth',
        `the extended key usage of ${caLabel('Code QTSP')} (codeSigning) excludes TLS client authentication`,
      );
    });

    it('accepts a serverAuth-only intermediate where acceptServerAuthOnlyCAs is set, but not one for code signing', async () => {
      const lenient = new CertificateVerifier(testEnvironments(pki, { sandbox: { acceptServerAuthOnlyCAs: true } }));
      const serverCa = await qtsp('Server Only QTSP', { extendedKeyUsages: [OID.serverAuth] });
      expect(lenient.identify(present(await tpp(serverCa), serverCa)).environment).to.equal('sandbox');
      const codeCa = await qtsp('Code Only QTSP', { extendedKeyUsages: [CODE_SIGNING] });
      const codeLeaf = await tpp(codeCa);
      expect(rejectionOf(() => lenient.identify(present(codeLeaf, codeCa))).reason).to.equal('ca_extended_key_usage_not_client_auth');
    });
  });
});
