import { X509Certificate } from 'node:crypto';

import { expect } from 'chai';
import fc from 'fast-check';

import {
  DistinguishedNameSyntaxError,
  distinguishedNameMatches,
  formatRfc4514,
  parseDistinguishedName,
  sameDistinguishedName,
  type DnAttribute,
} from '../../lib/certificates/distinguished-name.js';
import { readCertificateContents } from '../../lib/certificates/parse.js';
import { sandboxTpp } from '../support/pki.js';

const CN = '2.5.4.3';
const C = '2.5.4.6';
const O = '2.5.4.10';
const OU = '2.5.4.11';
const ORG_ID = '2.5.4.97';
const UID = '0.9.2342.19200300.100.1.1';

/** Subject of a TPP certificate, in certificate order (country first). */
const TPP_SUBJECT: DnAttribute[] = [
  { oid: C, value: 'FR' },
  { oid: O, value: 'Acme Payments' },
  { oid: ORG_ID, value: 'PSDFR-ACPR-12345' },
  { oid: CN, value: 'acme.example' },
];

function same(a: string, b: string): boolean {
  return sameDistinguishedName(parseDistinguishedName(a), parseDistinguishedName(b));
}

describe('distinguished names', () => {
  describe('parseDistinguishedName', () => {
    it('reads an RFC 4514 name, most specific attribute first', () => {
      expect(parseDistinguishedName('CN=acme.example,organizationIdentifier=PSDFR-ACPR-12345,O=Acme Payments,C=FR')).to.deep.equal([
        { oid: CN, value: 'acme.example' },
        { oid: ORG_ID, value: 'PSDFR-ACPR-12345' },
        { oid: O, value: 'Acme Payments' },
        { oid: C, value: 'FR' },
      ]);
    });

    it('unescapes RFC 4514 backslash escapes of special characters', () => {
      expect(parseDistinguishedName('CN=Acme\\, Inc.,O=A \\+ B,OU=\\"quoted\\" \\<x\\> a\\;b a\\=b a\\\\b,C=FR')).to.deep.equal([
        { oid: CN, value: 'Acme, Inc.' },
        { oid: O, value: 'A + B' },
        { oid: OU, value: '"quoted" <x> a;b a=b a\\b' },
        { oid: C, value: 'FR' },
      ]);
    });

    it('decodes hex-pair escapes as UTF-8 bytes', () => {
      expect(parseDistinguishedName('O=Caf\\C3\\A9 \\E2\\82\\AC,CN=\\23hash')).to.deep.equal([
        { oid: O, value: 'Café €' },
        { oid: CN, value: '#hash' },
      ]);
    });

    it('keeps escaped leading and trailing spaces but trims unescaped ones', () => {
      expect(parseDistinguishedName('CN=\\ padded\\ ,O=  plain  ')).to.deep.equal([
        { oid: CN, value: ' padded ' },
        { oid: O, value: 'plain' },
      ]);
      expect(parseDistinguishedName('CN=trailing\\ ')).to.deep.equal([{ oid: CN, value: 'trailing ' }]);
    });

    it('reads quoted values, which may hold separators', () => {
      expect(parseDistinguishedName('O="Acme, Inc. + Co",C=FR')).to.deep.equal([
        { oid: O, value: 'Acme, Inc. + Co' },
        { oid: C, value: 'FR' },
      ]);
    });

    it('accepts semicolons as separators and spaces around them', () => {
      expect(parseDistinguishedName(' CN = a ; O = b ')).to.deep.equal([
        { oid: CN, value: 'a' },
        { oid: O, value: 'b' },
      ]);
    });

    it('reads multi-valued RDNs joined with "+"', () => {
      expect(parseDistinguishedName('CN=a+UID=b,O=c')).to.deep.equal([
        { oid: CN, value: 'a' },
        { oid: UID, value: 'b' },
        { oid: O, value: 'c' },
      ]);
    });

    it('reads the OpenSSL one-line form /C=FR/O=x', () => {
      expect(parseDistinguishedName('/C=FR/O=Acme Payments/organizationIdentifier=PSDFR-ACPR-12345/CN=acme.example')).to.deep.equal(TPP_SUBJECT);
      expect(parseDistinguishedName('/C=FR/O=a\\/b')).to.deep.equal([{ oid: C, value: 'FR' }, { oid: O, value: 'a/b' }]);
    });

    it("reads Node's newline-separated form, escapes included", () => {
      expect(parseDistinguishedName('C=FR\nO=Acme Payments\norganizationIdentifier=PSDFR-ACPR-12345\nCN=acme.example')).to.deep.equal(TPP_SUBJECT);
      expect(parseDistinguishedName('C=FR\r\nO=Acme\\, Inc.\nCN=a+UID=b')).to.deep.equal([
        { oid: C, value: 'FR' },
        { oid: O, value: 'Acme, Inc.' },
        { oid: CN, value: 'a' },
        { oid: UID, value: 'b' },
      ]);
    });

    it('reads organizationIdentifier by name (any case), by OID and by OID.-prefixed OID', () => {
      for (const keyword of ['organizationIdentifier', 'ORGANIZATIONIDENTIFIER', 'organizationidentifier', '2.5.4.97', 'OID.2.5.4.97', 'oid.2.5.4.97']) {
        expect(parseDistinguishedName(`${keyword}=PSDFR-ACPR-12345`), keyword).to.deep.equal([{ oid: ORG_ID, value: 'PSDFR-ACPR-12345' }]);
      }
    });

    it('decodes the #-prefixed BER form that RFC 4514 writers (Java, OpenSSL) use for attributes typed by OID', () => {
      // UTF8String (0x0C) and PrintableString (0x13) of "PSDFR-ACPR-12345" (16 bytes).
      const hex = Buffer.from('PSDFR-ACPR-12345').toString('hex');
      expect(parseDistinguishedName(`2.5.4.97=#0C10${hex},O=Acme`)).to.deep.equal([
        { oid: ORG_ID, value: 'PSDFR-ACPR-12345' },
        { oid: O, value: 'Acme' },
      ]);
      expect(parseDistinguishedName(`OID.2.5.4.97=#13${'10'}${hex.toUpperCase()}`)).to.deep.equal([{ oid: ORG_ID, value: 'PSDFR-ACPR-12345' }]);
    });

    it('throws on an unknown attribute keyword', () => {
      expect(() => parseDistinguishedName('CN=a,FOO=b')).to.throw(DistinguishedNameSyntaxError, 'unknown attribute type "FOO"');
    });

    it('throws on text that is not a distinguished name', () => {
      expect(() => parseDistinguishedName('')).to.throw(DistinguishedNameSyntaxError, 'empty distinguished name');
      expect(() => parseDistinguishedName('   ')).to.throw(DistinguishedNameSyntaxError, 'empty distinguished name');
      expect(() => parseDistinguishedName('acme')).to.throw(DistinguishedNameSyntaxError, '"acme" is not of the form type=value');
      expect(() => parseDistinguishedName('=acme')).to.throw(DistinguishedNameSyntaxError, 'is not of the form type=value');
      expect(() => parseDistinguishedName('CN=a,,O=b')).to.throw(DistinguishedNameSyntaxError, 'empty name component');
      expect(() => parseDistinguishedName(`CN=${'a'.repeat(5000)}`)).to.throw(DistinguishedNameSyntaxError, 'too long');
    });
  });

  describe('sameDistinguishedName and distinguishedNameMatches', () => {
    it('treats the RFC 4514, OpenSSL and Node forms of one name as the same', () => {
      const forms = [
        'CN=acme.example,organizationIdentifier=PSDFR-ACPR-12345,O=Acme Payments,C=FR',
        'CN=acme.example, 2.5.4.97=PSDFR-ACPR-12345, O=Acme Payments, C=FR',
        'CN=acme.example,OID.2.5.4.97=PSDFR-ACPR-12345,O=Acme Payments,C=FR',
        '/C=FR/O=Acme Payments/organizationIdentifier=PSDFR-ACPR-12345/CN=acme.example',
        '/C=FR/O=Acme Payments/2.5.4.97=PSDFR-ACPR-12345/CN=acme.example',
        'C=FR\nO=Acme Payments\norganizationIdentifier=PSDFR-ACPR-12345\nCN=acme.example',
      ];
      for (const form of forms) {
        expect(distinguishedNameMatches(form, TPP_SUBJECT), form).to.equal(true);
      }
    });

    it('matches the subject Node prints for a minted certificate with the one read from its DER', async () => {
      const tpp = await sandboxTpp({ organization: 'Acme Payments', country: 'FR', ncaId: 'FR-ACPR', authorisationNumber: '12345' });
      const subject = readCertificateContents(tpp.der).subject;
      const nodeForm = new X509Certificate(tpp.der).subject;
      expect(nodeForm).to.include('\n');
      expect(distinguishedNameMatches(nodeForm, subject)).to.equal(true);
      expect(distinguishedNameMatches('CN=acme-payments.example,organizationIdentifier=PSDFR-ACPR-12345,O=Acme Payments,C=FR', subject)).to.equal(true);
      expect(distinguishedNameMatches(formatRfc4514(subject), subject)).to.equal(true);
    });

    it('ignores letter case, surrounding and repeated whitespace, and attribute order', () => {
      expect(same('CN=ACME  Example,O=Acme   Payments', 'o=acme payments , cn=acme example')).to.equal(true);
      expect(same('CN=a+UID=b', 'UID=b,CN=a')).to.equal(true);
    });

    it('tells names apart when a value differs', () => {
      expect(same('CN=acme.example,O=Acme Payments,C=FR', 'CN=acme.example,O=Acme Payment,C=FR')).to.equal(false);
      expect(distinguishedNameMatches('CN=acme.example,organizationIdentifier=PSDFR-ACPR-99999,O=Acme Payments,C=FR', TPP_SUBJECT)).to.equal(false);
    });

    it('tells names apart when the same value is held by another attribute type', () => {
      expect(same('CN=Acme', 'O=Acme')).to.equal(false);
    });

    it('tells names apart when the attribute counts differ', () => {
      expect(same('CN=a,O=b,C=FR', 'CN=a,O=b')).to.equal(false);
      expect(same('CN=a,O=b', 'CN=a,O=b,C=FR')).to.equal(false);
      expect(same('O=a,O=a', 'O=a,O=b')).to.equal(false);
      expect(same('O=a,O=a', 'O=a')).to.equal(false);
    });

    it('does not match text that cannot be parsed', () => {
      expect(distinguishedNameMatches('not a name', TPP_SUBJECT)).to.equal(false);
      expect(distinguishedNameMatches('XYZ=acme.example', TPP_SUBJECT)).to.equal(false);
      expect(distinguishedNameMatches('', TPP_SUBJECT)).to.equal(false);
    });
  });

  describe('formatRfc4514', () => {
    it('writes certificate-order attributes most specific first, with LDAP keywords', () => {
      expect(formatRfc4514(TPP_SUBJECT)).to.equal('CN=acme.example,organizationIdentifier=PSDFR-ACPR-12345,O=Acme Payments,C=FR');
    });

    it('writes attribute types without a keyword as dotted OIDs', () => {
      expect(formatRfc4514([{ oid: '2.5.4.4', value: 'Doe' }, { oid: '1.2.3.4', value: 'x' }])).to.equal('1.2.3.4=x,2.5.4.4=Doe');
    });

    it('escapes special characters, leading "#" or space and trailing space', () => {
      expect(formatRfc4514([{ oid: O, value: 'a,b+c"d\\e;f<g>h=i' }])).to.equal('O=a\\,b\\+c\\"d\\\\e\\;f\\<g\\>h\\=i');
      expect(formatRfc4514([{ oid: CN, value: '#x' }])).to.equal('CN=\\#x');
      expect(formatRfc4514([{ oid: CN, value: ' x ' }])).to.equal('CN=\\ x\\ ');
    });

    const awkward = [
      'Acme, Inc.',
      'A + B',
      'say "hi"',
      '#hash',
      '#0C03616263',
      ' leading space',
      'trailing space ',
      '  both  ',
      ' ',
      'back\\slash',
      'semi;colon',
      '<angle>',
      'eq=ual',
      '/slash/',
      'Ünïcødé €',
      'multi\nline',
      'tab\there',
      '\ttab first',
      'nul\u0000byte',
      '',
    ];
    for (const value of awkward) {
      it(`round-trips ${JSON.stringify(value)} through parseDistinguishedName`, () => {
        const attributes: DnAttribute[] = [
          { oid: C, value: 'FR' },
          { oid: O, value },
          { oid: CN, value: `${value}.example` },
        ];
        const parsed = parseDistinguishedName(formatRfc4514(attributes));
        expect(parsed).to.have.deep.members(attributes);
        expect(parsed).to.have.length(attributes.length);
      });
    }

    it('round-trips any values through parseDistinguishedName (property)', () => {
      const special = fc.constantFrom(' ', '#', ',', '+', '"', '\\', ';', '<', '>', '=', '/', '\n', '\r', '\t', '\u00a0', 'a', 'é', '€', '𝄞');
      const value = fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 12 }),
        fc.array(special, { maxLength: 12 }).map((chars) => chars.join('')),
      );
      const oid = fc.constantFrom(CN, C, O, OU, ORG_ID, UID, '2.5.4.4', '1.2.840.113549.1.9.1');
      const attributes = fc.array(fc.record({ oid, value }), { minLength: 1, maxLength: 5 });
      fc.assert(fc.property(attributes, (input) => {
        const parsed = parseDistinguishedName(formatRfc4514(input));
        expect(parsed).to.have.deep.members(input);
        expect(parsed).to.have.length(input.length);
        expect(sameDistinguishedName(parsed, input)).to.equal(true);
      }), { numRuns: 500 });
    });
  });
});
