import { X509Certificate, createHash } from 'node:crypto';

import { expect } from 'chai';

import { grantedAt, listedServices } from '../../lib/trusted-lists/services.js';
import { verifyListSignature } from '../../lib/trusted-lists/signature.js';
import { TrustedListError, dateOf, parseXml, pathOf } from '../../lib/trusted-lists/xml.js';
import { CA_QC, GRANTED, createListSigner, nationalListXml, signList, signListMgf1, type ListSigner } from '../support/trusted-lists.js';

const DAY = 86_400_000;
const CA_PKC = 'http://uri.etsi.org/TrstSvc/Svctype/CA/PKC';

async function verdict(xml: string, pins: readonly ListSigner[]): Promise<string> {
  try {
    return (await verifyListSignature(parseXml(xml), pins.map((pin) => new X509Certificate(pin.certPem)), new Date())).fingerprint256;
  } catch (error) {
    if (error instanceof TrustedListError) return `refused: ${error.message}`;
    throw error;
  }
}

const fingerprint = (signer: ListSigner) => new X509Certificate(signer.certPem).fingerprint256;

describe('EU trusted lists: signers, status history and dates', function () {
  this.timeout(60_000);
  const list = nationalListXml({ territory: 'FR' }, [{ name: 'FR QWAC CA', certificates: ['MIIB'] }]);
  let signer: ListSigner;
  let other: ListSigner;

  before(async () => {
    [signer, other] = await Promise.all([createListSigner('FR signer', 'rsa'), createListSigner('Other signer', 'ecdsa')]);
  });

  it('reads the signing certificate only from the signed properties, not from an unsigned part of the signature', async () => {
    const namingOther = await signList(list, signer, '', undefined, other.base64);
    expect(await verdict(namingOther, [signer])).to.equal('refused: the signed properties do not name the signing certificate');
    const digest = createHash('sha256').update(Buffer.from(signer.base64, 'base64')).digest('base64');
    const forged = namingOther.replace(/<\/(\w+:)?Signature>/, (end) => `<ds:Object xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xades:CertDigest xmlns:xades="http://uri.etsi.org/01903/v1.3.2#">`
      + `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>${digest}</ds:DigestValue></xades:CertDigest></ds:Object>${end}`);
    expect(forged).to.contain(digest);
    expect(await verdict(forged, [signer])).to.equal('refused: the signed properties do not name the signing certificate');
  });

  it('tries the next pin when one with the same key is expired or not the one named', async () => {
    const expired = await createListSigner('FR signer (expired)', 'rsa', { keys: signer.keys, notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
    const renewed = await createListSigner('FR signer (renewed)', 'rsa', { keys: signer.keys });
    const signed = await signList(list, renewed);
    expect(await verdict(signed, [expired, signer, renewed])).to.equal(fingerprint(renewed));
    expect(await verdict(signed, [expired])).to.match(/^refused: the list's signing certificate is not valid now/);
    expect(await verdict(signed, [signer])).to.equal('refused: the signed properties do not name the signing certificate');
  });

  it('verifies RSA-PSS under the identifier without parameters (sha256-rsa-MGF1)', async () => {
    const pss = await createListSigner('FR PSS signer', 'rsa-pss');
    const signed = await signListMgf1(list, pss);
    expect(signed).to.contain('Algorithm="http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1"');
    expect(await verdict(signed, [other, pss])).to.equal(fingerprint(pss));
    expect(await verdict(signed, [await createListSigner('Another PSS signer', 'rsa-pss')])).to.equal('refused: the list is not signed by any of the certificates expected for it');
    expect(await verdict(signed.replace('FR QWAC CA', 'FR QWAC CB'), [pss])).to.match(/^refused: the list's signature does not verify: .*Invalid digest/);
  });

  it('counts a granted period only while the service was a qualified website CA', () => {
    const at = (year: number) => new Date(`${year}-01-01T00:00:00Z`);
    const xml = nationalListXml({ territory: 'FR' }, [{
      name: 'FR CA', certificates: ['MIIB'], current: { status: GRANTED, since: at(2020) },
      history: [{ status: GRANTED, since: at(2016), type: CA_QC }, { status: GRANTED, since: at(2018), type: CA_PKC }, { status: GRANTED, since: at(2017), forWebsites: false }],
    }]);
    const [service] = listedServices(parseXml(xml).documentElement!, 'FR');
    const issued = (year: number) => grantedAt(service!.periods, Date.parse(`${year}-06-01T00:00:00Z`));
    expect([2016, 2017, 2019, 2021].map(issued)).to.deep.equal([true, false, false, true]);
  });

  it('reads xsd:dateTime only, in UTC when it names no zone', () => {
    const date = (text: string) => {
      try {
        return dateOf(pathOf(parseXml(`<t xmlns="http://uri.etsi.org/02231/v2#"><d>${text}</d></t>`).documentElement!, 'd'), 'date').toISOString();
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(date('2026-01-02T03:04:05')).to.equal('2026-01-02T03:04:05.000Z');
    expect(date('2026-01-02T03:04:05+02:00')).to.equal('2026-01-02T01:04:05.000Z');
    expect(date('Fri, 02 Jan 2026 03:04:05 GMT')).to.equal("the list's date is not an xsd:dateTime");
    expect(date('2026-01-02')).to.equal("the list's date is not an xsd:dateTime");
  });
});
