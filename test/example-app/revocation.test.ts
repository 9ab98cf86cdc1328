/**
 * "See a revocation refused" as the README walks through it: a TPP certificate minted with
 * `npm run tpp-cert` works, is revoked with `npm run tpp-cert -- --revoke`, and is refused once the
 * status the server cached ages out (REVOCATION_MAX_AGE=1); a fresh certificate still works.
 */
import { join } from 'node:path';

import * as x509 from '@peculiar/x509';
import { expect } from 'chai';
import type supertest from 'supertest';

import { run, startExampleApp, tsx, type ExampleApp } from './helpers.js';

describe('the example app refuses a revoked TPP certificate (README)', function revocation() {
  this.timeout(60_000);
  let example: ExampleApp;

  before(async () => {
    example = await startExampleApp({ REVOCATION_MAX_AGE: '1' });
  });

  after(() => {
    example?.stop();
  });

  /** Repeats `attempt` until `done` holds for its answer; fails after `ms`. */
  async function until(attempt: () => supertest.Test, done: (res: supertest.Response) => boolean, ms = 15_000): Promise<supertest.Response> {
    for (const end = Date.now() + ms; ;) {
      const res = await attempt();
      if (done(res)) return res;
      if (Date.now() > end) throw new Error(`still ${res.status} ${res.text} after ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('prints its certificate-status settings and where the development QTSPs answer', () => {
    const base = `http://127.0.0.1:${example.qtspPort}`;
    expect(example.startup).to.contain('certificate status: bank hard, sandbox soft; a good status is kept 1 s');
    expect(example.startup).to.contain(`development QTSPs: ${base}/sandbox/ocsp, ${base}/sandbox/crl, ${base}/bank/ocsp, ${base}/bank/crl`);
    expect(example.startup).to.contain('revoke a TPP certificate: npm run tpp-cert -- --revoke FILE');
  });

  it('mints certificates naming their QTSP\'s OCSP responder and CRL', async () => {
    const { cert, stdout, certPath } = await example.tppCert('PSP_AI', 'Pointers', 'bank');
    const base = `http://127.0.0.1:${example.qtspPort}`;
    const certificate = new x509.X509Certificate(cert);
    const aia = certificate.getExtension(x509.AuthorityInfoAccessExtension);
    expect(aia?.ocsp.map((name) => name.value)).to.deep.equal([`${base}/bank/ocsp`]);
    const cdp = certificate.getExtension(x509.CRLDistributionPointsExtension);
    expect(cdp?.distributionPoints.flatMap((point) => point.distributionPoint?.fullName ?? [])
      .map((name) => name.uniformResourceIdentifier)).to.deep.equal([`${base}/bank/crl`]);
    expect(stdout).to.contain(`status:      ${base}/bank/ocsp (OCSP), ${base}/bank/crl (CRL)`);
    expect(stdout).to.contain(`Revoke it: npm run tpp-cert -- --revoke ${certPath}`);
  });

  it('refuses a certificate revoked after registration once the cached status ages out; a fresh certificate still works', async () => {
    const tpp = await example.tppCert('PSP_PI', 'Revoked Pay');
    const withCert = (method: 'get' | 'post', path: string, holder: { cert: string; key: string } = tpp) => (
      example.request(method, path).cert(holder.cert).key(holder.key)
    );
    const registered = await withCert('post', '/oauth2/register')
      .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Revoked Pay', scope: 'pisp' });
    expect(registered.status, registered.text).to.equal(201);
    const clientId = String(registered.body.client_id);
    const management = new URL(String(registered.body.registration_client_uri)).pathname;
    const token = (holder = tpp) => withCert('post', '/oauth2/token', holder).type('form')
      .send({ grant_type: 'client_credentials', scope: 'pisp', client_id: clientId });
    const issued = await token();
    expect(issued.status, issued.text).to.equal(200);

    const stdout = await example.revoke(tpp.certPath, '--reason', 'keyCompromise');
    expect(stdout).to.match(/Revoked certificate [0-9a-f]+ \(.*O=Revoked Pay.*\) of the sandbox QTSP on .*, reason keyCompromise/);
    expect(stdout).to.contain(`http://127.0.0.1:${example.qtspPort}/sandbox/ocsp`);
    expect(stdout).to.contain('401 invalid_client');
    expect(stdout).to.contain('REVOCATION_MAX_AGE');

    const refused = await until(() => token(), (res) => res.status !== 200);
    expect(refused.status, refused.text).to.equal(401);
    expect(refused.body.error).to.equal('invalid_client');
    expect(refused.body.error_description).to.match(/revoked/i);
    const read = await withCert('get', management);
    expect(read.status, read.text).to.equal(401);
    expect(read.body.error).to.equal('invalid_client');
    expect(read.body.error_description).to.match(/revoked/i);

    // The TPP's renewed certificate: same organization, new key and serial.
    const renewed = await example.tppCert('PSP_PI', 'Revoked Pay');
    expect((await withCert('get', management, renewed)).status).to.equal(200);
    const again = await token(renewed);
    expect(again.status, again.text).to.equal(200);
    const fresh = await example.tppCert('PSP_AI', 'Fresh');
    const other = await withCert('post', '/oauth2/register', fresh)
      .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Fresh' });
    expect(other.status, other.text).to.equal(201);
  });

  it('says so when a certificate was revoked already, and takes no reason it does not know', async () => {
    const tpp = await example.tppCert('PSP_AI', 'Twice');
    expect(await example.revoke(tpp.certPath)).to.match(/Revoked certificate [0-9a-f]+ .* of the sandbox QTSP on [^,]*\.\n/);
    expect(await example.revoke(tpp.certPath, '--reason', 'superseded')).to.match(/was already revoked by the sandbox QTSP on /);

    let failure: { code?: number; stderr?: string } | undefined;
    try {
      await example.revoke(tpp.certPath, '--reason', 'certificateHold');
    } catch (error) {
      failure = error as { code?: number; stderr?: string };
    }
    expect(failure?.code).to.equal(2);
    expect(failure?.stderr).to.contain('--reason must be one of unspecified, keyCompromise');
  });

  it('refuses to revoke a certificate no development QTSP issued', async () => {
    let failure: { code?: number; stderr?: string } | undefined;
    try {
      // The app's own server certificate: issued by the development server CA, not by a QTSP.
      await run(tsx, ['tools/dev-pki/tpp-cert.ts', '--revoke', join(example.dir, 'server.pem')], {
        env: { ...process.env, DEV_PKI_DIR: example.dir, QTSP_PORT: String(example.qtspPort) },
      });
    } catch (error) {
      failure = error as { code?: number; stderr?: string };
    }
    expect(failure?.code).to.equal(2);
    expect(failure?.stderr).to.contain(`${join(example.dir, 'server.pem')} was not issued by a development QTSP of ${example.dir}`);
    expect(failure?.stderr).to.contain('npm run tpp-cert -- --revoke FILE');
  });
});
