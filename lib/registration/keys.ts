import { createHash, createPublicKey, X509Certificate, type JsonWebKey } from 'node:crypto';

import { InvalidClientMetadataError } from '../errors.js';

type Jwk = Record<string, unknown>;

/** The public members of each key type, in RFC 7638 §3.2 order (the thumbprint's members). */
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  RSA: ['e', 'kty', 'n'],
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
};

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The keys of a client's `jwks`: as stored (with the public key oidc-provider reads) and as the TPP sent them. */
export interface RegisteredKeys {
  /** Each key as sent, `kid: null` dropped, the public members derived from `x5c` added, and a `kid`. */
  readonly stored: Jwk[];
  /** Each key exactly as sent, `kid: null` dropped, with its `kid` (assigned when the TPP gave none). */
  readonly sent: Jwk[];
}

function invalid(message: string): never {
  throw new InvalidClientMetadataError(message);
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a public key's required members. */
export function jwkThumbprint(jwk: Readonly<Jwk>): string {
  const members = PUBLIC_MEMBERS[String(jwk.kty)] ?? [];
  const canonical = JSON.stringify(Object.fromEntries(members.map((member) => [member, jwk[member]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The public key of the first `x5c` certificate (RFC 7517 §4.7: the one holding the key). */
function keyOfCertificate(x5c: unknown, prefix: string): Jwk {
  if (!Array.isArray(x5c) || !x5c.length) invalid(`${prefix}.x5c must be a non-empty array of base64 DER certificates`);
  x5c.forEach((entry: unknown, index) => {
    if (typeof entry !== 'string' || !BASE64.test(entry)) invalid(`${prefix}.x5c[${index}] must be a base64 (not base64url) DER certificate`);
  });
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(Buffer.from(x5c[0] as string, 'base64'));
  } catch {
    invalid(`${prefix}.x5c[0] is not an X.509 certificate (base64 of its DER encoding)`);
  }
  return certificate.publicKey.export({ format: 'jwk' }) as Jwk;
}

function checkKey(key: unknown, index: number): { stored: Jwk; sent: Jwk } {
  const prefix = `jwks.keys[${index}]`;
  if (typeof key !== 'object' || key === null || Array.isArray(key)) invalid(`${prefix} must be a JSON object`);
  // A null kid is how some clients say they have none: the server assigns one.
  const sent: Jwk = Object.fromEntries(Object.entries(key as Jwk).filter(([member, value]) => !(member === 'kid' && value === null)));
  const { kty } = sent;
  if (kty === 'oct') invalid(`${prefix}.kty must not be oct: only public keys are registered`);
  if (typeof kty !== 'string' || !PUBLIC_MEMBERS[kty]) invalid(`${prefix}.kty must be RSA, EC or OKP`);
  const members = PUBLIC_MEMBERS[kty]!.filter((member) => member !== 'kty');
  const secret = PRIVATE_MEMBERS.find((member) => sent[member] !== undefined);
  if (secret) invalid(`${prefix}.${secret} must not be sent: only public keys are registered`);
  for (const member of ['kid', 'use', 'alg'] as const) {
    if (sent[member] !== undefined && (typeof sent[member] !== 'string' || !sent[member])) {
      invalid(`${prefix}.${member} must be a non-empty string${member === 'kid' ? ' or null' : ''}`);
    }
  }
  let derived: Jwk;
  if (sent.x5c !== undefined) {
    derived = keyOfCertificate(sent.x5c, prefix);
    if (derived.kty !== kty) invalid(`${prefix}.kty is ${kty}, but the x5c certificate holds an ${String(derived.kty)} key`);
    const differs = members.find((member) => sent[member] !== undefined && sent[member] !== derived[member]);
    if (differs) invalid(`${prefix}.${differs} does not match the public key of the x5c certificate`);
  } else {
    const missing = members.find((member) => typeof sent[member] !== 'string' || !sent[member]);
    if (missing) invalid(`${prefix}.${missing} is missing: send the public key (${members.join(', ')}) or the certificate in x5c`);
    try {
      derived = createPublicKey({ key: sent as JsonWebKey, format: 'jwk' }).export({ format: 'jwk' }) as Jwk;
    } catch {
      invalid(`${prefix} is not a valid ${kty} public key (${members.join(', ')})`);
    }
    const differs = members.find((member) => sent[member] !== derived[member]);
    if (differs) invalid(`${prefix}.${differs} is not a valid ${kty} public key member`);
  }
  const kid = (sent.kid as string | undefined) ?? jwkThumbprint(derived);
  const publicKey = Object.fromEntries(members.map((member) => [member, derived[member]]));
  return { stored: { ...sent, ...publicKey, kid }, sent: { ...sent, kid } };
}

/**
 * Checks a client's `jwks` (RFC 7591 §2) and fills in what oidc-provider needs: keys given by their
 * certificate alone (`x5c`) get the certificate's public key, keys without a `kid` (or with
 * `"kid": null`) the RFC 7638 thumbprint of their public key, stable across updates.
 * Throws {@link InvalidClientMetadataError} naming the key and member at fault.
 */
export function registerKeys(jwks: unknown): RegisteredKeys {
  if (typeof jwks !== 'object' || jwks === null || Array.isArray(jwks) || !Array.isArray((jwks as Jwk).keys)) {
    invalid('jwks must be a JSON object with a keys array');
  }
  const checked = ((jwks as Jwk).keys as unknown[]).map(checkKey);
  return { stored: checked.map((key) => key.stored), sent: checked.map((key) => key.sent) };
}
