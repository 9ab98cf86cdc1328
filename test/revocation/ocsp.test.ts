import { expect } from 'chai';

import { createAuthority } from '../../tools/dev-pki/pki.js';
import { pathOf, suiteQtsp, testChecker } from './helpers.js';

describe('revocation: OCSP with a real openssl ocsp responder', function () {
  const qtsp = suiteQtsp('OCSP Test QTSP', {}, true);

  it('a valid certificate is good, by OCSP alone', async function () {
    const leaf = await qtsp.issue();
    const { checker } = testChecker();
    expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.deep.equal({ status: 'good' });
    expect(qtsp.requests).to.deep.equal({ ocsp: 1, crl: 0 });
  });

  it('a certificate revoked with openssl ca -revoke is revoked, with the time and reason the responder gives', async function () {
    const leaf = await qtsp.issue();
    await qtsp.revoke(leaf, 'keyCompromise');
    const { checker, logger } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect(status).to.include({ status: 'revoked', certificate: 'leaf', source: 'ocsp', reason: 'keyCompromise', serial: leaf.certificate.serialNumber.toUpperCase() });
    if (status.status !== 'revoked') throw new Error('not revoked');
    expect(status.subject).to.include('CN=example-tpp.example');
    expect(status.revokedAt).to.be.instanceOf(Date);
    expect(Math.abs((status.revokedAt as Date).getTime() - Date.now())).to.be.below(60_000);
    expect(status.description).to.match(/^the certificate .* was revoked on .* \(keyCompromise\), as its issuer's OCSP responder http:\/\/127\.0\.0\.1:\d+\/ocsp says$/);
    expect(qtsp.requests.crl).to.equal(0);
    const audits = logger.events('certificate.revoked');
    expect(audits).to.have.length(1);
    expect(audits[0]).to.include({ source: 'ocsp', certificate: 'leaf', serial: status.serial, thumbprint: status.thumbprint });
    expect(JSON.stringify(logger.entries)).not.to.include(leaf.der.toString('base64').slice(0, 40));
  });

  it('a forged response signed by another key is not believed: unknown without a CRL, the CRL decides with one', async function () {
    const forger = await createAuthority('Forger');
    const good = await qtsp.issue({ crl: false });
    const revoked = await qtsp.issue();
    const before = await qtsp.index();
    await qtsp.revoke(revoked);
    // The forger answers from the index as it was before the revocation: "good", signed by its own key.
    await qtsp.startResponder({ signer: forger, index: before });
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(good, qtsp.authority));
    expect(status).to.include({ status: 'unknown', certificate: 'leaf' });
    expect((status as { description: string }).description).to.match(/^the OCSP response from http:\/\/127\.0\.0\.1:\d+\/ocsp is not signed by the issuer or a responder it certified and no CRL is published$/);
    const decided = await checker.checkPath(pathOf(revoked, qtsp.authority));
    expect(decided).to.include({ status: 'revoked', source: 'crl' });
  });

  it('a delegated responder certified by the issuer with id-kp-OCSPSigning is believed', async function () {
    const leaf = await qtsp.issue({ crl: false });
    const revoked = await qtsp.issue({ crl: false });
    await qtsp.revoke(revoked);
    await qtsp.startResponder({ signer: await qtsp.responderCertificate() });
    const { checker } = testChecker();
    expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.deep.equal({ status: 'good' });
    expect(await checker.checkPath(pathOf(revoked, qtsp.authority))).to.include({ status: 'revoked', source: 'ocsp' });
  });

  it('a responder certificate of the issuer signed with SHA-1 is not: it must be as strong as a path', async function () {
    const leaf = await qtsp.issue({ crl: false });
    await qtsp.startResponder({ signer: await qtsp.responderCertificate({ signatureHash: 'SHA-1' }) });
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect(status).to.include({ status: 'unknown' });
    expect((status as { description: string }).description).to.match(/is signed by the responder certificate C=EU,O=OCSP Test QTSP,CN=OCSP Test QTSP OCSP Responder \d+, which has ecdsa-with-SHA1; SHA-256, SHA-384, SHA-512 or EdDSA is required/);
  });

  it('a responder certificate of the issuer without id-kp-OCSPSigning is not', async function () {
    const leaf = await qtsp.issue({ crl: false });
    await qtsp.startResponder({ signer: await qtsp.responderCertificate({ ocspSigning: false }) });
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect(status).to.include({ status: 'unknown' });
    expect((status as { description: string }).description).to.match(/is signed by C=EU,O=OCSP Test QTSP,CN=OCSP Test QTSP OCSP Responder \d+, a certificate of the issuer without id-kp-OCSPSigning \(RFC 6960 §4\.2\.2\.2\)/);
  });

  it('a responder certificate with id-kp-OCSPSigning issued by another CA is not', async function () {
    const forger = await createAuthority('Forger');
    const leaf = await qtsp.issue({ crl: false });
    await qtsp.startResponder({ signer: await qtsp.responderCertificate({ issuer: forger }) });
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect(status).to.include({ status: 'unknown' });
    expect((status as { description: string }).description).to.include('is not signed by the issuer or a responder it certified');
  });

  it('a certificate the responder does not know is not good: the CRL decides', async function () {
    const leaf = await qtsp.issue();
    await qtsp.startResponder({ index: '' });
    const { checker } = testChecker();
    expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.deep.equal({ status: 'good' });
    expect(qtsp.requests).to.deep.equal({ ocsp: 1, crl: 1 });
  });

  it('a responder down: the CRL decides', async function () {
    const good = await qtsp.issue();
    const revoked = await qtsp.issue();
    await qtsp.revoke(revoked);
    await qtsp.stopResponder();
    const { checker } = testChecker();
    expect(await checker.checkPath(pathOf(good, qtsp.authority))).to.deep.equal({ status: 'good' });
    expect(await checker.checkPath(pathOf(revoked, qtsp.authority))).to.include({ status: 'revoked', source: 'crl' });
  });

  it('a responder down and no CRL: unknown, saying so', async function () {
    const leaf = await qtsp.issue({ crl: false });
    await qtsp.stopResponder();
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect(status).to.include({ status: 'unknown', certificate: 'leaf' });
    expect((status as { description: string }).description).to.match(/^the OCSP responder http:\/\/127\.0\.0\.1:\d+\/ocsp could not be reached \(ECONNREFUSED\) and no CRL is published$/);
  });

  it('a responder that does not answer: unknown after the timeout, saying so', async function () {
    const leaf = await qtsp.issue({ crl: false });
    await qtsp.hangResponder();
    const { checker } = testChecker({ timeout: 200 });
    const started = performance.now();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect(performance.now() - started).to.be.within(190, 900);
    expect((status as { description: string }).description).to.match(/^the OCSP responder http:\/\/127\.0\.0\.1:\d+\/ocsp did not answer within 200 ms and no CRL is published$/);
  });

  describe('freshness of the answer, by the injected clock', function () {
    it('an answer past its nextUpdate is not believed', async function () {
      const leaf = await qtsp.issue({ crl: false });
      await qtsp.startResponder({ nextUpdateMinutes: 1 });
      const { checker, clock } = testChecker();
      clock.advance(120);
      const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
      expect((status as { description: string }).description).to.match(/^the OCSP response from http:\/\/127\.0\.0\.1:\d+\/ocsp is past its nextUpdate \(.*\) and no CRL is published$/);
    });

    it('an answer dated in the future beyond a few minutes of skew is not believed', async function () {
      const leaf = await qtsp.issue({ crl: false });
      const { checker, clock } = testChecker();
      clock.advance(-3600);
      const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
      expect((status as { description: string }).description).to.match(/is dated in the future \(thisUpdate .*\) and no CRL is published$/);
      const skewed = testChecker();
      skewed.clock.advance(-60);
      expect(await skewed.checker.checkPath(pathOf(leaf, qtsp.authority))).to.deep.equal({ status: 'good' });
    });

    it('an answer without nextUpdate is kept until maxAge after it was made, not after it was read', async function () {
      const leaf = await qtsp.issue({ crl: false });
      await qtsp.startResponder({ nextUpdateMinutes: null });
      // This clock runs 60 s ahead of the responder's: its answer is a minute old when read.
      const { checker, clock } = testChecker({ maxAge: 120 });
      clock.advance(60);
      expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.deep.equal({ status: 'good' });
      clock.advance(50);
      await checker.checkPath(pathOf(leaf, qtsp.authority));
      expect(qtsp.requests.ocsp).to.equal(1);
      // 121 s after it was made (61 s after it was read), the answer no longer vouches for anything.
      clock.advance(11);
      await checker.checkPath(pathOf(leaf, qtsp.authority));
      expect(qtsp.requests.ocsp).to.equal(2);
    });

    it('an answer without nextUpdate is believed while younger than maxAge, and kept no longer', async function () {
      const leaf = await qtsp.issue({ crl: false });
      await qtsp.startResponder({ nextUpdateMinutes: null });
      const { checker, clock } = testChecker({ maxAge: 120 });
      expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.deep.equal({ status: 'good' });
      // Asked again after maxAge; the responder's clock is 121 s behind this one: its answer is too old.
      clock.advance(121);
      const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
      expect(qtsp.requests.ocsp).to.equal(2);
      expect((status as { description: string }).description).to.match(/ocsp names no nextUpdate and is older than 120 s \(thisUpdate .*\) and no CRL is published$/);
    });
  });
});
