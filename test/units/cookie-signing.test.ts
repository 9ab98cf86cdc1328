import { createHmac } from 'node:crypto';

import { expect } from 'chai';
import fc from 'fast-check';

import { CookieSigner } from '../../lib/provider/cookie-signing.js';

/** A cookie signature as Keygrip makes it with its defaults: HMAC-SHA1, base64 made URL-safe, unpadded. */
function keygripSignature(key: string, data: string): string {
  return createHmac('sha1', key).update(data).digest('base64').replace(/\/|\+|=/g, (x) => ({ '/': '_', '+': '-', '=': '' })[x]!);
}

describe('cookie signing', () => {
  const key = fc.string({ minLength: 32, maxLength: 64, unit: 'binary' });

  it('signs as Keygrip does with the first key, so cookies signed before still verify', () => {
    fc.assert(fc.property(fc.array(key, { minLength: 1, maxLength: 3 }), fc.string({ unit: 'binary' }), (keys, data) => {
      const signer = new CookieSigner(keys);
      expect(signer.sign(data)).to.equal(keygripSignature(keys[0]!, data));
      keys.forEach((k, i) => expect(signer.index(data, keygripSignature(k, data))).to.equal(keys.indexOf(k), `key ${i}`));
    }));
  });

  it('verifies nothing else: another value, a changed or cut signature, another key', () => {
    const signer = new CookieSigner(['k'.repeat(32), 'l'.repeat(32)]);
    const signature = signer.sign('psd2_interaction=abc');
    expect(signer.verify('psd2_interaction=abc', signature)).to.equal(true);
    expect(signer.index('psd2_interaction=abd', signature)).to.equal(-1);
    expect(signer.index('psd2_interaction=abc', `${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`)).to.equal(-1);
    expect(signer.index('psd2_interaction=abc', signature.slice(0, -1))).to.equal(-1);
    expect(signer.index('psd2_interaction=abc', `${signature}=`)).to.equal(-1);
    expect(signer.index('psd2_interaction=abc', keygripSignature('m'.repeat(32), 'psd2_interaction=abc'))).to.equal(-1);
    expect(signer.index('psd2_interaction=abc', keygripSignature('l'.repeat(32), 'psd2_interaction=abc'))).to.equal(1);
  });
});
