/**
 * The development QTSPs' OCSP responder and CRLs, served by the running example app, checked with
 * the real `openssl` command: signatures verify, and the answers follow the revocations recorded
 * by `npm run tpp-cert -- --revoke`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { expect } from 'chai';

import { issueTppCertificate, loadAuthority } from '../../tools/dev-pki/pki.js';
import { run, startExampleApp, type ExampleApp } from './helpers.js';

describe('the development QTSPs\' OCSP responder and CRLs, as openssl sees them', function qtsp() {
  this.timeout(60_000);
  let example: ExampleApp;
  let base: string;
  let sandboxCa: string;
  let bankCa: string;

  before(async () => {
    example = await startExampleApp();
    base = `http://127.0.0.1:${example.qtspPort}`;
    sandboxCa = join(example.dir, 'sandbox-qtsp.pem');
    bankCa = join(example.dir, 'bank-qtsp.pem');
  });

  after(() => {
    example?.stop();
  });

  /** `openssl` with `args`: what it printed, whether it succeeded or not. */
  async function openssl(...args: string[]): Promise<string> {
    try {
      const { stdout, stderr } = await run('openssl', args);
      return stdout + stderr;
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      return stdout + stderr;
    }
  }

  /** `openssl ocsp` for `certPath` at `/{qtsp}/ocsp`, verified against `issuer`; what it printed. */
  const ocsp = (certPath: string, qtsp: 'sandbox' | 'bank', issuer: string) => openssl(
    'ocsp', '-issuer', issuer, '-cert', certPath, '-url', `${base}/${qtsp}/ocsp`, '-CAfile', issuer,
  );

  /** The CRL of `qtsp`, verified with `openssl crl`; what it printed. */
  async function crl(qtsp: 'sandbox' | 'bank', issuer: string): Promise<string> {
    const res = await fetch(`${base}/${qtsp}/crl`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/pkix-crl');
    const file = join(example.dir, `${qtsp}-test.crl`);
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    return openssl('crl', '-in', file, '-inform', 'DER', '-CAfile', issuer, '-noout', '-text');
  }

  const serialOf = async (certPath: string) => (await run('openssl', ['x509', '-in', certPath, '-noout', '-serial'])).stdout.trim().replace('serial=', '');

  it('answers good, then revoked with its reason, signed by the QTSP, and echoes the nonce', async () => {
    const { certPath } = await example.tppCert('PSP_AI', 'Ocsp Check');
    const good = await ocsp(certPath, 'sandbox', sandboxCa);
    expect(good).to.contain('Response verify OK');
    expect(good).to.contain(`${certPath}: good`);
    expect(good).to.match(/Next Update: /);
    expect(good).not.to.contain('WARNING');

    await example.revoke(certPath, '--reason', 'cessationOfOperation');
    const revoked = await ocsp(certPath, 'sandbox', sandboxCa);
    expect(revoked).to.contain('Response verify OK');
    expect(revoked).to.contain(`${certPath}: revoked`);
    expect(revoked).to.contain('Reason: cessationOfOperation');
    expect(revoked).to.match(/Revocation Time: /);
  });

  it('answers for the bank QTSP\'s certificates at its own URL, and unauthorized for another QTSP\'s', async () => {
    const { certPath } = await example.tppCert('PSP_AI', 'Bank Ocsp', 'bank');
    expect(await ocsp(certPath, 'bank', bankCa)).to.contain(`${certPath}: good`);
    const elsewhere = await ocsp(certPath, 'sandbox', bankCa);
    expect(elsewhere).to.contain('Responder Error: unauthorized (6)');
  });

  it('answers unknown for a certificate with the QTSP\'s signature that it never registered', async () => {
    const authority = await loadAuthority('sandbox', readFileSync(sandboxCa, 'utf8'), readFileSync(join(example.dir, 'sandbox-qtsp-key.pem'), 'utf8'));
    const stray = await issueTppCertificate(authority, { organization: 'Stray' });
    const certPath = join(example.dir, 'stray.pem');
    writeFileSync(certPath, stray.certPem);
    expect(await ocsp(certPath, 'sandbox', sandboxCa)).to.contain(`${certPath}: unknown`);
  });

  it('answers an OCSP request sent with GET (RFC 6960 A.1)', async () => {
    const { certPath } = await example.tppCert('PSP_AI', 'Get Ocsp');
    const requestFile = join(example.dir, 'get-ocsp.req');
    const responseFile = join(example.dir, 'get-ocsp.resp');
    await run('openssl', ['ocsp', '-issuer', sandboxCa, '-cert', certPath, '-no_nonce', '-reqout', requestFile]);
    const encoded = encodeURIComponent(readFileSync(requestFile).toString('base64'));
    const res = await fetch(`${base}/sandbox/ocsp/${encoded}`);
    expect(res.headers.get('content-type')).to.equal('application/ocsp-response');
    writeFileSync(responseFile, Buffer.from(await res.arrayBuffer()));
    const answer = await openssl('ocsp', '-respin', responseFile, '-issuer', sandboxCa, '-cert', certPath, '-CAfile', sandboxCa);
    expect(answer).to.contain('Response verify OK');
    expect(answer).to.contain(`${certPath}: good`);
  });

  it('answers a request it cannot read with malformedRequest', async () => {
    const res = await fetch(`${base}/sandbox/ocsp`, { method: 'POST', body: 'not DER', headers: { 'content-type': 'application/ocsp-request' } });
    const responseFile = join(example.dir, 'malformed.resp');
    writeFileSync(responseFile, Buffer.from(await res.arrayBuffer()));
    expect(await openssl('ocsp', '-respin', responseFile, '-resp_text', '-noverify')).to.match(/Responder Error: malformedrequest \(1\)/i);
  });

  it('publishes a CRL signed by the QTSP that lists each revoked serial once it is revoked', async () => {
    const { certPath } = await example.tppCert('PSP_AI', 'Crl Check');
    const serial = await serialOf(certPath);
    const before = await crl('sandbox', sandboxCa);
    expect(before).to.contain('verify OK');
    expect(before).to.contain('Issuer: CN = Example Sandbox Test QTSP');
    expect(before).to.match(/Next Update: /);
    expect(before).not.to.contain(serial);

    await example.revoke(certPath, '--reason', 'privilegeWithdrawn');
    const after = await crl('sandbox', sandboxCa);
    expect(after).to.contain('verify OK');
    expect(after).to.contain(`Serial Number: ${serial}`);
    expect(after).to.contain('Privilege Withdrawn');
    // The bank QTSP's CRL is its own, and lists none of the sandbox's revocations.
    const bank = await crl('bank', bankCa);
    expect(bank).to.contain('verify OK');
    expect(bank).not.to.contain(serial);
  });

  it('answers 404 elsewhere, and 405 to a CRL request with the wrong method', async () => {
    expect((await fetch(`${base}/other/crl`)).status).to.equal(404);
    expect((await fetch(`${base}/sandbox/crl`, { method: 'POST' })).status).to.equal(405);
  });
});
