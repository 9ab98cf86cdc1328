import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';
import fc from 'fast-check';

import { schemeInformationOf } from '../../lib/trusted-lists/scheme.js';
import { listedServices } from '../../lib/trusted-lists/services.js';
import { verifyListSignature } from '../../lib/trusted-lists/signature.js';
import { TrustedListError, parseXml } from '../../lib/trusted-lists/xml.js';
import { createListSigner, nationalListXml, signList, type ListSigner } from '../support/trusted-lists.js';

const run = promisify(execFile);

/** What our verifier says of `xml` with `signers` pinned: the signer's subject, or the refusal. */
async function ours(xml: string, signers: readonly ListSigner[]): Promise<string> {
  try {
    const signer = await verifyListSignature(parseXml(xml), signers.map((s) => new X509Certificate(s.certPem)), new Date());
    return signer.subject.split('\n')[0]!;
  } catch (error) {
    if (error instanceof TrustedListError) return `refused: ${error.message}`;
    throw error;
  }
}

describe('EU trusted lists: signatures', function () {
  this.timeout(60_000);
  let dir: string;
  let signers: Record<'rsa' | 'ecdsa' | 'pss' | 'other', ListSigner>;
  const list = nationalListXml({ territory: 'FR' }, [{ name: 'FR QWAC CA', certificates: ['MIIB'] }]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lists-'));
    const [rsa, ecdsa, pss, other] = await Promise.all([
      createListSigner('RSA signer', 'rsa'), createListSigner('ECDSA signer', 'ecdsa'),
      createListSigner('PSS signer', 'rsa-pss'), createListSigner('Other signer', 'ecdsa'),
    ]);
    signers = { rsa, ecdsa, pss, other };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** xmlsec1's verdict with only `signer`'s key (the document's own KeyInfo ignored). */
  async function xmlsec(xml: string, signer: ListSigner, ...ids: string[]): Promise<boolean> {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.xml`);
    const pem = `${file}.pem`;
    writeFileSync(file, xml);
    writeFileSync(pem, signer.certPem);
    try {
      await run('xmlsec1', ['--verify', '--enabled-key-data', 'key-name', '--pubkey-cert-pem', pem, '--id-attr:Id', 'SignedProperties', ...ids.flatMap((id) => ['--id-attr:Id', id]), file]);
      return true;
    } catch {
      return false;
    }
  }

  describe('agree with xmlsec1 (an independent implementation)', () => {
    for (const kind of ['rsa', 'ecdsa'] as const) {
      it(`on a ${kind} signature: by the pinned key, by another key, tampered`, async () => {
        const signed = await signList(list, signers[kind]);
        expect(await ours(signed, [signers[kind]])).to.match(/^CN=/);
        expect(await xmlsec(signed, signers[kind])).to.equal(true);
        expect(await ours(signed, [signers.other])).to.equal('refused: the list is not signed by any of the certificates expected for it');
        expect(await xmlsec(signed, signers.other)).to.equal(false);
        const tampered = signed.replace('FR QWAC CA', 'FR QWAC CB');
        expect(await ours(tampered, [signers[kind]])).to.match(/^refused: the list's signature does not verify/);
        expect(await xmlsec(tampered, signers[kind])).to.equal(false);
      });
    }
  });

  it('verify RSA-PSS signatures with the pinned key only', async () => {
    // xmlsec1 1.2 has no RSA-PSS: this one is checked against our verifier alone.
    const signed = await signList(list, signers.pss);
    expect(await ours(signed, [signers.other, signers.pss])).to.equal('CN=PSS signer');
    expect(await ours(signed, [signers.rsa])).to.equal('refused: the list is not signed by any of the certificates expected for it');
  });

  it('refuse a signature that covers only part of the list', async () => {
    const partial = list.replace('<tsl:SchemeInformation>', '<tsl:SchemeInformation Id="part">');
    const signed = await signList(partial, signers.rsa, '#part');
    expect(await xmlsec(signed, signers.rsa, 'SchemeInformation'), 'the signature itself is valid').to.equal(true);
    expect(await ours(signed, [signers.rsa])).to.equal('refused: the signature references "#part", not the whole list');
  });

  it('refuse a signature whose transforms leave the trust service providers unsigned', async () => {
    const filtered = await signList(list, signers.rsa, '', ['enveloped', { name: 'xpath', selector: 'not(ancestor-or-self::tsl:TrustServiceProviderList)', namespaces: { tsl: 'http://uri.etsi.org/02231/v2#' } }, 'exc-c14n']);
    const refusal = 'refused: the signature applies the transform http://www.w3.org/TR/1999/REC-xpath-19991116, which may leave parts of the list unsigned';
    expect(await ours(filtered, [signers.rsa])).to.equal(refusal);
    expect(await ours(filtered.replace('FR QWAC CA', 'Forged CA'), [signers.rsa])).to.equal(refusal);
  });

  it('refuse a second signature, a list without signature, a DTD, and a document that is not a list', async () => {
    const signed = await signList(list, signers.rsa);
    const signature = /<ds:Signature[\s\S]*<\/ds:Signature>/.exec(signed)![0];
    expect(await ours(signed.replace('</tsl:TrustServiceProviderList>', `</tsl:TrustServiceProviderList>${signature}`), [signers.rsa]))
      .to.equal('refused: the list must hold exactly one signature, enveloped in its root element');
    expect(await ours(list, [signers.rsa])).to.equal('refused: the list must hold exactly one signature, enveloped in its root element');
    expect(await ours(`<!DOCTYPE x [<!ENTITY e "e">]>${signed.replace(/^<\?xml[^>]*>/, '')}`, [signers.rsa])).to.equal('refused: the list holds a document type declaration');
    expect(() => schemeInformationOf(parseXml('<a/>').documentElement!)).to.throw(TrustedListError, 'not a trusted list');
  });

  it('refuse a list whose signing certificate has expired', async () => {
    const expired = await createListSigner('Expired signer', 'ecdsa', { notBefore: new Date(Date.now() - 400 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
    expect(await ours(await signList(list, expired), [expired])).to.match(/^refused: the list's signing certificate is not valid now/);
  });

  it('never fail otherwise than by refusing a mangled list (fast-check)', async () => {
    const signed = await signList(list, signers.ecdsa);
    await fc.assert(fc.asyncProperty(fc.nat(signed.length - 1), fc.string({ minLength: 0, maxLength: 3 }), fc.nat(3), async (at, text, cut) => {
      const mangled = `${signed.slice(0, at)}${text}${signed.slice(at + cut)}`;
      try {
        const document = parseXml(mangled);
        await verifyListSignature(document, [new X509Certificate(signers.ecdsa.certPem)], new Date());
        listedServices(document.documentElement!, schemeInformationOf(document.documentElement!).territory);
      } catch (error) {
        if (!(error instanceof TrustedListError)) throw error;
      }
    }), { numRuns: 150 });
  });
});
