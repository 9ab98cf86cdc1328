/**
 * Certificate path validation (RFC 5280 §6.1): key sizes and curves (weak_key), signature hashes
 * (weak_signature), and the environment options that set them.
 */
import 'reflect-metadata';

import { expect } from 'chai';

import { CertificateVerifier } from '../../lib/certificates/identity.js';
import { expectRejection, rejectionOf, testEnvironments } from './helpers.js';
import { md5SignedPath, mint } from './path-pki.js';
import { caLabel, pathSuite, present, refusedBy } from './path-suite.js';

describe('certificate path validation (RFC 5280 §6.1)', () => {
  const suite = pathSuite();
  const { pki, qtsp, tpp, refusal, trusting } = suite;

  describe('weak_key', () => {
    it('refuses an RSA key of 1024 bits', async () => {
      expectRejection(refusal(await tpp(suite.plainCa, { key: 'RSA-1024' }), suite.plainCa), 'weak_key', 'the client certificate has a 1024-bit RSA key; at least 2048 bits are required');
    });

    it('refuses an RSA key of 512 bits', async () => {
      expectRejection(refusal(await tpp(suite.plainCa, { key: 'RSA-512' }), suite.plainCa), 'weak_key', 'the client certificate has a 512-bit RSA key; at least 2048 bits are required');
    });

    it('refuses an EC key on a curve it does not accept', async () => {
      expectRejection(
        refusal(await tpp(suite.plainCa, { key: 'secp256k1' }), suite.plainCa),
        'weak_key',
        'the client certificate has an EC key on secp256k1; RSA of at least 2048 bits or EC on P-256, P-384, P-521, Ed25519, Ed448 is required',
      );
    });

    it('refuses an intermediate with a 1024-bit RSA key, naming it', async () => {
      const weakCa = await qtsp('Weak RSA QTSP', { key: 'RSA-1024' });
      expectRejection(refusal(await tpp(weakCa, { key: 'P-256' }), weakCa), 'weak_key', `${caLabel('Weak RSA QTSP')} has a 1024-bit RSA key; at least 2048 bits are required`);
    });

    it('refuses a trust anchor with a 1024-bit RSA key', async () => {
      const weakRoot = await mint({ subject: 'C=EU,O=Weak Root,CN=Weak Root', ca: { pathLength: 1 }, key: 'RSA-1024', freshKey: true });
      const leaf = await tpp(weakRoot);
      expectRejection(
        rejectionOf(() => trusting(weakRoot).identify(present(leaf))),
        'weak_key',
        'the trust anchor "CN=Weak Root,O=Weak Root,C=EU" has a 1024-bit RSA key; at least 2048 bits are required',
      );
    });

    it('follows minimumRsaKeySize and ellipticCurves of the environment', async () => {
      const strict = new CertificateVerifier(testEnvironments(pki, { sandbox: { minimumRsaKeySize: 3072, ellipticCurves: ['P-256', 'P-384'] } }));
      const rsa2048Leaf = await tpp(suite.plainCa, { key: 'RSA-2048' });
      const ed25519Leaf = await tpp(suite.plainCa, { key: 'Ed25519' });
      expectRejection(
        rejectionOf(() => strict.identify(present(rsa2048Leaf, suite.plainCa))),
        'weak_key',
        'the client certificate has a 2048-bit RSA key; at least 3072 bits are required',
      );
      expectRejection(
        rejectionOf(() => strict.identify(present(ed25519Leaf, suite.plainCa))),
        'weak_key',
        'the client certificate has an Ed25519 key; RSA of at least 3072 bits or EC on P-256, P-384 is required',
      );
      expect(strict.identify(present(await tpp(suite.plainCa, { key: 'RSA-3072' }), suite.plainCa)).environment).to.equal('sandbox');
    });
  });

  describe('weak_signature', () => {
    it('refuses a certificate signed with ECDSA and SHA-1', async () => {
      expectRejection(
        refusal(await tpp(suite.plainCa, { hash: 'SHA-1' }), suite.plainCa),
        'weak_signature',
        'the client certificate is signed with ecdsa-with-SHA1; SHA-256, SHA-384, SHA-512 or EdDSA is required',
      );
    });

    it('refuses a certificate signed with RSA and SHA-1', async () => {
      const rsaCa = await qtsp('RSA QTSP', { key: 'RSA-2048' });
      expectRejection(
        refusal(await tpp(rsaCa, { hash: 'SHA-1' }), rsaCa),
        'weak_signature',
        'the client certificate is signed with sha1WithRSAEncryption; SHA-256, SHA-384, SHA-512 or EdDSA is required',
      );
    });

    it('refuses a certificate signed with MD5 (made by the openssl command line)', () => {
      const { root, leaf } = md5SignedPath();
      const md5 = new CertificateVerifier([{ name: 'sandbox', anchors: [root], requireQualifiedStatements: true, requiredExtendedKeyUsages: [] }]);
      expectRejection(
        rejectionOf(() => md5.identify({ leaf: leaf.raw, chain: [] })),
        'weak_signature',
        'the client certificate is signed with md5WithRSAEncryption; SHA-256, SHA-384, SHA-512 or EdDSA is required',
      );
    });

    it('refuses an intermediate signed with SHA-1 by the root, naming it', async () => {
      const sha1Ca = await qtsp('SHA-1 QTSP', { hash: 'SHA-1' });
      expectRejection(
        refusal(await tpp(sha1Ca), sha1Ca),
        'weak_signature',
        `${caLabel('SHA-1 QTSP')} is signed with ecdsa-with-SHA1; SHA-256, SHA-384, SHA-512 or EdDSA is required`,
      );
    });

    it('follows signatureHashes of the environment', async () => {
      const strict = new CertificateVerifier(testEnvironments(pki, { sandbox: { signatureHashes: ['SHA-384', 'SHA-512'] } }));
      const ca = await qtsp('SHA-384 QTSP', { hash: 'SHA-384' });
      expectRejection(
        await refusedBy(strict, tpp(ca), ca),
        'weak_signature',
        'the client certificate is signed with ecdsa-with-SHA256; SHA-384, SHA-512 or EdDSA is required',
      );
      expect(strict.identify(present(await tpp(ca, { hash: 'SHA-512' }), ca)).environment).to.equal('sandbox');
    });
  });
});
