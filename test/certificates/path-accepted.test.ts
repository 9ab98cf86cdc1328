/**
 * Certificate path validation (RFC 5280 §6.1): the paths it accepts, and the path it returns.
 */
import 'reflect-metadata';

import { expect } from 'chai';
import * as x509 from '@peculiar/x509';

import { OID } from '../../lib/certificates/oids.js';
import { sandboxTpp } from '../support/pki.js';
import { mint, tppSubject, unknownExtension } from './path-pki.js';
import { ANY_USAGE, CODE_SIGNING, pathSuite } from './path-suite.js';

describe('certificate path validation (RFC 5280 §6.1)', () => {
  const suite = pathSuite();
  const { pki, qtsp, tpp, identify } = suite;

  describe('correct paths', () => {
    it('accepts leaf, intermediate and root of the sandbox PKI, and returns the path leaf first, anchor last', async () => {
      const leaf = await sandboxTpp();
      const identity = suite.verifier.identify({ leaf: leaf.der, chain: [pki.sandboxCa.der] });
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
      const leaf = await tpp(suite.plainCa);
      const first = identify(leaf, suite.plainCa);
      const second = identify(leaf, suite.plainCa);
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
        expect(identify(await tpp(suite.plainCa, { key }), suite.plainCa).environment, key).to.equal('sandbox');
      }
      for (const hash of ['SHA-384', 'SHA-512'] as const) {
        expect(identify(await tpp(suite.plainCa, { hash }), suite.plainCa).environment, hash).to.equal('sandbox');
      }
    });

    it('accepts RSA and Ed25519 intermediates, and the signatures they make', async () => {
      for (const key of ['RSA-2048', 'Ed25519'] as const) {
        const ca = await qtsp(`Path ${key} QTSP`, { key });
        expect(identify(await tpp(ca), ca).environment, key).to.equal('sandbox');
      }
    });

    it('accepts a non-critical extension it does not know', async () => {
      const leaf = await tpp(suite.plainCa, { extensions: [unknownExtension(false)] });
      expect(identify(leaf, suite.plainCa).environment).to.equal('sandbox');
    });

    it('accepts extended key usages that allow TLS client authentication, including serverAuth alone (QWACs without clientAuth)', async () => {
      for (const usages of [[OID.clientAuth], [OID.serverAuth], [ANY_USAGE], [CODE_SIGNING, OID.clientAuth]]) {
        expect(identify(await tpp(suite.plainCa, { extendedKeyUsages: usages }), suite.plainCa).environment, usages.join()).to.equal('sandbox');
      }
    });

    it('accepts intermediates whose extended key usage allows clientAuth or any usage', async () => {
      for (const usages of [[OID.serverAuth, OID.clientAuth], [ANY_USAGE]]) {
        const ca = await qtsp(`EKU ${usages.length} QTSP`, { extendedKeyUsages: usages });
        expect(identify(await tpp(ca), ca).environment).to.equal('sandbox');
      }
    });

    it('accepts key usages that include digitalSignature', async () => {
      const leaf = await tpp(suite.plainCa, { keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.nonRepudiation });
      expect(identify(leaf, suite.plainCa).environment).to.equal('sandbox');
    });
  });
});
