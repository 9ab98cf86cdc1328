import { createHash } from 'node:crypto';

import { expect } from 'chai';

import { CertificateVerifier, type PresentedCertificate } from '../../lib/certificates/identity.js';
import { InvalidClientError } from '../../lib/errors.js';
import { createAuthority, issueTppCertificate, type IssuedCertificate } from '../../tools/dev-pki/pki.js';
import { bankTpp, rogueTpp, sandboxTpp, testPki, type TestPki } from '../support/pki.js';
import { daysFromNow, expectRejection, rejectionOf, testEnvironments } from './helpers.js';

const NOT_WEBSITE_QUALIFIED = 'the client certificate is not a qualified website authentication certificate (QcCompliance and QcType web are required)';
const NO_ROLES = 'the client certificate carries no PSD2 roles (QCStatement 0.4.0.19495.2)';
const NO_ORGANIZATION_IDENTIFIER = 'the client certificate subject has no PSD2 organizationIdentifier (2.5.4.97) of the form PSD<country>-<NCA>-<authorisation number>';

describe('CertificateVerifier', () => {
  let pki: TestPki;
  let verifier: CertificateVerifier;

  /** What a sandbox TPP presents: its certificate and the sandbox QTSP's intermediate. */
  const sandbox = (issued: IssuedCertificate): PresentedCertificate => ({ leaf: issued.der, chain: [pki.sandboxCa.der] });
  const alone = (issued: IssuedCertificate): PresentedCertificate => ({ leaf: issued.der, chain: [] });

  before(async () => {
    pki = await testPki();
    verifier = new CertificateVerifier(testEnvironments(pki));
  });

  describe('an acceptable certificate', () => {
    it('yields the TPP identity it carries', async () => {
      const tpp = await sandboxTpp({
        roles: ['PSP_AI', 'PSP_PI'],
        organization: 'Acme Payments',
        country: 'FR',
        ncaId: 'FR-ACPR',
        ncaName: 'ACPR',
        authorisationNumber: '12345',
        commonName: 'api.acme.example',
      });
      const identity = verifier.identify(sandbox(tpp));
      expect(identity.environment).to.equal('sandbox');
      expect(identity.roles).to.deep.equal(['PSP_AI', 'PSP_PI']);
      expect(identity.ncaName).to.equal('ACPR');
      expect(identity.ncaId).to.equal('FR-ACPR');
      expect(identity.organizationIdentifier).to.equal('PSDFR-ACPR-12345');
      expect(identity.subjectDn).to.equal('CN=api.acme.example,organizationIdentifier=PSDFR-ACPR-12345,O=Acme Payments,C=FR');
      expect(identity.subject).to.have.length(4);
      expect(identity.thumbprint).to.equal(createHash('sha256').update(tpp.der).digest('base64url'));
      expect(identity.certificate.raw.equals(tpp.der)).to.equal(true);
      expect(identity.notAfter.getTime()).to.equal(tpp.certificate.notAfter.getTime());
    });

    it('ignores unreadable certificates sent along in the chain', async () => {
      const tpp = await sandboxTpp();
      const identity = verifier.identify({ leaf: tpp.der, chain: [Buffer.from('junk'), pki.sandboxCa.der] });
      expect(identity.environment).to.equal('sandbox');
    });

    it('accepts a certificate without the extended key usage extension', async () => {
      const tpp = await sandboxTpp({ extendedKeyUsages: null });
      const strict = new CertificateVerifier(testEnvironments(pki, { sandbox: { requiredExtendedKeyUsages: ['serverAuth', 'clientAuth'] } }));
      expect(strict.identify(sandbox(tpp)).roles).to.deep.equal(['PSP_AI']);
    });

    it('accepts serverAuth alone when the policy requires no extended key usage', async () => {
      const tpp = await sandboxTpp({ extendedKeyUsages: ['serverAuth'] });
      expect(verifier.identify(sandbox(tpp)).environment).to.equal('sandbox');
    });
  });

  describe('rejections', () => {
    it('are invalid_client errors with HTTP status 401', () => {
      const error = rejectionOf(() => verifier.identify(undefined));
      expect(error).to.be.instanceOf(InvalidClientError);
      expect(error.toJSON()).to.deep.equal({ error: 'invalid_client', error_description: error.error_description });
    });

    it('certificate_missing: no certificate presented', () => {
      expectRejection(
        rejectionOf(() => verifier.identify(undefined)),
        'certificate_missing',
        'a client certificate is required: present a QWAC over mutual TLS',
      );
    });

    it('certificate_malformed: bytes that are not an X.509 certificate', () => {
      expectRejection(
        rejectionOf(() => verifier.identify({ leaf: Buffer.from('this is not DER at all'), chain: [] })),
        'certificate_malformed',
        'the client certificate could not be parsed as X.509',
      );
    });

    it('certificate_malformed: a PSD2 role whose name does not match its OID', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_AI'], roleNames: { PSP_AI: 'PSP_PI' } });
      expectRejection(
        rejectionOf(() => verifier.identify(sandbox(tpp))),
        'certificate_malformed',
        'the client certificate is malformed: PSD2 role 0.4.0.19495.1.3 is named "PSP_PI" instead of "PSP_AI"',
      );
    });

    it('issuer_untrusted: issued by a CA no environment trusts', async () => {
      const tpp = await rogueTpp();
      expectRejection(
        rejectionOf(() => verifier.identify({ leaf: tpp.der, chain: [pki.rogueCa.der] })),
        'issuer_untrusted',
        'the client certificate is not issued by a QTSP trusted by this server',
      );
    });

    it('issuer_untrusted: self-signed, with its own wording', async () => {
      const tpp = await sandboxTpp({ selfSigned: true });
      expectRejection(
        rejectionOf(() => verifier.identify(alone(tpp))),
        'issuer_untrusted',
        'the client certificate is self-signed; it must be issued by a QTSP trusted by this server',
      );
    });

    it('issuer_untrusted: the intermediate QTSP certificate was not sent', async () => {
      const tpp = await sandboxTpp();
      expectRejection(
        rejectionOf(() => verifier.identify(alone(tpp))),
        'issuer_untrusted',
        'the client certificate is not issued by a QTSP trusted by this server',
      );
    });

    it('certificate_expired', async () => {
      const notAfter = daysFromNow(-1);
      const tpp = await sandboxTpp({ notBefore: daysFromNow(-30), notAfter });
      expectRejection(
        rejectionOf(() => verifier.identify(sandbox(tpp))),
        'certificate_expired',
        `the client certificate expired on ${notAfter.toISOString()}`,
      );
    });

    it('certificate_not_yet_valid', async () => {
      const notBefore = daysFromNow(2);
      const tpp = await sandboxTpp({ notBefore, notAfter: daysFromNow(30) });
      expectRejection(
        rejectionOf(() => verifier.identify(sandbox(tpp))),
        'certificate_not_yet_valid',
        `the client certificate is not valid before ${notBefore.toISOString()}`,
      );
    });

    it('checks the issuer before the validity period', async () => {
      const tpp = await rogueTpp({ notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) });
      expect(rejectionOf(() => verifier.identify(alone(tpp))).reason).to.equal('issuer_untrusted');
    });

    it('not_website_certificate: QcType eseal (a QSealC)', async () => {
      const tpp = await sandboxTpp({ qcType: 'eseal' });
      expectRejection(
        rejectionOf(() => verifier.identify(sandbox(tpp))),
        'not_website_certificate',
        'the client certificate is not a website authentication certificate (QcType eseal, expected web)',
      );
    });

    it('not_website_certificate: QcType esign, even where qualified statements are not required', async () => {
      const tpp = await sandboxTpp({ qcType: 'esign' });
      expectRejection(
        rejectionOf(() => verifier.identify(sandbox(tpp))),
        'not_website_certificate',
        'the client certificate is not a website authentication certificate (QcType esign, expected web)',
      );
    });

    it('not_website_certificate: no QcCompliance where qualified statements are required', async () => {
      const tpp = await bankTpp({ qcCompliance: false });
      expectRejection(rejectionOf(() => verifier.identify(alone(tpp))), 'not_website_certificate', NOT_WEBSITE_QUALIFIED);
    });

    it('not_website_certificate: no QcType where qualified statements are required', async () => {
      const tpp = await bankTpp({ qcType: null });
      expectRejection(rejectionOf(() => verifier.identify(alone(tpp))), 'not_website_certificate', NOT_WEBSITE_QUALIFIED);
    });

    it('not_website_certificate: a required extended key usage is missing', async () => {
      const strict = new CertificateVerifier(testEnvironments(pki, { sandbox: { requiredExtendedKeyUsages: ['serverAuth', 'clientAuth'] } }));
      const tpp = await sandboxTpp({ extendedKeyUsages: ['serverAuth'] });
      expectRejection(
        rejectionOf(() => strict.identify(sandbox(tpp))),
        'not_website_certificate',
        'the client certificate lacks the extended key usage clientAuth',
      );
      const both = await sandboxTpp({ extendedKeyUsages: ['serverAuth', 'clientAuth'] });
      expect(strict.identify(sandbox(both)).environment).to.equal('sandbox');
    });

    it('no_psd2_roles: no PSD2 statement', async () => {
      const tpp = await sandboxTpp({ psd2Statement: false });
      expectRejection(rejectionOf(() => verifier.identify(sandbox(tpp))), 'no_psd2_roles', NO_ROLES);
    });

    it('no_psd2_roles: a PSD2 statement with no roles', async () => {
      const tpp = await sandboxTpp({ roles: [] });
      expectRejection(rejectionOf(() => verifier.identify(sandbox(tpp))), 'no_psd2_roles', NO_ROLES);
    });

    it('organization_identifier_invalid: no organizationIdentifier', async () => {
      const tpp = await sandboxTpp({ organizationIdentifier: null });
      expectRejection(rejectionOf(() => verifier.identify(sandbox(tpp))), 'organization_identifier_invalid', NO_ORGANIZATION_IDENTIFIER);
    });

    it('organization_identifier_invalid: an organizationIdentifier that is not a PSD2 one', async () => {
      const tpp = await sandboxTpp({ organizationIdentifier: 'VATFR-12345678901' });
      expectRejection(rejectionOf(() => verifier.identify(sandbox(tpp))), 'organization_identifier_invalid', NO_ORGANIZATION_IDENTIFIER);
    });

    it("organization_identifier_invalid: its NCA part disagrees with the statement's nCAId", async () => {
      const tpp = await sandboxTpp({ ncaId: 'FR-ACPR', organizationIdentifier: 'PSDDE-BAFIN-12345' });
      expectRejection(
        rejectionOf(() => verifier.identify(sandbox(tpp))),
        'organization_identifier_invalid',
        "the organizationIdentifier PSDDE-BAFIN-12345 does not agree with the PSD2 statement's NCA id FR-ACPR",
      );
    });

    it('accepts an organizationIdentifier whose NCA part agrees with nCAId (control)', async () => {
      const tpp = await sandboxTpp({ ncaId: 'DE-BAFIN', organizationIdentifier: 'PSDDE-BAFIN-12345' });
      expect(verifier.identify(sandbox(tpp)).organizationIdentifier).to.equal('PSDDE-BAFIN-12345');
    });
  });

  describe('environments', () => {
    it('places a certificate chaining to the sandbox root in the sandbox', async () => {
      expect(verifier.identify(sandbox(await sandboxTpp())).environment).to.equal('sandbox');
    });

    it('places a certificate of the bank QTSP in the bank environment', async () => {
      expect(verifier.identify(alone(await bankTpp())).environment).to.equal('bank');
    });

    it('refuses a sandbox certificate where only the bank environment is configured', async () => {
      const bankOnly = new CertificateVerifier(testEnvironments(pki).filter((env) => env.name === 'bank'));
      const tpp = await sandboxTpp();
      const error = rejectionOf(() => bankOnly.identify(sandbox(tpp)));
      expectRejection(error, 'issuer_untrusted', 'the client certificate is not issued by a QTSP trusted by this server');
    });

    it('refuses a bank certificate where only the sandbox environment is configured', async () => {
      const sandboxOnly = new CertificateVerifier(testEnvironments(pki).filter((env) => env.name === 'sandbox'));
      const tpp = await bankTpp();
      expect(rejectionOf(() => sandboxOnly.identify(alone(tpp))).reason).to.equal('issuer_untrusted');
    });

    it('applies each environment its own qualified-statements policy', async () => {
      const options = { qcCompliance: false, qcType: null } as const;
      expect(verifier.identify(sandbox(await sandboxTpp(options))).environment).to.equal('sandbox');
      const issuedByBank = await bankTpp(options);
      expect(rejectionOf(() => verifier.identify(alone(issuedByBank))).reason).to.equal('not_website_certificate');
    });
  });

  describe('clock', () => {
    it('rejects at a later date a certificate it accepted before (the cache does not hide expiry)', async () => {
      const notAfter = daysFromNow(10);
      const tpp = await sandboxTpp({ notAfter });
      let now = new Date();
      const clocked = new CertificateVerifier(testEnvironments(pki), () => now);
      expect(clocked.identify(sandbox(tpp)).environment).to.equal('sandbox');
      now = daysFromNow(11);
      expectRejection(rejectionOf(() => clocked.identify(sandbox(tpp))), 'certificate_expired', `the client certificate expired on ${notAfter.toISOString()}`);
      now = new Date();
      expect(clocked.identify(sandbox(tpp)).environment).to.equal('sandbox');
    });

    it('rejects at an earlier date a certificate it accepted before', async () => {
      const notBefore = daysFromNow(5);
      const tpp = await sandboxTpp({ notBefore, notAfter: daysFromNow(30) });
      let now = daysFromNow(6);
      const clocked = new CertificateVerifier(testEnvironments(pki), () => now);
      expect(clocked.identify(sandbox(tpp)).roles).to.deep.equal(['PSP_AI']);
      now = daysFromNow(4);
      expectRejection(
        rejectionOf(() => clocked.identify(sandbox(tpp))),
        'certificate_not_yet_valid',
        `the client certificate is not valid before ${notBefore.toISOString()}`,
      );
    });

    it('uses the injected clock, not the system clock', async () => {
      const tpp = await sandboxTpp({ notBefore: daysFromNow(-1), notAfter: daysFromNow(10) });
      const later = new CertificateVerifier(testEnvironments(pki), () => daysFromNow(20));
      expect(rejectionOf(() => later.identify(sandbox(tpp))).reason).to.equal('certificate_expired');
      const future = await sandboxTpp({ notBefore: daysFromNow(5), notAfter: daysFromNow(30) });
      const inFiveDays = new CertificateVerifier(testEnvironments(pki), () => daysFromNow(6));
      expect(inFiveDays.identify(sandbox(future)).environment).to.equal('sandbox');
    });

    it('rejects at a later date a certificate whose intermediate has expired by then (the cache does not hide it)', async () => {
      const shortLivedCa = await createAuthority('Short-lived Sandbox QTSP', { issuer: pki.sandboxRoot, notAfter: daysFromNow(10) });
      const tpp = await issueTppCertificate(shortLivedCa, { notAfter: daysFromNow(300) });
      const presented = { leaf: tpp.der, chain: [shortLivedCa.der] };
      let now = new Date();
      const clocked = new CertificateVerifier(testEnvironments(pki), () => now);
      expect(clocked.identify(presented).environment).to.equal('sandbox');
      now = daysFromNow(20);
      expectRejection(
        rejectionOf(() => clocked.identify(presented)),
        'issuer_untrusted',
        'the client certificate is not issued by a QTSP trusted by this server',
      );
    });

    it('gives the same answer from its cache as on first sight', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_IC'] });
      const first = verifier.identify(sandbox(tpp));
      const second = verifier.identify(sandbox(tpp));
      expect(second).to.deep.equal(first);
      const rogue = await rogueTpp();
      expect(rejectionOf(() => verifier.identify(alone(rogue))).reason).to.equal('issuer_untrusted');
      expect(rejectionOf(() => verifier.identify(alone(rogue))).reason).to.equal('issuer_untrusted');
    });
  });
});
