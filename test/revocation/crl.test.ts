import { expect } from 'chai';

import { NOT_CONFORMING } from '../../lib/certificates/revocation/index.js';
import { Qtsp } from '../support/qtsp.js';
import { freePort } from '../support/redis.js';
import { pathOf, suiteQtsp, testChecker } from './helpers.js';

const HOUR = 60 * 60 * 1000;

describe('revocation: CRLs made with openssl ca -gencrl and served over HTTP', function () {
  const qtsp = suiteQtsp('CRL Test QTSP', { crlSeconds: 600 });

  beforeEach(async function () {
    await qtsp.publishCrl();
    qtsp.resetCounts();
  });

  it('a certificate naming a CRL only (no OCSP responder) is good when the CRL does not list it, revoked when it does', async function () {
    const good = await qtsp.issue({ ocsp: false });
    const revoked = await qtsp.issue({ ocsp: false });
    await qtsp.revoke(revoked, 'cessationOfOperation');
    const { checker, logger } = testChecker();
    expect(await checker.checkPath(pathOf(good, qtsp.authority))).to.deep.equal({ status: 'good' });
    const status = await checker.checkPath(pathOf(revoked, qtsp.authority));
    expect(status).to.include({ status: 'revoked', certificate: 'leaf', source: 'crl', reason: 'cessationOfOperation' });
    expect((status as { description: string }).description).to.match(/ \(cessationOfOperation\), as the CRL http:\/\/127\.0\.0\.1:\d+\/ca\.crl says$/);
    // One download serves both certificates: the CRL is kept until its nextUpdate.
    expect(qtsp.requests).to.deep.equal({ ocsp: 0, crl: 1 });
    expect(logger.events('certificate.revoked')).to.have.length(1);
    expect(logger.events('certificate.revoked')[0]).to.include({ source: 'crl', certificate: 'leaf' });
  });

  it('a CRL of tens of thousands of entries is read, once', async function () {
    const big = await Qtsp.create('Long History QTSP', { responder: false });
    try {
      const good = await big.issue({ ocsp: false });
      const revoked = await big.issue({ ocsp: false });
      await big.addRevokedSerials(30_000);
      await big.revoke(revoked);
      expect((await big.crl()).length).to.be.above(1_000_000);
      const { checker } = testChecker();
      const started = performance.now();
      expect(await checker.checkPath(pathOf(revoked, big.authority))).to.include({ status: 'revoked', source: 'crl', reason: 'keyCompromise' });
      expect(await checker.checkPath(pathOf(good, big.authority))).to.deep.equal({ status: 'good' });
      expect(performance.now() - started).to.be.below(2000);
      expect(big.requests.crl).to.equal(1);
    } finally {
      await big.close();
    }
  });

  it('a CRL already past its nextUpdate: unknown, never good', async function () {
    const leaf = await qtsp.issue({ ocsp: false });
    await qtsp.publishCrl({ lastUpdate: new Date(Date.now() - 3 * HOUR), nextUpdate: new Date(Date.now() - HOUR) });
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect(status).to.include({ status: 'unknown' });
    expect((status as { description: string }).description).to.match(/^the CRL http:\/\/127\.0\.0\.1:\d+\/ca\.crl is past its nextUpdate \(.*\) and no fresher one is published$/);
  });

  it('a CRL that ages past its nextUpdate is fetched again; when nothing fresher comes, the status is unknown', async function () {
    const leaf = await qtsp.issue({ ocsp: false });
    const other = await qtsp.issue({ ocsp: false });
    const { checker, clock } = testChecker({ maxAge: 60 });
    expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.deep.equal({ status: 'good' });
    clock.advance(700);
    const status = await checker.checkPath(pathOf(other, qtsp.authority));
    expect(status).to.include({ status: 'unknown' });
    expect((status as { description: string }).description).to.match(/is past its nextUpdate .* and no fresher one is published$/);
    expect(qtsp.requests.crl).to.equal(2);
    // Other certificates of that CRL do not fetch it again for nothing, until unreachableTtl has passed.
    expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.include({ status: 'unknown' });
    expect(qtsp.requests.crl).to.equal(2);
    clock.advance(61);
    await qtsp.publishCrl({ seconds: 3600 });
    expect(await checker.checkPath(pathOf(other, qtsp.authority))).to.deep.equal({ status: 'good' });
    expect(qtsp.requests.crl).to.equal(3);
  });

  it('a CRL signed by another CA is not believed', async function () {
    const impostor = await Qtsp.create('CRL Test QTSP', { responder: false });
    try {
      // Same subject name, another key: the CRL names the right issuer but the signature fails.
      const leaf = await qtsp.issue({ ocsp: false, crlUrl: impostor.crlUrl });
      const { checker } = testChecker();
      const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
      expect(status).to.include({ status: 'unknown' });
      expect((status as { description: string }).description).to.match(/^the CRL http:\/\/127\.0\.0\.1:\d+\/ca\.crl is not signed by the issuer \(the signature does not verify\)/);
    } finally {
      await impostor.close();
    }
  });

  it('a CRL of another issuer name is not used', async function () {
    const other = await Qtsp.create('Another QTSP', { responder: false });
    try {
      const leaf = await qtsp.issue({ ocsp: false, crlUrl: other.crlUrl });
      const { checker } = testChecker();
      const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
      expect((status as { description: string }).description).to.match(/ca\.crl was issued by another CA/);
    } finally {
      await other.close();
    }
  });

  it('a CRL server down: unknown, saying so', async function () {
    const url = `http://127.0.0.1:${await freePort()}/ca.crl`;
    const leaf = await qtsp.issue({ ocsp: false, crlUrl: url });
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect((status as { description: string }).description).to.equal(`the CRL ${url} could not be reached (ECONNREFUSED)`);
  });

  it('a certificate with neither an OCSP responder nor a CRL distribution point: unknown, not a conforming qualified certificate', async function () {
    const leaf = await qtsp.issue({ ocsp: false, crl: false });
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect(status).to.include({ status: 'unknown', certificate: 'leaf', description: NOT_CONFORMING });
    expect(NOT_CONFORMING).to.include('ETSI EN 319 412-2');
    expect(qtsp.requests).to.deep.equal({ ocsp: 0, crl: 0 });
  });

  it('a certificate naming only an LDAP CRL: unknown, saying the pointer cannot be used', async function () {
    const leaf = await qtsp.issue({ ocsp: false, crl: false, crlUrl: 'ldap://ldap.qtsp.example/cn=CA?certificateRevocationList' });
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
    expect((status as { description: string }).description).to.equal('the certificate names only the CRL ldap://ldap.qtsp.example/cn=CA?certificateRevocationList, which this server cannot use, and neither an http OCSP responder nor an http CRL: its status cannot be established');
  });

  describe('CRLs that cannot settle a status alone count as no answer', function () {
    const cases: [string, readonly string[], Record<string, readonly string[]>, RegExp][] = [
      ['a delta CRL', ['deltaCRL = critical,DER:02:01:01'], {}, /ca\.crl is a delta CRL$/],
      ['an indirect CRL', ['issuingDistributionPoint = critical, @idp'], { idp: ['indirectCRL = TRUE'] }, /ca\.crl is an indirect CRL$/],
      ['a CRL of some reasons only', ['issuingDistributionPoint = critical, @idp'], { idp: ['onlysomereasons = keyCompromise'] }, /ca\.crl covers some revocation reasons only$/],
      ['a CRL of CA certificates only', ['issuingDistributionPoint = critical, @idp'], { idp: ['onlyCA = TRUE'] }, /ca\.crl covers CA certificates only$/],
      ['a CRL of another distribution point (a partition)', ['issuingDistributionPoint = critical, @idp'], { idp: ['fullname = URI:http://crl.qtsp.example/partition-2.crl'] }, /ca\.crl is the CRL of another distribution point \(http:\/\/crl\.qtsp\.example\/partition-2\.crl\)$/],
      ['a CRL with an unrecognised critical extension', ['1.3.6.1.4.1.99999.1 = critical,DER:05:00'], {}, /ca\.crl has the unrecognised critical extension 1\.3\.6\.1\.4\.1\.99999\.1$/],
    ];
    for (const [what, extensions, sections, description] of cases) {
      it(`${what}: unknown`, async function () {
        const leaf = await qtsp.issue({ ocsp: false });
        await qtsp.publishCrl({ extensions, sections });
        const { checker } = testChecker();
        const status = await checker.checkPath(pathOf(leaf, qtsp.authority));
        expect(status).to.include({ status: 'unknown' });
        expect((status as { description: string }).description).to.match(description);
      });
    }

    it('a CRL whose issuing distribution point names its URL and end-entity certificates is used', async function () {
      const leaf = await qtsp.issue({ ocsp: false });
      await qtsp.revoke(leaf);
      await qtsp.publishCrl({ extensions: ['issuingDistributionPoint = critical, @idp'], sections: { idp: [`fullname = URI:${qtsp.crlUrl}`, 'onlyuser = TRUE'] } });
      const { checker } = testChecker();
      expect(await checker.checkPath(pathOf(leaf, qtsp.authority))).to.include({ status: 'revoked', source: 'crl' });
    });
  });
});
