import { expect } from 'chai';

import { serialKey } from '../../lib/certificates/revocation/certificate.js';

describe('revocation: serial numbers compared as integers', () => {
  const key = (...octets: number[]) => serialKey(new Uint8Array(octets));

  it('ignores redundant leading octets of the same value', () => {
    expect(key(0x00, 0x00, 0xff)).to.equal(key(0x00, 0xff));
    expect(key(0x00, 0x12, 0x34)).to.equal(key(0x12, 0x34));
    expect(key(0xff, 0x80)).to.equal(key(0x80));
  });

  it('never mistakes a negative serial for a positive one', () => {
    // 00 FF is 255; FF is -1 (two's complement): a response for one must not answer for the other.
    expect(key(0xff)).to.not.equal(key(0x00, 0xff));
    expect(key(0x80, 0x01)).to.not.equal(key(0x00, 0x80, 0x01));
  });

  it('keeps distinct serials apart', () => {
    expect(key(0x01)).to.not.equal(key(0x01, 0x00));
    expect(key(0x00)).to.equal('00');
  });
});
