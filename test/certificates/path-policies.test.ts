/**
 * Certificate path validation (RFC 5280 §6.1): certificate policies, malformed certificates, and
 * the choice among environments.
 */
import 'reflect-metadata';

import { expect } from 'chai';
import * as x509 from '@peculiar/x509';

import { CertificateVerifier, MAX_CERTIFICATE_BYTES, type EnvironmentTrust } from '../../lib/certificates/identity.js';
import { expectRejection, rejectionOf, testEnvironments } from './helpers.js';
import { mint, tppSubject, type MintOptions, type Minted } from './path-pki.js';
import { ANY_POLICY, caLabel, CODE_SIGNING, pathSuite, POLICY_A, POLICY_B, present, refusedBy, SANDBOX_ROOT } from './path-suite.js';

describe('certificate path validation (RFC 5280 §6.1)', () => {
  const suite = pathSuite();
  const { pki, qtsp, tpp, refusal, trusting } = suite;

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
      const leaf = await tpp(suite.plainCa, { subjectAltNames: names });
      expect(leaf.der.length).to.be.above(MAX_CERTIFICATE_BYTES);
      expectRejection(refusal(leaf, suite.plainCa), 'certificate_malformed', `the client certificate is larger than ${MAX_CERTIFICATE_BYTES} bytes`);
    });

    it('does not read what an untrusted certificate holds: a self-signed one with a repeated extension is untrusted', async () => {
      const leaf = await mint({ subject: tppSubject('api.path-tpp.example'), extensions: [new x509.ExtendedKeyUsageExtension([CODE_SIGNING])] });
      expectRejection(refusal(leaf), 'issuer_untrusted', 'the client certificate is self-signed; it must be issued by a QTSP trusted by this server');
    });

    it('refuses a leaf that carries an extension twice', async () => {
      const leaf = await tpp(suite.plainCa, { extensions: [new x509.ExtendedKeyUsageExtension([CODE_SIGNING])] });
      expectRejection(refusal(leaf, suite.plainCa), 'certificate_malformed', 'the client certificate is malformed: extension 2.5.29.37 appears more than once');
    });

    it('refuses a leaf whose subjectAltName cannot be read', async () => {
      const leaf = await tpp(suite.plainCa, { extensions: [new x509.Extension('2.5.29.17', false, new Uint8Array([0x30, 0x03, 0x82, 0x05]))] });
      expectRejection(refusal(leaf, suite.plainCa), 'certificate_malformed', 'the client certificate is malformed: extension 2.5.29.17 is malformed');
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
      expect(both.identify(present(await tpp(suite.plainCa, { key: 'RSA-2048' }), suite.plainCa)).environment).to.equal('bank');
    });

    it("answers with the first environment's fault when no environment accepts the path", async () => {
      const both = new CertificateVerifier([sameAnchor('sandbox', { minimumRsaKeySize: 4096 }), sameAnchor('bank', { minimumRsaKeySize: 3072 })]);
      expectRejection(
        rejectionOf(() => both.identify(present(rsaLeaf, suite.plainCa))),
        'weak_key',
        'the client certificate has a 2048-bit RSA key; at least 4096 bits are required',
      );
    });

    it('checks the trust anchor by the same key rules', () => {
      const strict = new CertificateVerifier([sameAnchor('sandbox', { ellipticCurves: ['P-384'] })]);
      expectRejection(
        rejectionOf(() => strict.identify(present(rsaLeaf, suite.plainCa))),
        'weak_key',
        `${SANDBOX_ROOT} has an EC key on P-256; RSA of at least 2048 bits or EC on P-384 is required`,
      );
    });

    let rsaLeaf: Minted;
    before(async () => {
      rsaLeaf = await tpp(suite.plainCa, { key: 'RSA-2048' });
    });
  });
});
