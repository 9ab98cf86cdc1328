import { expect } from 'chai';

import { Qtsp } from '../support/qtsp.js';
import { pathOf, testChecker } from './helpers.js';

describe('revocation: every certificate of the path but the anchor', function () {
  let root: Qtsp;
  let intermediate: Qtsp;

  beforeEach(async function () {
    root = await Qtsp.create('Path Test Root');
    intermediate = await Qtsp.start(await root.subordinate('Path Test QTSP'));
  });

  afterEach(async function () {
    await intermediate?.close();
    await root?.close();
  });

  it('a good leaf under a good intermediate is good; each is asked of its own issuer', async function () {
    const leaf = await intermediate.issue();
    const { checker } = testChecker();
    expect(await checker.checkPath(pathOf(leaf, intermediate.authority, root.authority))).to.deep.equal({ status: 'good' });
    expect(root.requests.ocsp).to.equal(1);
    expect(intermediate.requests.ocsp).to.equal(1);
  });

  it('a revoked intermediate makes the path revoked, naming the intermediate', async function () {
    const leaf = await intermediate.issue();
    await root.revoke(intermediate.authority, 'CACompromise');
    const { checker, logger } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, intermediate.authority, root.authority));
    expect(status).to.include({ status: 'revoked', certificate: 'intermediate', reason: 'cACompromise', source: 'ocsp' });
    expect((status as { subject: string }).subject).to.include('CN=Path Test QTSP');
    expect((status as { description: string }).description).to.match(/^the intermediate CA certificate .*CN=Path Test QTSP \(serial [0-9A-F]+\) was revoked on /);
    expect(logger.events('certificate.revoked').map((event) => event.certificate)).to.deep.equal(['intermediate']);
  });

  it('revoked wins over unknown, wherever they are on the path', async function () {
    const leaf = await intermediate.issue({ crl: false });
    await intermediate.stopResponder();
    await root.revoke(intermediate.authority);
    const { checker } = testChecker();
    expect(await checker.checkPath(pathOf(leaf, intermediate.authority, root.authority))).to.include({ status: 'revoked', certificate: 'intermediate' });
  });

  it('an intermediate whose status cannot be established makes the path unknown, saying which', async function () {
    const leaf = await intermediate.issue();
    await root.stopResponder();
    await root.publishCrl({ lastUpdate: new Date(Date.now() - 7200_000), nextUpdate: new Date(Date.now() - 3600_000) });
    const { checker } = testChecker();
    const status = await checker.checkPath(pathOf(leaf, intermediate.authority, root.authority));
    expect(status).to.include({ status: 'unknown', certificate: 'intermediate' });
    expect((status as { description: string }).description).to.match(/^for the intermediate CA certificate .*CN=Path Test QTSP, the OCSP responder http:\/\/127\.0\.0\.1:\d+\/ocsp could not be reached \(ECONNREFUSED\); the CRL http:\/\/127\.0\.0\.1:\d+\/ca\.crl is past its nextUpdate/);
  });

  it('a path of the anchor alone has nothing to check', async function () {
    const { checker } = testChecker();
    expect(await checker.checkPath(pathOf(root.authority))).to.deep.equal({ status: 'good' });
    expect(root.requests).to.deep.equal({ ocsp: 0, crl: 0 });
  });
});
