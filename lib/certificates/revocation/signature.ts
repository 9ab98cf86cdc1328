/**
 * Signatures of OCSP responses and CRLs, checked with node:crypto on the issuer's (or delegated
 * responder's) public key: RSA PKCS #1 v1.5, RSASSA-PSS, ECDSA and EdDSA, with SHA-256 or a longer
 * SHA-2. SHA-1 and older hashes are refused, as they are on certificate paths.
 */
import { constants, verify, type KeyObject } from 'node:crypto';

import { AsnConvert, AsnProp, AsnPropTypes } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

import { HASHES_BY_OID, RSASSA_PSS, SIGNATURE_ALGORITHMS, SIGNATURE_HASHES } from '../algorithms.js';

const MGF1 = '1.2.840.113549.1.1.8';
/** The hashes a status answer may be signed with, as path signatures (WebCrypto names). */
const STRONG_HASHES: ReadonlySet<string> = new Set(SIGNATURE_HASHES);

/** node:crypto's name (`sha256`) of a strong hash named as WebCrypto names it; undefined for any other. */
function strongHash(name: string | undefined): string | undefined {
  return name !== undefined && STRONG_HASHES.has(name) ? name.replace('-', '').toLowerCase() : undefined;
}

/** RFC 4055 §3.1 RSASSA-PSS-params. */
class PssParameters {
  @AsnProp({ type: AlgorithmIdentifier, context: 0, optional: true })
  public hashAlgorithm?: AlgorithmIdentifier;

  @AsnProp({ type: AlgorithmIdentifier, context: 1, optional: true })
  public maskGenAlgorithm?: AlgorithmIdentifier;

  @AsnProp({ type: AsnPropTypes.Integer, context: 2, optional: true })
  public saltLength?: number;

  @AsnProp({ type: AsnPropTypes.Integer, context: 3, optional: true })
  public trailerField?: number;
}

interface PssChoice {
  readonly hash: string;
  readonly saltLength: number;
}

function pssChoice(parameters: ArrayBuffer | null | undefined): PssChoice | string {
  // Absent parameters mean SHA-1 everywhere (RFC 4055 defaults).
  if (!parameters?.byteLength) return 'RSASSA-PSS with SHA-1';
  let read: PssParameters;
  try {
    read = AsnConvert.parse(parameters, PssParameters);
  } catch {
    return 'RSASSA-PSS with unreadable parameters';
  }
  const hashOid = read.hashAlgorithm?.algorithm ?? '1.3.14.3.2.26';
  const hash = strongHash(HASHES_BY_OID[hashOid]);
  if (!hash) return `RSASSA-PSS with ${HASHES_BY_OID[hashOid] ?? hashOid}`;
  const mask = read.maskGenAlgorithm;
  // node:crypto uses the signature hash for MGF1; another MGF1 hash cannot be checked here.
  const maskHash = mask?.parameters ? AsnConvert.parse(mask.parameters, AlgorithmIdentifier).algorithm : '1.3.14.3.2.26';
  if (mask?.algorithm !== MGF1 || strongHash(HASHES_BY_OID[maskHash]) !== hash) return 'RSASSA-PSS with a mask generation other than MGF1 over the signature hash';
  if ((read.trailerField ?? 1) !== 1) return 'RSASSA-PSS with an unknown trailer field';
  return { hash, saltLength: read.saltLength ?? 20 };
}

/**
 * Checks `signature` over `data` with `key`; undefined when it holds, else why not (a weak or
 * unknown algorithm, a key of another kind, a signature that does not verify).
 */
export function signatureProblem(algorithm: AlgorithmIdentifier, data: ArrayBuffer | Uint8Array, signature: ArrayBuffer | Uint8Array, key: KeyObject): string | undefined {
  const bytes = Buffer.from(data instanceof Uint8Array ? data : new Uint8Array(data));
  const signed = Buffer.from(signature instanceof Uint8Array ? signature : new Uint8Array(signature));
  const type = key.asymmetricKeyType;
  try {
    if (algorithm.algorithm === RSASSA_PSS) {
      const choice = pssChoice(algorithm.parameters);
      if (typeof choice === 'string') return `signed with ${choice}, which is not accepted`;
      if (type !== 'rsa' && type !== 'rsa-pss') return 'signed with RSASSA-PSS by a key that is not RSA';
      const ok = verify(choice.hash, bytes, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: choice.saltLength }, signed);
      return ok ? undefined : 'the signature does not verify';
    }
    const known = SIGNATURE_ALGORITHMS[algorithm.algorithm];
    if (!known || known.family === 'dsa') return `signed with the algorithm ${algorithm.algorithm}, which is not accepted`;
    const hash = known.hash === undefined ? null : strongHash(known.hash);
    if (hash === undefined) return `signed with ${known.name}, which is not accepted`;
    if (type !== known.family) return `signed with an algorithm for ${known.family} keys by a key of type ${type ?? 'unknown'}`;
    const ok = known.family === 'rsa'
      ? verify(hash, bytes, { key, padding: constants.RSA_PKCS1_PADDING }, signed)
      : known.family === 'ec'
        ? verify(hash, bytes, { key, dsaEncoding: 'der' }, signed)
        : verify(null, bytes, key, signed);
    return ok ? undefined : 'the signature does not verify';
  } catch {
    return 'the signature cannot be checked';
  }
}
