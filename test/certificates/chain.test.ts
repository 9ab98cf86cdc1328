import type { X509Certificate } from 'node:crypto';

import { expect } from 'chai';

import { chainsToAnchor } from '../../lib/certificates/chain.js';
import { createAuthority, issueTppCertificate, type Authority } from '../../tools/dev-pki/pki.js';
import { testPki, type TestPki } from '../support/pki.js';
import { DAY, daysFromNow, nodeCertificate } from './helpers.js';

describe('chainsToAnchor', () => {
  let pki: TestPki;
  let root: X509Certificate;
  let intermediate: X509Certificate;
  let leaf: X509Certificate;
  const now = new Date();

  before(async () => {
    pki = await testPki();
    root = nodeCertificate(pki.sandboxRoot);
    intermediate = nodeCertificate(pki.sandboxCa);
    leaf = nodeCertificate(await issueTppCertificate(pki.sandboxCa));
  });

  it('follows root → intermediate → leaf', () => {
    expect(chainsToAnchor(leaf, [intermediate], [root], now)).to.equal(true);
  });

  it('enforces basicConstraints path length: a CA limited to 0 may not issue another CA', async () => {
    // sandboxCa has pathLenConstraint 0; a CA under it breaks the root → sandboxCa link.
    const subordinate = await createAuthority('Too Deep CA', { issuer: pki.sandboxCa });
    const deepLeaf = nodeCertificate(await issueTppCertificate(subordinate));
    expect(chainsToAnchor(deepLeaf, [nodeCertificate(subordinate), intermediate], [root], now)).to.equal(false);
    // Trusting the subordinate directly is fine: nothing sits between it and the leaf.
    expect(chainsToAnchor(deepLeaf, [], [nodeCertificate(subordinate)], now)).to.equal(true);
  });

  it('accepts a leaf issued directly by an anchor', async () => {
    const bankLeaf = nodeCertificate(await issueTppCertificate(pki.bankCa));
    expect(chainsToAnchor(bankLeaf, [], [nodeCertificate(pki.bankCa)], now)).to.equal(true);
  });

  it('accepts an intermediate configured as the anchor itself', () => {
    expect(chainsToAnchor(leaf, [], [intermediate], now)).to.equal(true);
  });

  it('finds the path among unrelated and duplicate intermediates in any order', () => {
    const unrelated = [nodeCertificate(pki.bankCa), nodeCertificate(pki.rogueCa), nodeCertificate(pki.serverCa)];
    expect(chainsToAnchor(leaf, [...unrelated, intermediate, intermediate], [nodeCertificate(pki.bankCa), root], now)).to.equal(true);
  });

  it('fails when the intermediate is missing', () => {
    expect(chainsToAnchor(leaf, [], [root], now)).to.equal(false);
  });

  it('fails against the wrong anchor', () => {
    expect(chainsToAnchor(leaf, [intermediate], [nodeCertificate(pki.bankCa)], now)).to.equal(false);
    expect(chainsToAnchor(leaf, [intermediate], [], now)).to.equal(false);
  });

  it('fails for a leaf of an untrusted CA, even when it is sent along', async () => {
    const rogueLeaf = nodeCertificate(await issueTppCertificate(pki.rogueCa));
    expect(chainsToAnchor(rogueLeaf, [nodeCertificate(pki.rogueCa)], [root], now)).to.equal(false);
  });

  it('fails for an impostor CA that copies the trusted CA name but has its own key', async () => {
    const impostor = await createAuthority(pki.sandboxCa.name, { issuer: pki.rogueCa });
    expect(nodeCertificate(impostor).subject).to.equal(intermediate.subject);
    const forged = nodeCertificate(await issueTppCertificate(impostor));
    expect(chainsToAnchor(forged, [nodeCertificate(impostor)], [root], now)).to.equal(false);
    expect(chainsToAnchor(forged, [nodeCertificate(impostor), intermediate], [root], now)).to.equal(false);
  });

  describe('validity of the CA certificates', () => {
    let oldRoot: X509Certificate;
    let expiredCa: Authority;
    let expiredCaLeaf: X509Certificate;

    before(async () => {
      const oldRootAuthority = await createAuthority('Old Root', { notBefore: daysFromNow(-90) });
      oldRoot = nodeCertificate(oldRootAuthority);
      expiredCa = await createAuthority('Expired Intermediate', {
        issuer: oldRootAuthority,
        notBefore: daysFromNow(-60),
        notAfter: daysFromNow(-1),
      });
      expiredCaLeaf = nodeCertificate(await issueTppCertificate(expiredCa, { notBefore: daysFromNow(-30), notAfter: daysFromNow(30) }));
    });

    it('fails through an expired intermediate', () => {
      expect(chainsToAnchor(expiredCaLeaf, [nodeCertificate(expiredCa)], [oldRoot], now)).to.equal(false);
    });

    it('succeeds through that intermediate at a time it was valid (control)', () => {
      expect(chainsToAnchor(expiredCaLeaf, [nodeCertificate(expiredCa)], [oldRoot], daysFromNow(-10))).to.equal(true);
    });

    it('fails through an intermediate that is not yet valid', async () => {
      const futureCa = await createAuthority('Future Intermediate', { issuer: pki.sandboxRoot, notBefore: daysFromNow(10), notAfter: daysFromNow(100) });
      const futureLeaf = nodeCertificate(await issueTppCertificate(futureCa));
      expect(chainsToAnchor(futureLeaf, [nodeCertificate(futureCa)], [root], now)).to.equal(false);
      expect(chainsToAnchor(futureLeaf, [nodeCertificate(futureCa)], [root], daysFromNow(11))).to.equal(true);
    });

    it('fails when the anchor itself is expired at the given time', () => {
      const afterRoot = new Date(new Date(root.validTo).getTime() + DAY);
      expect(chainsToAnchor(leaf, [intermediate], [root], afterRoot)).to.equal(false);
    });

    it('leaves the validity of the leaf itself to the caller', async () => {
      const expiredLeaf = nodeCertificate(await issueTppCertificate(pki.sandboxCa, { notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) }));
      expect(chainsToAnchor(expiredLeaf, [intermediate], [root], now)).to.equal(true);
    });
  });

  describe('CA constraints', () => {
    it('does not accept a non-CA certificate as an intermediate', async () => {
      const tpp = await issueTppCertificate(pki.sandboxCa);
      const fakeAuthority: Authority = { ...tpp, name: 'not a CA' };
      const issuedByLeaf = nodeCertificate(await issueTppCertificate(fakeAuthority));
      expect(chainsToAnchor(issuedByLeaf, [nodeCertificate(tpp), intermediate], [root], now)).to.equal(false);
    });

    it('does not accept a non-CA certificate as an anchor', async () => {
      const tpp = await issueTppCertificate(pki.sandboxCa);
      const issuedByLeaf = nodeCertificate(await issueTppCertificate({ ...tpp, name: 'not a CA' }));
      expect(chainsToAnchor(issuedByLeaf, [], [nodeCertificate(tpp)], now)).to.equal(false);
    });

    it('does not accept a self-signed leaf as its own anchor', async () => {
      const selfSigned = nodeCertificate(await issueTppCertificate(pki.sandboxCa, { selfSigned: true }));
      expect(chainsToAnchor(selfSigned, [selfSigned], [root, selfSigned], now)).to.equal(false);
    });
  });
});
