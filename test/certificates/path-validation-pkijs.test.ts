/**
 * The same certificates through pkijs' CertificateChainValidationEngine, an independent RFC 5280
 * implementation: where it processes a rule (signatures, name constraints below the trust anchor,
 * certificate policies), both must reach the same verdict.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';

import { expect } from 'chai';
import * as pkijs from 'pkijs';

import { CertificateVerifier, type PresentedCertificate } from '../../lib/certificates/identity.js';
import type { IssuedCertificate } from '../../tools/dev-pki/pki.js';
import { sandboxTpp, testPki, type TestPki } from '../support/pki.js';
import { nodeCertificate } from './helpers.js';
import { mint, tppSubject, type MintOptions, type Minted } from './path-pki.js';

const POLICY_A = '1.3.6.1.4.1.55555.2.1';
const POLICY_B = '1.3.6.1.4.1.55555.2.2';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'] }));

async function pkijsAccepts(anchor: IssuedCertificate, leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]): Promise<boolean> {
  const read = (certificate: IssuedCertificate) => pkijs.Certificate.fromBER(certificate.der);
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: [read(anchor)],
    // pkijs takes the last certificate for the end entity.
    certs: [...chain, leaf].map(read),
    checkDate: new Date(),
  });
  return (await engine.verify()).result;
}

function present(leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]): PresentedCertificate {
  return { leaf: leaf.der, chain: chain.map((certificate) => certificate.der) };
}

describe('certificate path validation agrees with pkijs', () => {
  let pki: TestPki;
  let root: Minted;
  let verifier: CertificateVerifier;

  const ca = (name: string, options: Partial<MintOptions> = {}) => mint({
    issuer: root, subject: `C=EU,O=${name},CN=${name}`, ca: { pathLength: 0 }, freshKey: true, ...options,
  });
  const tpp = (issuer: Minted, options: Partial<MintOptions> = {}) => mint({ issuer, subject: tppSubject('api.path-tpp.example'), ...options });

  /** Both verdicts on the same certificates, ours first. */
  async function verdicts(leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]): Promise<[string, string]> {
    let ours = 'accepted';
    try {
      verifier.identify(present(leaf, ...chain));
    } catch (error) {
      ours = `refused (${(error as { reason?: string }).reason})`;
    }
    return [ours, (await pkijsAccepts(root, leaf, ...chain)) ? 'accepted' : 'refused'];
  }

  before(async () => {
    pki = await testPki();
    root = await mint({ subject: 'C=EU,O=Cross-check Root,CN=Cross-check Root', ca: { pathLength: 1 }, freshKey: true });
    verifier = new CertificateVerifier([{ name: 'sandbox', anchors: [root.node], requireQualifiedStatements: true, requiredExtendedKeyUsages: [] }]);
  });

  it('both accept the sandbox path of the test PKI', async () => {
    const leaf = await sandboxTpp();
    const sandbox = new CertificateVerifier([{ name: 'sandbox', anchors: [nodeCertificate(pki.sandboxRoot)], requireQualifiedStatements: false, requiredExtendedKeyUsages: [] }]);
    expect(sandbox.identify(present(leaf, pki.sandboxCa)).environment).to.equal('sandbox');
    expect(await pkijsAccepts(pki.sandboxRoot, leaf, pki.sandboxCa)).to.equal(true);
  });

  it('both accept a plain path of minted certificates', async () => {
    const issuer = await ca('Cross Plain QTSP');
    expect(await verdicts(await tpp(issuer), issuer)).to.deep.equal(['accepted', 'accepted']);
  });

  it('both refuse a leaf signed by another key than its issuer\'s', async () => {
    const issuer = await ca('Cross Signer QTSP');
    const impostor = await mint({ issuer: root, subject: 'C=EU,O=Cross Signer QTSP,CN=Cross Signer QTSP', ca: { pathLength: 0 }, freshKey: true });
    expect(await verdicts(await tpp(impostor), issuer)).to.deep.equal(['refused (issuer_untrusted)', 'refused']);
  });

  describe('name constraints', () => {
    let constrained: Minted;
    before(async () => {
      constrained = await ca('Cross Constrained QTSP', {
        nameConstraints: {
          permitted: [{ directoryName: 'C=FR,O=Path TPP' }, { dNSName: 'path-tpp.example' }, { iPAddress: '192.0.2.0/24' }],
          excluded: [{ dNSName: 'internal.path-tpp.example' }, { directoryName: 'C=FR,O=Path TPP,CN=blocked.path-tpp.example' }],
        },
      });
    });

    it('both accept names inside the permitted subtrees', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }, { type: 'ip', value: '192.0.2.10' }] });
      expect(await verdicts(leaf, constrained)).to.deep.equal(['accepted', 'accepted']);
    });

    it('both refuse a subject outside the permitted directory names', async () => {
      const leaf = await tpp(constrained, { subject: tppSubject('api.path-tpp.example', 'Other TPP'), subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }] });
      expect(await verdicts(leaf, constrained)).to.deep.equal(['refused (name_constraints_violated)', 'refused']);
    });

    it('both refuse a DNS name outside the permitted subtrees', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'www.bank.example' }] });
      expect(await verdicts(leaf, constrained)).to.deep.equal(['refused (name_constraints_violated)', 'refused']);
    });

    it('both refuse a DNS name in an excluded subtree', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'db.internal.path-tpp.example' }] });
      expect(await verdicts(leaf, constrained)).to.deep.equal(['refused (name_constraints_violated)', 'refused']);
    });

    it('both refuse a subject in an excluded directory name', async () => {
      const leaf = await tpp(constrained, { subject: 'C=FR,O=Path TPP,CN=blocked.path-tpp.example,2.5.4.97=PSDFR-NCA-PATHTPP', subjectAltNames: [{ type: 'dns', value: 'blocked.path-tpp.example' }] });
      expect(await verdicts(leaf, constrained)).to.deep.equal(['refused (name_constraints_violated)', 'refused']);
    });

    it('both refuse an IP address outside the permitted range', async () => {
      const leaf = await tpp(constrained, { subjectAltNames: [{ type: 'dns', value: 'api.path-tpp.example' }, { type: 'ip', value: '198.51.100.1' }] });
      expect(await verdicts(leaf, constrained)).to.deep.equal(['refused (name_constraints_violated)', 'refused']);
    });
  });

  describe('certificate policies', () => {
    it('both accept a path that shares the policy it requires', async () => {
      const issuer = await ca('Cross Explicit QTSP', { policies: [POLICY_A], policyConstraints: { requireExplicitPolicy: 0 } });
      expect(await verdicts(await tpp(issuer, { policies: [POLICY_A] }), issuer)).to.deep.equal(['accepted', 'accepted']);
    });

    it('both refuse a path that requires an explicit policy when the leaf has another', async () => {
      const issuer = await ca('Cross Other Policy QTSP', { policies: [POLICY_A], policyConstraints: { requireExplicitPolicy: 0 } });
      expect(await verdicts(await tpp(issuer, { policies: [POLICY_B] }), issuer)).to.deep.equal(['refused (certificate_policy_invalid)', 'refused']);
    });

    it('both accept differing policies where none is required', async () => {
      const issuer = await ca('Cross Free Policy QTSP', { policies: [POLICY_A] });
      expect(await verdicts(await tpp(issuer, { policies: [POLICY_B] }), issuer)).to.deep.equal(['accepted', 'accepted']);
    });
  });
});
