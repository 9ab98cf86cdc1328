import 'reflect-metadata';

import { AsnConvert } from '@peculiar/asn1-schema';
import { QCStatement, QCStatements } from '@peculiar/asn1-x509-qualified';
import * as x509 from '@peculiar/x509';
import { expect } from 'chai';

import { OID, PSD2_ROLES, type Psd2Role } from '../../lib/certificates/oids.js';
import { CertificateContentError, readCertificateContents } from '../../lib/certificates/parse.js';
import { Psd2QcType, RoleOfPsp, RolesOfPsp } from '../../lib/certificates/psd2-statement.js';
import { sandboxTpp } from '../support/pki.js';

/** A self-signed certificate carrying exactly the given qcStatements extension value. */
async function withQcStatements(extensionValue: ArrayBuffer | Uint8Array): Promise<Buffer> {
  const { keys } = await sandboxTpp();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=custom.example, O=Custom, C=FR',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    keys,
    extensions: [new x509.Extension(OID.qcStatements, false, extensionValue)],
  });
  return Buffer.from(certificate.rawData);
}

function statement(statementId: string, statementInfo?: ArrayBuffer): QCStatement {
  const result = new QCStatement();
  result.statementId = statementId;
  (result as { statementInfo?: ArrayBuffer }).statementInfo = statementInfo;
  return result;
}

function psd2Info(roles: { oid: string; name: string }[], ncaName = 'Autorité', ncaId = 'FR-ACPR'): ArrayBuffer {
  return AsnConvert.serialize(new Psd2QcType({
    rolesOfPSP: new RolesOfPsp(roles.map((role) => new RoleOfPsp({ roleOfPspOid: role.oid, roleOfPspName: role.name }))),
    nCAName: ncaName,
    nCAId: ncaId,
  }));
}

describe('readCertificateContents', () => {
  describe('PSD2 roles', () => {
    const combinations: Psd2Role[][] = [
      ['PSP_AS'],
      ['PSP_PI'],
      ['PSP_AI'],
      ['PSP_IC'],
      ['PSP_AI', 'PSP_PI'],
      ['PSP_AI', 'PSP_IC'],
      ['PSP_PI', 'PSP_IC'],
      ['PSP_AS', 'PSP_PI', 'PSP_AI', 'PSP_IC'],
    ];
    for (const roles of combinations) {
      it(`reads ${roles.join(' + ')}`, async () => {
        const tpp = await sandboxTpp({ roles });
        expect(readCertificateContents(tpp.der).psd2?.roles).to.deep.equal(roles);
      });
    }

    it('reads roles in the order the certificate lists them', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_IC', 'PSP_AI'] });
      expect(readCertificateContents(tpp.der).psd2?.roles).to.deep.equal(['PSP_IC', 'PSP_AI']);
    });

    it('lists a role repeated in the certificate once', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_AI', 'PSP_AI', 'PSP_PI'] });
      expect(readCertificateContents(tpp.der).psd2?.roles).to.deep.equal(['PSP_AI', 'PSP_PI']);
    });

    it('reads a PSD2 statement without roles as an empty list', async () => {
      const tpp = await sandboxTpp({ roles: [] });
      const { psd2 } = readCertificateContents(tpp.der);
      expect(psd2).to.not.equal(undefined);
      expect(psd2?.roles).to.deep.equal([]);
    });

    it('ignores role OIDs that are not PSD2 roles', async () => {
      const der = await withQcStatements(AsnConvert.serialize(new QCStatements([
        statement(OID.psd2Statement, psd2Info([
          { oid: '0.4.0.19495.1.99', name: 'PSP_XX' },
          { oid: PSD2_ROLES.PSP_PI, name: 'PSP_PI' },
        ])),
      ])));
      expect(readCertificateContents(der).psd2?.roles).to.deep.equal(['PSP_PI']);
    });

    it('has no PSD2 attributes when the certificate carries no PSD2 statement', async () => {
      const tpp = await sandboxTpp({ psd2Statement: false });
      expect(readCertificateContents(tpp.der).psd2).to.equal(undefined);
    });

    it('throws when a role name does not match its OID', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_AI', 'PSP_PI'], roleNames: { PSP_PI: 'PSP_AI' } });
      expect(() => readCertificateContents(tpp.der)).to.throw(
        CertificateContentError,
        'PSD2 role 0.4.0.19495.1.2 is named "PSP_AI" instead of "PSP_PI"',
      );
    });
  });

  it('reads the NCA name and id', async () => {
    const tpp = await sandboxTpp({ ncaName: 'Autorité de contrôle prudentiel et de résolution', ncaId: 'FR-ACPR' });
    const { psd2 } = readCertificateContents(tpp.der);
    expect(psd2?.ncaName).to.equal('Autorité de contrôle prudentiel et de résolution');
    expect(psd2?.ncaId).to.equal('FR-ACPR');
  });

  it('reads the subject, organizationIdentifier included, in certificate order', async () => {
    const tpp = await sandboxTpp({ organization: 'Acme Payments', country: 'BE', ncaId: 'BE-NBB', authorisationNumber: '0123456789', commonName: 'api.acme.example' });
    const contents = readCertificateContents(tpp.der);
    expect(contents.organizationIdentifier).to.equal('PSDBE-NBB-0123456789');
    expect(contents.subject).to.deep.equal([
      { oid: '2.5.4.6', value: 'BE' },
      { oid: '2.5.4.10', value: 'Acme Payments' },
      { oid: '2.5.4.97', value: 'PSDBE-NBB-0123456789' },
      { oid: '2.5.4.3', value: 'api.acme.example' },
    ]);
  });

  it('has no organizationIdentifier when the subject lacks one', async () => {
    const tpp = await sandboxTpp({ organizationIdentifier: null });
    const contents = readCertificateContents(tpp.der);
    expect(contents.organizationIdentifier).to.equal(undefined);
    expect(contents.subject.map((a) => a.oid)).to.not.include('2.5.4.97');
  });

  describe('qualified statements', () => {
    it('reads QcCompliance and QcType web of a QWAC', async () => {
      const tpp = await sandboxTpp();
      const contents = readCertificateContents(tpp.der);
      expect(contents.qcCompliance).to.equal(true);
      expect(contents.qcTypes).to.deep.equal([OID.qcTypeWeb]);
    });

    it('reads QcType eseal of a QSealC', async () => {
      const tpp = await sandboxTpp({ qcType: 'eseal' });
      expect(readCertificateContents(tpp.der).qcTypes).to.deep.equal([OID.qcTypeEseal]);
    });

    it('reads QcType esign', async () => {
      const tpp = await sandboxTpp({ qcType: 'esign' });
      expect(readCertificateContents(tpp.der).qcTypes).to.deep.equal([OID.qcTypeEsign]);
    });

    it('reports QcCompliance and QcType absent when the certificate lacks them', async () => {
      const tpp = await sandboxTpp({ qcCompliance: false, qcType: null });
      const contents = readCertificateContents(tpp.der);
      expect(contents.qcCompliance).to.equal(false);
      expect(contents.qcTypes).to.deep.equal([]);
      expect(contents.psd2?.roles).to.deep.equal(['PSP_AI']);
    });

    it('reads a certificate without any qcStatements extension', async () => {
      const tpp = await sandboxTpp({ qcCompliance: false, qcType: null, psd2Statement: false });
      const contents = readCertificateContents(tpp.der);
      expect(contents).to.include({ qcCompliance: false, psd2: undefined });
      expect(contents.qcTypes).to.deep.equal([]);
    });
  });

  describe('extended key usages', () => {
    it('reads serverAuth and clientAuth', async () => {
      const tpp = await sandboxTpp();
      expect(readCertificateContents(tpp.der).extendedKeyUsages).to.deep.equal([OID.serverAuth, OID.clientAuth]);
    });

    it('reads serverAuth alone', async () => {
      const tpp = await sandboxTpp({ extendedKeyUsages: ['serverAuth'] });
      expect(readCertificateContents(tpp.der).extendedKeyUsages).to.deep.equal([OID.serverAuth]);
    });

    it('reports the extension absent as undefined, not as an empty list', async () => {
      const tpp = await sandboxTpp({ extendedKeyUsages: null });
      expect(readCertificateContents(tpp.der).extendedKeyUsages).to.equal(undefined);
    });
  });

  describe('malformed input', () => {
    it('throws on bytes that are not DER', () => {
      expect(() => readCertificateContents(Buffer.from('certainly not a certificate'))).to.throw(
        CertificateContentError,
        'not a DER-encoded X.509 certificate',
      );
    });

    it('throws on empty input', () => {
      expect(() => readCertificateContents(new Uint8Array())).to.throw(CertificateContentError, 'not a DER-encoded X.509 certificate');
    });

    it('throws on a truncated certificate', async () => {
      const tpp = await sandboxTpp();
      expect(() => readCertificateContents(tpp.der.subarray(0, tpp.der.length - 40))).to.throw(
        CertificateContentError,
        'not a DER-encoded X.509 certificate',
      );
    });

    it('throws on DER of another structure', () => {
      // SEQUENCE { INTEGER 1 }
      expect(() => readCertificateContents(Buffer.from('3003020101', 'hex'))).to.throw(CertificateContentError, 'not a DER-encoded X.509 certificate');
    });

    it('throws when the qcStatements extension is not ASN.1', async () => {
      const der = await withQcStatements(new Uint8Array([0x01, 0x02, 0x03]));
      expect(() => readCertificateContents(der)).to.throw(CertificateContentError, `extension ${OID.qcStatements} is malformed`);
    });

    it('throws when the PSD2 statement has no content', async () => {
      const der = await withQcStatements(AsnConvert.serialize(new QCStatements([statement(OID.psd2Statement)])));
      expect(() => readCertificateContents(der)).to.throw(CertificateContentError, 'PSD2 QCStatement has no content');
    });

    it('throws when the PSD2 statement is not a PSD2QcType', async () => {
      // SEQUENCE { INTEGER 1 } where SEQUENCE { rolesOfPSP, nCAName, nCAId } is expected.
      const der = await withQcStatements(AsnConvert.serialize(new QCStatements([
        statement(OID.psd2Statement, new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]).buffer),
      ])));
      expect(() => readCertificateContents(der)).to.throw(CertificateContentError, `extension ${OID.qcStatements} is malformed`);
    });

    it('reads a well-formed hand-built statement (control for the malformed cases)', async () => {
      const der = await withQcStatements(AsnConvert.serialize(new QCStatements([
        statement(OID.qcCompliance),
        statement(OID.psd2Statement, psd2Info([{ oid: PSD2_ROLES.PSP_AI, name: 'PSP_AI' }])),
      ])));
      const contents = readCertificateContents(der);
      expect(contents.qcCompliance).to.equal(true);
      expect(contents.psd2).to.deep.equal({ roles: ['PSP_AI'], ncaName: 'Autorité', ncaId: 'FR-ACPR' });
    });
  });
});
