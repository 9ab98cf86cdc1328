/**
 * The signer of oidc-provider's cookies (its `cookies.keys` may be a Keygrip instance). It signs
 * and verifies as Keygrip does with the cookie keys: HMAC-SHA1 of `name=value` in base64url, the
 * first key signing, every key verifying, the index of the one that verified telling the cookies
 * module whether to sign again with the first. Keygrip prepares a key for each HMAC and compares a
 * signature by HMACing both sides again under fresh random bytes (three HMACs per key for every
 * signed cookie read); here each key is prepared once and a signature compared with
 * `timingSafeEqual`, one HMAC per key.
 */
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

function signature(key: KeyObject, data: string | Buffer): string {
  return createHmac('sha1', key).update(data).digest('base64url');
}

/** Signs with the first of `keys`, verifies with any of them. */
export class CookieSigner {
  readonly #keys: readonly KeyObject[];

  constructor(keys: readonly string[]) {
    if (!keys.length) throw new Error('cookie keys must hold at least one key');
    this.#keys = keys.map((key) => createSecretKey(Buffer.from(key, 'utf8')));
  }

  sign(data: string | Buffer): string {
    return signature(this.#keys[0]!, data);
  }

  verify(data: string | Buffer, digest: string): boolean {
    return this.index(data, digest) > -1;
  }

  /** The index of the key that signed `data` as `digest`, -1 when none did. */
  index(data: string | Buffer, digest: string): number {
    const given = Buffer.from(digest);
    for (let i = 0; i < this.#keys.length; i += 1) {
      const expected = signature(this.#keys[i]!, data);
      if (expected.length === given.length && timingSafeEqual(Buffer.from(expected), given) && expected === digest) return i;
    }
    return -1;
  }
}
