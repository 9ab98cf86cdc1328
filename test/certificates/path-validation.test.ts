import 'reflect-metadata';

import { expect } from 'chai';
import * as x509 from '@peculiar/x509';

import { CertificateVerifier, MAX_CERTIFICATE_BYTES, type EnvironmentTrust, type PresentedCertificate } from '../../lib/certificates/identity.js';
import { OID } from '../../lib/certificates/oids.js';
import type { IssuedCertificate } from '../../tools/dev-pki/pki.js';
import { sandboxTpp, testPki, type TestPki } from '../support/pki.js';
import { expectRejection, rejectionOf, testEnvironments } from './helpers.js';
import { md5SignedPath, mint, tppSubject, unknownExtension, type MintOptions, type Minted } from './path-pki.js';

const SANDBOX_ROOT = 'the trust anchor "C=EU,O=Sandbox Test Root,CN=Sandbox Test Root"';
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
const ANY_USAGE = '2.5.29.37.0';
const ANY_POLICY = '2.5.29.32.0';
const POLICY_A = '1.3.6.1.4.1.55555.2.1';
const POLICY_B = '1.3.6.1.4.1.55555.2.2';

function present(leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]): PresentedCertificate {
  return { leaf: leaf.der, chain: chain.map((certificate) => certificate.der) };
}

/** How `verifier` refuses the certificate `leaf` will be, presented with `chain`. */
async function refusedBy(verifier: CertificateVerifier, leaf: Promise<IssuedCertificate>, ...chain: readonly IssuedCertificate[]) {
  const issued = await leaf;
  return rejectionOf(() => verifier.identify(present(issued, ...chain)));
}

/** `the CA certificate "CN=<name>,O=<name>,C=EU"`, as messages name a CA minted by {@link qtsp}. */
function caLabel(name: string): string {
  return `the CA certificate "CN=${name},O=${name},C=EU"`;
}

describe('certificate path validation (RFC 5280 §6.1)', () => {
  let pki: TestPki;
  let verifier: CertificateVerifier;

  /** A QTSP intermediate under the sandbox root, which the sandbox environment trusts. */
  const qtsp = (name: string, options: Partial<MintOptions> = {}): Promise<Minted> => mint({
    issuer: pki.sandboxRoot, subject: `C=EU,O=${name},CN=${name}`, ca: { pathLength: 0 }, freshKey: true, ...options,
  });
  /** A TPP certificate (PSD2 statements, organizationIdentifier) under `issuer`. */
  const tpp = (issuer: Minted, options: Partial<MintOptions> = {}): Promise<Minted> => mint({
    issuer, subject: tppSubject('api.path-tpp.example'), ...options,
  });
  const identify = (leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]) => verifier.identify(present(leaf, ...chain));
  const refusal = (leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]) => rejectionOf(() => identify(leaf, ...chain));
  /** A verifier of one sandbox environment trusting `anchor`, with `policy` on top of the test defaults. */
  const trusting = (anchor: Minted, policy: Partial<EnvironmentTrust> = {}) => new CertificateVerifier([
    { name: 'sandbox', anchors: [anchor.node], requireQualifiedStatements: true, requiredExtendedKeyUsages: [], ...policy },
  ]);

  let plainCa: Minted;

  before(async () => {
    pki = await testPki();
    verifier = new CertificateVerifier(testEnvironments(pki));
    plainCa = await qtsp('Path QTSP');
  });

  describe('correct paths', () => {
    it('accepts leaf, intermediate and root of the sandbox PKI, and returns the path leaf first, anchor last', async () => {
      const leaf = await sandboxTpp();
      const identity = verifier.identify({ leaf: leaf.der, chain: [pki.sandboxCa.der] });
      expect(identity.path.map((certificate) => certificate.raw.toString('base64'))).to.deep.equal(
        [leaf.der, pki.sandboxCa.der, pki.sandboxRoot.der].map((der) => der.toString('base64')),
      );
      expect(identity.path[0]).to.equal(identity.certificate);
    });

    it('returns a path of two certificates for a leaf issued by the anchor itself', async () => {
      const { bankCa } = pki;
      const leaf = await mint({ issuer: bankCa, subject: tppSubject('bank.path-tpp.example') });
      const identity = identify(leaf);
      expect(identity.environment).to.equal('bank');
      expect(identity.path.map((certificate) => certificate.raw.toString('base64'))).to.deep.equal([leaf.der, bankCa.der].map((der) => der.toString('base64')));
    });

    it('gives the same path from its cache', async () => {
      const leaf = await tpp(plainCa);
      const first = identify(leaf, plainCa);
      const second = identify(leaf, plainCa);
      expect(second.path).to.deep.equal(first.path);
      expect(second.path).to.have.length(3);
    });

    it('accepts a leaf within the name constraints of its intermediate', async () => {
      const constrained = await qtsp('Constrained QTSP', {
        nameConstraints: { permitted: [{ directoryName: 'C=FR,O=Path TPP' }, { dNSName: 'path-tpp.example' }] },
      });
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }] });
      expect(identify(leaf, constrained).organizationIdentifier).to.equal('PSDFR-NCA-PATHTPP');
      const byCommonName = await tpp(constrained);
      expect(identify(byCommonName, constrained).environment).to.equal('sandbox');
    });

    it('accepts names outside excluded subtrees', async () => {
      const constrained = await qtsp('Excluding QTSP', {
        nameConstraints: { excluded: [{ directoryName: 'C=FR,O=Other TPP' }, { dNSName: 'bank.example' }, { iPAddress: '10.0.0.0/8' }] },
      });
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }, { type: 'ip', value: '192.0.2.1' }] });
      expect(identify(leaf, constrained).environment).to.equal('sandbox');
    });

    it('accepts RSA 2048 and 3072, EC P-384 and P-521, and Ed25519 keys, and SHA-384 and SHA-512 signatures', async () => {
      for (const key of ['RSA-2048', 'RSA-3072', 'P-384', 'P-521', 'Ed25519'] as const) {
        expect(identify(await tpp(plainCa, { key }), plainCa).environment, key).to.equal('sandbox');
      }
      for (const hash of ['SHA-384', 'SHA-512'] as const) {
        expect(identify(await tpp(plainCa, { hash }), plainCa).environment, hash).to.equal('sandbox');
      }
    });

    it('accepts RSA and Ed25519 intermediates, and the signatures they make', async () => {
      for (const key of ['RSA-2048', 'Ed25519'] as const) {
        const ca = await qtsp(`Path ${key} QTSP`, { key });
        expect(identify(await tpp(ca), ca).environment, key).to.equal('sandbox');
      }
    });

    it('accepts a non-critical extension it does not know', async () => {
      const leaf = await tpp(plainCa, { extensions: [unknownExtension(false)] });
      expect(identify(leaf, plainCa).environment).to.equal('sandbox');
    });

    it('accepts extended key usages that allow TLS client authentication, including serverAuth alone (QWACs without clientAuth)', async () => {
      for (const usages of [[OID.clientAuth], [OID.serverAuth], [ANY_USAGE], [CODE_SIGNING, OID.clientAuth]]) {
        expect(identify(await tpp(plainCa, { extendedKeyUsages: usages }), plainCa).environment, usages.join()).to.equal('sandbox');
      }
    });

    it('accepts intermediates whose extended key usage allows clientAuth or any usage', async () => {
      for (const usages of [[OID.serverAuth, OID.clientAuth], [ANY_USAGE]]) {
        const ca = await qtsp(`EKU ${usages.length} QTSP`, { extendedKeyUsages: usages });
        expect(identify(await tpp(ca), ca).environment).to.equal('sandbox');
      }
    });

    it('accepts key usages that include digitalSignature', async () => {
      const leaf = await tpp(plainCa, { keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.nonRepudiation });
      expect(identify(leaf, plainCa).environment).to.equal('sandbox');
    });
  });

  describe('weak_key', () => {
    it('refuses an RSA key of 1024 bits', async () => {
      expectRejection(refusal(await tpp(plainCa, { key: 'RSA-1024' }), plainCa), 'weak_key', 'the client certificate has a 1024-bit RSA key; at least 2048 bits are required');
    });

    it('refuses an RSA key of 512 bits', async () => {
      expectRejection(refusal(await tpp(plainCa, { key: 'RSA-512' }), plainCa), 'weak_key', 'the client certificate has a 512-bit RSA key; at least 2048 bits are required');
    });

    it('refuses an EC key on a curve it does not accept', async () => {
      expectRejection(
        refusal(await tpp(plainCa, { key: 'secp256k1' }), plainCa),
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
      const rsa2048Leaf = await tpp(plainCa, { key: 'RSA-2048' });
      const ed25519Leaf = await tpp(plainCa, { key: 'Ed25519' });
      expectRejection(
        rejectionOf(() => strict.identify(present(rsa2048Leaf, plainCa))),
        'weak_key',
        'the client certificate has a 2048-bit RSA key; at least 3072 bits are required',
      );
      expectRejection(
        rejectionOf(() => strict.identify(present(ed25519Leaf, plainCa))),
        'weak_key',
        'the client certificate has an Ed25519 key; RSA of at least 3072 bits or EC on P-256, P-384 is required',
      );
      expect(strict.identify(present(await tpp(plainCa, { key: 'RSA-3072' }), plainCa)).environment).to.equal('sandbox');
    });
  });

  describe('weak_signature', () => {
    it('refuses a certificate signed with ECDSA and SHA-1', async () => {
      expectRejection(
        refusal(await tpp(plainCa, { hash: 'SHA-1' }), plainCa),
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

  describe('unrecognised_critical_extension', () => {
    it('refuses a leaf with a critical extension it does not know', async () => {
      expectRejection(
        refusal(await tpp(plainCa, { extensions: [unknownExtension(true)] }), plainCa),
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
      const caLeaf = await mint({ issuer: plainCa, subject: tppSubject('ca.path-tpp.example'), ca: true, psd2: true });
      expectRejection(refusal(caLeaf, plainCa), 'certificate_is_ca', "the client certificate is a CA certificate (basicConstraints cA TRUE), not a TPP's own certificate");
    });

    it("refuses the QTSP's own certificate presented as a client certificate", () => {
      expectRejection(
        rejectionOf(() => verifier.identify({ leaf: pki.sandboxCa.der, chain: [] })),
        'certificate_is_ca',
        "the client certificate is a CA certificate (basicConstraints cA TRUE), not a TPP's own certificate",
      );
    });
  });

  describe('key_usage_not_client_auth', () => {
    it('refuses a leaf whose key usage is keyCertSign only', async () => {
      expectRejection(
        refusal(await tpp(plainCa, { keyUsage: x509.KeyUsageFlags.keyCertSign }), plainCa),
        'key_usage_not_client_auth',
        "the client certificate's key usage (keyCertSign) does not allow TLS client authentication, which needs digitalSignature",
      );
    });

    it('refuses a leaf whose key usage is keyAgreement and keyEncipherment', async () => {
      expectRejection(
        refusal(await tpp(plainCa, { keyUsage: x509.KeyUsageFlags.keyAgreement | x509.KeyUsageFlags.keyEncipherment }), plainCa),
        'key_usage_not_client_auth',
        "the client certificate's key usage (keyEncipherment, keyAgreement) does not allow TLS client authentication, which needs digitalSignature",
      );
    });
  });

  describe('extended_key_usage_not_client_auth', () => {
    it('refuses a leaf for code signing only', async () => {
      expectRejection(
        refusal(await tpp(plainCa, { extendedKeyUsages: [CODE_SIGNING] }), plainCa),
        'extended_key_usage_not_client_auth',
        "the client certificate's extended key usage (codeSigning) does not allow TLS client authentication (clientAuth or serverAuth is required)",
      );
    });

    it('refuses a leaf for e-mail protection and an unknown usage', async () => {
      expectRejection(
        refusal(await tpp(plainCa, { extendedKeyUsages: [EMAIL_PROTECTION, '1.3.6.1.4.1.55555.3'] }), plainCa),
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

  describe('name_constraints_violated', () => {
    let constrained: Minted;
    before(async () => {
      constrained = await qtsp('Constrained TPP QTSP', {
        nameConstraints: {
          permitted: [
            { directoryName: 'C=FR,O=Path TPP' },
            { dNSName: 'path-tpp.example' },
            { rfc822Name: 'path-tpp.example' },
            { iPAddress: '192.0.2.0/24' },
            { uniformResourceIdentifier: '.path-tpp.example' },
          ],
          excluded: [{ dNSName: 'internal.path-tpp.example' }, { directoryName: 'C=FR,O=Path TPP,CN=blocked.path-tpp.example' }],
        },
      });
    });
    const constraintsOf = () => `the name constraints of ${caLabel('Constrained TPP QTSP')}`;

    it('refuses an IPv4-mapped IPv6 address inside an excluded IPv4 range, and a URI host ending in a dot', async () => {
      const excluding = await qtsp('Excluding Mapped QTSP', {
        nameConstraints: { excluded: [{ iPAddress: '10.0.0.0/8' }, { uniformResourceIdentifier: '.bank.example' }] },
      });
      const mapped = await tpp(excluding, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }, { type: 'ip', value: '::ffff:a01:203' }] });
      const refusedMapped = refusal(mapped, excluding);
      expect(refusedMapped.reason).to.equal('name_constraints_violated');
      expect(refusedMapped.error_description).to.equal(`the client certificate's name IP:0:0:0:0:0:ffff:a01:203 is excluded by the name constraints of ${caLabel('Excluding Mapped QTSP')}`);
      const dotted = await tpp(excluding, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }, { type: 'url', value: 'https://evil.bank.example./' }] });
      expectRejection(refusal(dotted, excluding), 'name_constraints_violated', `the client certificate's name URI:https://evil.bank.example./ is excluded by the name constraints of ${caLabel('Excluding Mapped QTSP')}`);
    });

    it('refuses a subject outside the permitted directory names', async () => {
      const leaf = await tpp(constrained, { subject: tppSubject('api.path-tpp.example', 'Other TPP') });
      expectRejection(
        refusal(leaf, constrained),
        'name_constraints_violated',
        `the client certificate's subject CN=api.path-tpp.example,organizationIdentifier=PSDFR-NCA-PATHTPP,O=Other TPP,C=FR is outside the names permitted by ${constraintsOf()}`,
      );
    });

    it('refuses a subject inside an excluded directory name', async () => {
      const leaf = await tpp(constrained, { subject: 'C=FR,O=Path TPP,CN=blocked.path-tpp.example,2.5.4.97=PSDFR-NCA-PATHTPP' });
      expectRejection(
        refusal(leaf, constrained),
        'name_constraints_violated',
        `the client certificate's subject organizationIdentifier=PSDFR-NCA-PATHTPP,CN=blocked.path-tpp.example,O=Path TPP,C=FR is excluded by ${constraintsOf()}`,
      );
    });

    it('refuses a DNS name outside the permitted subtrees', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }, { type: 'dns', value: 'www.bank.example' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name DNS:www.bank.example is outside the names permitted by ${constraintsOf()}`);
    });

    it('refuses a DNS name that only ends like a permitted one', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'evilpath-tpp.example' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name DNS:evilpath-tpp.example is outside the names permitted by ${constraintsOf()}`);
    });

    it('refuses a DNS name in an excluded subtree, and a wildcard that reaches into one', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'db.internal.path-tpp.example' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name DNS:db.internal.path-tpp.example is excluded by ${constraintsOf()}`);
      const wildcard = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: '*.path-tpp.example' }] });
      expectRejection(refusal(wildcard, constrained), 'name_constraints_violated', `the client certificate's name DNS:*.path-tpp.example is excluded by ${constraintsOf()}`);
    });

    it('refuses a host name in the common name when there is no DNS name in subjectAltName', async () => {
      const leaf = await tpp(constrained, { subject: tppSubject('www.bank.example') });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name DNS:www.bank.example is outside the names permitted by ${constraintsOf()}`);
    });

    it('refuses an e-mail address outside the permitted subtrees, in subjectAltName or in the subject', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'email', value: 'it@bank.example' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name email:it@bank.example is outside the names permitted by ${constraintsOf()}`);
      const inSubject = await tpp(constrained, { subject: `${tppSubject('api.path-tpp.example')},E=it@bank.example` });
      expectRejection(refusal(inSubject, constrained), 'name_constraints_violated', `the client certificate's name email:it@bank.example is outside the names permitted by ${constraintsOf()}`);
      const inside = await tpp(constrained, { subjectAltNames: [{ type: 'email', value: 'ops@path-tpp.example' }] });
      expect(identify(inside, constrained).environment).to.equal('sandbox');
    });

    it('refuses an IP address outside the permitted range', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'ip', value: '198.51.100.7' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name IP:198.51.100.7 is outside the names permitted by ${constraintsOf()}`);
      const inside = await tpp(constrained, { subjectAltNames: [{ type: 'ip', value: '192.0.2.77' }] });
      expect(identify(inside, constrained).environment).to.equal('sandbox');
    });

    it('refuses a URI whose host is outside the permitted subtrees', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'url', value: 'https://tpp.bank.example/id' }] });
      expectRejection(refusal(leaf, constrained), 'name_constraints_violated', `the client certificate's name URI:https://tpp.bank.example/id is outside the names permitted by ${constraintsOf()}`);
      const inside = await tpp(constrained, { subjectAltNames: [{ type: 'url', value: 'https://id.path-tpp.example/tpp' }] });
      expect(identify(inside, constrained).environment).to.equal('sandbox');
    });

    it('refuses a name form it cannot compare where a CA constrains that form', async () => {
      const ca = await qtsp('Registered ID QTSP', { nameConstraints: { permitted: [{ registeredID: '1.3.6.1.4.1.55555.9' }] } });
      const leaf = await tpp(ca, { subjectAltNames: [{ type: 'id', value: '1.3.6.1.4.1.55555.9' }] });
      expectRejection(
        refusal(leaf, ca),
        'name_constraints_violated',
        `the client certificate's registeredID name cannot be checked against the name constraints of ${caLabel('Registered ID QTSP')}`,
      );
    });

    it("applies the trust anchor's name constraints", async () => {
      const root = await mint({ subject: 'C=EU,O=Constrained Root,CN=Constrained Root', ca: { pathLength: 1 }, freshKey: true, nameConstraints: { permitted: [{ directoryName: 'C=EU' }, { directoryName: 'C=DE' }] } });
      const ca = await mint({ issuer: root, subject: 'C=EU,O=Root QTSP,CN=Root QTSP', ca: { pathLength: 0 }, freshKey: true });
      const leaf = await tpp(ca);
      expectRejection(
        rejectionOf(() => trusting(root).identify(present(leaf, ca))),
        'name_constraints_violated',
        "the client certificate's subject CN=api.path-tpp.example,organizationIdentifier=PSDFR-NCA-PATHTPP,O=Path TPP,C=FR is outside the names permitted by the name constraints of the trust anchor \"CN=Constrained Root,O=Constrained Root,C=EU\"",
      );
    });

    it('applies constraints to the intermediates below, and combines those of every CA above', async () => {
      const root = await mint({ subject: 'C=EU,O=Deep Root,CN=Deep Root', ca: { pathLength: 2 }, freshKey: true });
      const upper = await mint({ issuer: root, subject: 'C=EU,O=Upper QTSP,CN=Upper QTSP', ca: { pathLength: 1 }, freshKey: true, nameConstraints: { permitted: [{ directoryName: 'C=FR' }] } });
      const lower = await mint({ issuer: upper, subject: 'C=EU,O=Lower QTSP,CN=Lower QTSP', ca: { pathLength: 0 }, freshKey: true });
      expectRejection(
        await refusedBy(trusting(root), tpp(lower), lower, upper),
        'name_constraints_violated',
        'the subject CN=Lower QTSP,O=Lower QTSP,C=EU of the CA certificate "CN=Lower QTSP,O=Lower QTSP,C=EU" is outside the names permitted by the name constraints of the CA certificate "CN=Upper QTSP,O=Upper QTSP,C=EU"',
      );
      const frUpper = await mint({ issuer: root, subject: 'C=FR,O=Upper FR QTSP,CN=Upper FR QTSP', ca: { pathLength: 1 }, freshKey: true, nameConstraints: { permitted: [{ directoryName: 'C=FR' }] } });
      const frLower = await mint({ issuer: frUpper, subject: 'C=FR,O=Lower FR QTSP,CN=Lower FR QTSP', ca: { pathLength: 0 }, freshKey: true, nameConstraints: { permitted: [{ dNSName: 'other.example' }] } });
      expect(trusting(root).identify(present(await tpp(frLower, { subject: tppSubject('api.other.example') }), frLower, frUpper)).environment).to.equal('sandbox');
      const frLeafOutside = await tpp(frLower);
      expectRejection(
        rejectionOf(() => trusting(root).identify(present(frLeafOutside, frLower, frUpper))),
        'name_constraints_violated',
        "the client certificate's name DNS:api.path-tpp.example is outside the names permitted by the name constraints of the CA certificate \"CN=Lower FR QTSP,O=Lower FR QTSP,C=FR\"",
      );
    });
  });

  describe('certificate_policy_invalid', () => {
    let root: Minted;
    before(async () => {
      root = await mint({ subject: 'C=EU,O=Policy Root,CN=Policy Root', ca: { pathLength: 2 }, freshKey: true });
    });
    const policyCa = (name: string, options: Partial<MintOptions>) => mint({ issuer: root, subject: `C=EU,O=${name},CN=${name}`, ca: { pathLength: 1 }, freshKey: true, ...options });

    it('accepts a path whose certificates share a policy where one is required', async () => {
      const ca = await policyCa('Explicit QTSP', { policies: [POLICY_A], policyConstraints: { requireExplicitPolicy: 0 } });
      expect(trusting(root).identify(present(await tpp(ca, { policies: [POLICY_A] }), ca)).environment).to.equal('sandbox');
    });

    it('refuses a path that requires an explicit policy when the leaf has none', async () => {
      const ca = await policyCa('Explicit None QTSP', { policies: [POLICY_A], policyConstraints: { requireExplicitPolicy: 0 } });
      expectRejection(
        await refusedBy(trusting(root), tpp(ca), ca),
        'certificate_policy_invalid',
        `no certificate policy is valid along the path down to the client certificate, and ${caLabel('Explicit None QTSP')} requires an explicit policy`,
      );
    });

    it('refuses a path that requires an explicit policy when the leaf has another one', async () => {
      const ca = await policyCa('Explicit Other QTSP', { policies: [POLICY_A], policyConstraints: { requireExplicitPolicy: 0 } });
      expect((await refusedBy(trusting(root), tpp(ca, { policies: [POLICY_B] }), ca)).reason).to.equal('certificate_policy_invalid');
    });

    it('accepts anyPolicy in the CA, and refuses it where inhibitAnyPolicy says so', async () => {
      const anyCa = await policyCa('Any Policy QTSP', { policies: [ANY_POLICY], policyConstraints: { requireExplicitPolicy: 0 } });
      expect(trusting(root).identify(present(await tpp(anyCa, { policies: [POLICY_B] }), anyCa)).environment).to.equal('sandbox');
      const leafAny = await tpp(anyCa, { policies: [ANY_POLICY] });
      expect(trusting(root).identify(present(leafAny, anyCa)).environment).to.equal('sandbox');
      const inhibiting = await policyCa('Inhibit Any QTSP', { policies: [ANY_POLICY], policyConstraints: { requireExplicitPolicy: 0 }, inhibitAnyPolicy: 0 });
      expectRejection(
        await refusedBy(trusting(root), tpp(inhibiting, { policies: [ANY_POLICY] }), inhibiting),
        'certificate_policy_invalid',
        `no certificate policy is valid along the path down to the client certificate, and ${caLabel('Inhibit Any QTSP')} requires an explicit policy`,
      );
    });

    it('follows policy mappings, and refuses them where inhibitPolicyMapping says so', async () => {
      const upper = await policyCa('Mapping QTSP', { policies: [POLICY_A], policyMappings: [[POLICY_A, POLICY_B]], policyConstraints: { requireExplicitPolicy: 0 } });
      const lower = await mint({ issuer: upper, subject: 'C=EU,O=Mapped QTSP,CN=Mapped QTSP', ca: { pathLength: 0 }, freshKey: true, policies: [POLICY_B] });
      expect(trusting(root).identify(present(await tpp(lower, { policies: [POLICY_B] }), lower, upper)).environment).to.equal('sandbox');

      // inhibitPolicyMapping 0 forbids the mappings of the certificates below, not the CA's own.
      const inhibiting = await policyCa('No Mapping QTSP', { policies: [POLICY_A], policyConstraints: { requireExplicitPolicy: 0, inhibitPolicyMapping: 0 } });
      const mapping = await mint({
        issuer: inhibiting, subject: 'C=EU,O=Unmapped QTSP,CN=Unmapped QTSP', ca: { pathLength: 0 }, freshKey: true, policies: [POLICY_A], policyMappings: [[POLICY_A, POLICY_B]],
      });
      expectRejection(
        await refusedBy(trusting(root), tpp(mapping, { policies: [POLICY_B] }), mapping, inhibiting),
        'certificate_policy_invalid',
        `no certificate policy is valid along the path down to the client certificate, and ${caLabel('No Mapping QTSP')} requires an explicit policy`,
      );
      const unmapped = await mint({ issuer: inhibiting, subject: 'C=EU,O=Plain Policy QTSP,CN=Plain Policy QTSP', ca: { pathLength: 0 }, freshKey: true, policies: [POLICY_A] });
      expect(trusting(root).identify(present(await tpp(unmapped, { policies: [POLICY_A] }), unmapped, inhibiting)).environment).to.equal('sandbox');
    });

    it('refuses a mapping of anyPolicy', async () => {
      const upper = await policyCa('Any Mapping QTSP', { policies: [ANY_POLICY], policyMappings: [[ANY_POLICY, POLICY_B]] });
      const lower = await mint({ issuer: upper, subject: 'C=EU,O=Below Any QTSP,CN=Below Any QTSP', ca: { pathLength: 0 }, freshKey: true });
      expectRejection(
        await refusedBy(trusting(root), tpp(lower), lower, upper),
        'certificate_policy_invalid',
        `${caLabel('Any Mapping QTSP')} maps anyPolicy in its policy mappings, which RFC 5280 forbids`,
      );
    });

    it('accepts paths without policies where none is required', async () => {
      const ca = await policyCa('No Policy QTSP', {});
      expect(trusting(root).identify(present(await tpp(ca), ca)).environment).to.equal('sandbox');
    });
  });

  describe('certificate_malformed', () => {
    it('refuses a certificate larger than a QWAC can be before reading it', async () => {
      const names = Array.from({ length: 1200 }, (_, index) => ({ type: 'dns' as const, value: `host-${index}.path-tpp.example` }));
      const leaf = await tpp(plainCa, { subjectAltNames: names });
      expect(leaf.der.length).to.be.above(MAX_CERTIFICATE_BYTES);
      expectRejection(refusal(leaf, plainCa), 'certificate_malformed', `the client certificate is larger than ${MAX_CERTIFICATE_BYTES} bytes`);
    });

    it('does not read what an untrusted certificate holds: a self-signed one with a repeated extension is untrusted', async () => {
      const leaf = await mint({ subject: tppSubject('api.path-tpp.example'), extensions: [new x509.ExtendedKeyUsageExtension([CODE_SIGNING])] });
      expectRejection(refusal(leaf), 'issuer_untrusted', 'the client certificate is self-signed; it must be issued by a QTSP trusted by this server');
    });

    it('refuses a leaf that carries an extension twice', async () => {
      const leaf = await tpp(plainCa, { extensions: [new x509.ExtendedKeyUsageExtension([CODE_SIGNING])] });
      expectRejection(refusal(leaf, plainCa), 'certificate_malformed', 'the client certificate is malformed: extension 2.5.29.37 appears more than once');
    });

    it('refuses a leaf whose subjectAltName cannot be read', async () => {
      const leaf = await tpp(plainCa, { extensions: [new x509.Extension('2.5.29.17', false, new Uint8Array([0x30, 0x03, 0x82, 0x05]))] });
      expectRejection(refusal(leaf, plainCa), 'certificate_malformed', 'the client certificate is malformed: extension 2.5.29.17 is malformed');
    });

    it('does not take an intermediate whose name constraints cannot be read as an issuer', async () => {
      const ca = await qtsp('Broken QTSP', { extensions: [new x509.Extension('2.5.29.30', true, new Uint8Array([0x30, 0x03, 0x02, 0x01]))] });
      expectRejection(refusal(await tpp(ca), ca), 'issuer_untrusted', 'the client certificate is not issued by a QTSP trusted by this server');
    });
  });

  describe('environments', () => {
    const sameAnchor = (name: 'sandbox' | 'bank', policy: Partial<EnvironmentTrust>): EnvironmentTrust => ({
      name, anchors: [testEnvironments(pki)[0]!.anchors[0]!], requireQualifiedStatements: false, requiredExtendedKeyUsages: [], ...policy,
    });

    it('tries the next environment when the path to one is not valid under its policy', async () => {
      const both = new CertificateVerifier([sameAnchor('sandbox', { minimumRsaKeySize: 4096 }), sameAnchor('bank', {})]);
      expect(both.identify(present(await tpp(plainCa, { key: 'RSA-2048' }), plainCa)).environment).to.equal('bank');
    });

    it("answers with the first environment's fault when no environment accepts the path", async () => {
      const both = new CertificateVerifier([sameAnchor('sandbox', { minimumRsaKeySize: 4096 }), sameAnchor('bank', { minimumRsaKeySize: 3072 })]);
      expectRejection(
        rejectionOf(() => both.identify(present(rsaLeaf, plainCa))),
        'weak_key',
        'the client certificate has a 2048-bit RSA key; at least 4096 bits are required',
      );
    });

    it('checks the trust anchor by the same key rules', () => {
      const strict = new CertificateVerifier([sameAnchor('sandbox', { ellipticCurves: ['P-384'] })]);
      expectRejection(
        rejectionOf(() => strict.identify(present(rsaLeaf, plainCa))),
        'weak_key',
        `${SANDBOX_ROOT} has an EC key on P-256; RSA of at least 2048 bits or EC on P-384 is required`,
      );
    });

    let rsaLeaf: Minted;
    before(async () => {
      rsaLeaf = await tpp(plainCa, { key: 'RSA-2048' });
    });
  });
});
