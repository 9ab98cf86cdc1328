/**
 * The strength of keys and signatures on a certificate path. RFC 5280 leaves it to the relying
 * party; the defaults follow ETSI TS 119 312 and the CA/Browser Forum Baseline Requirements §6.1.5:
 * RSA of 2048 bits or more, EC on P-256, P-384 or P-521, EdDSA, and SHA-256 or a longer SHA-2.
 */
import type { KeyObject } from 'node:crypto';

import { AsnConvert, AsnProp } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

export const ELLIPTIC_CURVES = ['P-256', 'P-384', 'P-521', 'Ed25519', 'Ed448'] as const;
export type EllipticCurve = (typeof ELLIPTIC_CURVES)[number];

export const SIGNATURE_HASHES = ['SHA-256', 'SHA-384', 'SHA-512'] as const;
export type SignatureHash = (typeof SIGNATURE_HASHES)[number];

/** What keys and signatures a path may hold. */
export interface AlgorithmPolicy {
  readonly minimumRsaKeySize: number;
  readonly ellipticCurves: readonly EllipticCurve[];
  readonly signatureHashes: readonly SignatureHash[];
}

const CURVES_BY_OPENSSL_NAME: Record<string, EllipticCurve> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

const SHA1 = '1.3.14.3.2.26';
/** Hash algorithms by OID, by their WebCrypto names. */
export const HASHES_BY_OID: Readonly<Record<string, string>> = {
  [SHA1]: 'SHA-1',
  '2.16.840.1.101.3.4.2.4': 'SHA-224',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
  '1.2.840.113549.2.5': 'MD5',
  '1.2.840.113549.2.2': 'MD2',
};

export const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** The kind of key a signature algorithm is made with. */
export type SignatureFamily = 'rsa' | 'ec' | 'dsa' | 'ed25519' | 'ed448';

/**
 * Signature algorithms by OID (RSASSA-PSS apart: its hash is in its parameters): their name, the
 * kind of key that makes them and the hash they use (none for EdDSA). Certificate paths and the
 * status answers of OCSP responders and CRLs are judged by this one table.
 */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, { readonly name: string; readonly family: SignatureFamily; readonly hash: string | undefined }>> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', family: 'rsa', hash: 'MD2' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', family: 'rsa', hash: 'MD5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', family: 'rsa', hash: 'SHA-1' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', family: 'rsa', hash: 'SHA-224' },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', family: 'rsa', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', family: 'rsa', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', family: 'rsa', hash: 'SHA-512' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', family: 'ec', hash: 'SHA-1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', family: 'ec', hash: 'SHA-224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', family: 'ec', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', family: 'ec', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', family: 'ec', hash: 'SHA-512' },
  '1.2.840.10040.4.3': { name: 'dsa-with-SHA1', family: 'dsa', hash: 'SHA-1' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-SHA256', family: 'dsa', hash: 'SHA-256' },
  '1.3.101.112': { name: 'Ed25519', family: 'ed25519', hash: undefined },
  '1.3.101.113': { name: 'Ed448', family: 'ed448', hash: undefined },
};

/** RFC 4055 §3.1, the part read here: `hashAlgorithm [0] HashAlgorithm DEFAULT sha1`. */
class PssHash {
  @AsnProp({ type: AlgorithmIdentifier, context: 0, optional: true })
  public hashAlgorithm?: AlgorithmIdentifier;
}

function pssHash(parameters: ArrayBuffer | null | undefined): string {
  if (!parameters?.byteLength) return 'SHA-1';
  const oid = AsnConvert.parse(parameters, PssHash).hashAlgorithm?.algorithm ?? SHA1;
  return HASHES_BY_OID[oid] ?? oid;
}

/**
 * Why a signature algorithm (as found in a certificate's signatureAlgorithm) is not accepted;
 * undefined when it is.
 */
export function signatureWeakness(algorithm: AlgorithmIdentifier, policy: AlgorithmPolicy): string | undefined {
  const accepted = `${policy.signatureHashes.join(', ')} or EdDSA`;
  if (algorithm.algorithm === RSASSA_PSS) {
    let hash: string;
    try {
      hash = pssHash(algorithm.parameters);
    } catch {
      return 'RSASSA-PSS with unreadable parameters';
    }
    return (policy.signatureHashes as readonly string[]).includes(hash) ? undefined : `RSASSA-PSS with ${hash}; ${accepted} is required`;
  }
  const known = SIGNATURE_ALGORITHMS[algorithm.algorithm];
  if (!known) return `the algorithm ${algorithm.algorithm}, which this server does not accept; ${accepted} is required`;
  if (known.hash === undefined) return undefined;
  if (known.family === 'dsa') return `${known.name}, a DSA signature, which this server does not accept`;
  if ((policy.signatureHashes as readonly string[]).includes(known.hash)) return undefined;
  return `${known.name}; ${accepted} is required`;
}

/** Why a public key is not accepted ("a 1024-bit RSA key; …"); undefined when it is. */
export function keyWeakness(key: KeyObject, policy: AlgorithmPolicy): string | undefined {
  const curves = policy.ellipticCurves.join(', ');
  const accepted = `RSA of at least ${policy.minimumRsaKeySize} bits or EC on ${curves} is required`;
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    return bits >= policy.minimumRsaKeySize ? undefined : `a ${bits}-bit RSA key; at least ${policy.minimumRsaKeySize} bits are required`;
  }
  if (type === 'ec') {
    const curve = CURVES_BY_OPENSSL_NAME[details.namedCurve ?? ''];
    if (curve && policy.ellipticCurves.includes(curve)) return undefined;
    return `an EC key on ${curve ?? details.namedCurve ?? 'an unnamed curve'}; ${accepted}`;
  }
  if (type === 'ed25519' || type === 'ed448') {
    const curve: EllipticCurve = type === 'ed25519' ? 'Ed25519' : 'Ed448';
    return policy.ellipticCurves.includes(curve) ? undefined : `an ${curve} key; ${accepted}`;
  }
  return `a ${type ?? 'unknown'} key; ${accepted}`;
}
