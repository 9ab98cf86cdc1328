/**
 * The XAdES signature of a trusted list (ETSI TS 119 612 §5.7, enveloped, XAdES-BES): checked with
 * xadesjs over Node's WebCrypto (RSA PKCS#1 v1.5, RSA-PSS, ECDSA) against the keys this server
 * expects, never against a key the document brings along: a valid signature by an unknown key
 * proves nothing.
 */
import { X509Certificate, createHash, webcrypto } from 'node:crypto';

import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import * as xades from 'xadesjs';

import { DSIG_NS, TrustedListError, XADES_NS, childrenOf, descendantsNamed, textOf } from './xml.js';

const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const SIGNED_PROPERTIES = 'http://uri.etsi.org/01903#SignedProperties';
/**
 * Transforms a reference may apply: the enveloped one and canonicalizations. Any other (an XPath
 * filter, say) could leave parts of the list out of what is signed.
 */
const TRANSFORMS = new Set([
  ENVELOPED,
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
  'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
  'http://www.w3.org/2001/10/xml-exc-c14n#',
  'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
]);
const DIGESTS: Readonly<Record<string, string>> = {
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
  'http://www.w3.org/2001/04/xmldsig-more#sha384': 'sha384',
  'http://www.w3.org/2001/04/xmlenc#sha512': 'sha512',
};
const CURVES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

let engineSet = false;

/** xadesjs needs a WebCrypto and a DOM implementation; set on first use, not on import. */
function useEngine(): void {
  if (engineSet) return;
  xades.Application.setEngine('NodeJS', webcrypto);
  xades.setNodeDependencies({ DOMParser, XMLSerializer });
  engineSet = true;
}

/** The one signature of the list: a child of its root, and no other anywhere in the document. */
function signatureOf(document: Document): Element {
  const root = document.documentElement!;
  const all = descendantsNamed(root, 'Signature').filter((element) => element.namespaceURI === DSIG_NS);
  const own = childrenOf(root, DSIG_NS, 'Signature');
  if (own.length !== 1 || all.length !== 1) throw new TrustedListError('the list must hold exactly one signature, enveloped in its root element');
  return own[0]!;
}

/**
 * The references must sign the whole list (URI "" or the root's Id, enveloped) and nothing but it
 * and the XAdES signed properties: a signature over some other part proves nothing about the services.
 */
function checkReferences(document: Document, signature: Element): Element {
  const root = document.documentElement!;
  const rootId = root.getAttribute('Id');
  const references = childrenOf(childrenOf(signature, DSIG_NS, 'SignedInfo')[0], DSIG_NS, 'Reference');
  let wholeList = false;
  let signedProperties: Element | undefined;
  for (const reference of references) {
    const uri = reference.getAttribute('URI');
    const transforms = childrenOf(childrenOf(reference, DSIG_NS, 'Transforms')[0], DSIG_NS, 'Transform').map((t) => t.getAttribute('Algorithm'));
    const other = transforms.find((transform) => !TRANSFORMS.has(transform ?? ''));
    if (other !== undefined) throw new TrustedListError(`the signature applies the transform ${String(other).slice(0, 100)}, which may leave parts of the list unsigned`);
    if (reference.getAttribute('Type') === SIGNED_PROPERTIES && uri?.startsWith('#')) {
      const target = descendantsNamed(signature, 'SignedProperties').filter((element) => element.namespaceURI === XADES_NS);
      if (target.length !== 1 || target[0]!.getAttribute('Id') !== uri.slice(1)) throw new TrustedListError('the signature references signed properties it does not hold');
      signedProperties = target[0];
    } else if ((uri === '' || (rootId && uri === `#${rootId}`)) && transforms.includes(ENVELOPED)) {
      wholeList = true;
    } else {
      throw new TrustedListError(`the signature references ${uri === null ? 'an unnamed part' : `"${uri.slice(0, 80)}"`}, not the whole list`);
    }
  }
  if (rootId && Array.from(root.getElementsByTagNameNS('*', '*')).some((element) => element.getAttribute('Id') === rootId)) {
    throw new TrustedListError('the list repeats the Id of its root element');
  }
  if (!wholeList) throw new TrustedListError('the signature does not cover the whole list');
  if (!signedProperties) throw new TrustedListError('the signature has no XAdES signed properties');
  return signedProperties;
}

/**
 * XAdES SigningCertificate(V2): the signed properties must name the signer's certificate. Read only
 * where a verified reference covers it, never from an unsigned part of the signature.
 */
function namesSigner(signedProperties: Element, signer: X509Certificate): boolean {
  const certificates = childrenOf(signedProperties, XADES_NS, 'SignedSignatureProperties')
    .flatMap((properties) => [...childrenOf(properties, XADES_NS, 'SigningCertificate'), ...childrenOf(properties, XADES_NS, 'SigningCertificateV2')])
    .flatMap((list) => childrenOf(list, XADES_NS, 'Cert'));
  return certificates.flatMap((cert) => childrenOf(cert, XADES_NS, 'CertDigest')).some((digest) => {
    const method = childrenOf(digest, DSIG_NS, 'DigestMethod')[0]?.getAttribute('Algorithm') ?? '';
    const algorithm = DIGESTS[method];
    return algorithm !== undefined && createHash(algorithm).update(signer.raw).digest('base64') === textOf(childrenOf(digest, DSIG_NS, 'DigestValue')[0]).replace(/\s/g, '');
  });
}

/** The algorithm to import `certificate`'s key with for a signature of `algorithm`; undefined when they do not fit. */
function importAlgorithm(algorithm: { name: string }, certificate: X509Certificate): webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | undefined {
  const key = certificate.publicKey;
  if (algorithm.name === 'ECDSA') {
    const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
    return key.asymmetricKeyType === 'ec' && curve ? { name: 'ECDSA', namedCurve: curve } : undefined;
  }
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' || algorithm.name === 'RSA-PSS') {
    return key.asymmetricKeyType === 'rsa' ? { ...(algorithm as webcrypto.RsaHashedImportParams) } : undefined;
  }
  return undefined;
}

/** The library's signature, with its two steps apart: the references are digested once, whatever the number of candidate keys. */
class ListSignature extends xades.SignedXml {
  /** Throws unless every reference's digest matches (the whole list and the signed properties). */
  async checkDigests(root: Element): Promise<void> {
    if (!(await this.ValidateReferences(root.cloneNode(true)))) throw new TrustedListError('a reference of the signature does not match');
  }

  /** Whether `certificate`'s key made the signature over SignedInfo. */
  async signedBy(certificate: X509Certificate): Promise<boolean> {
    const algorithm = this.Algorithm as { name: string } | undefined;
    const params = algorithm && importAlgorithm(algorithm, certificate);
    if (!params) return false;
    const key = await webcrypto.subtle.importKey('spki', certificate.publicKey.export({ type: 'spki', format: 'der' }), { ...algorithm, ...params }, true, ['verify']);
    return this.ValidateSignatureValue([key]);
  }
}

/** Whatever the library throws on a malformed signature (bad base64, unknown algorithm) is a refusal. */
async function refusingFailures<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof TrustedListError) throw error;
    // xml-core's errors are not Error instances; their message is what says why.
    const message = (error as { message?: unknown } | undefined)?.message;
    throw new TrustedListError(`the list's signature does not verify: ${(typeof message === 'string' ? message : 'malformed').split('.')[0]!.slice(0, 200)}`);
  }
}

/** Why `signer` may not be the list's signer although its key made the signature; undefined when it may. */
function unfitSigner(signer: X509Certificate, signedProperties: Element, now: Date): string | undefined {
  if (new Date(signer.validFrom) > now || new Date(signer.validTo) < now) return `the list's signing certificate is not valid now (${signer.validFrom} to ${signer.validTo})`;
  if (!namesSigner(signedProperties, signer)) return 'the signed properties do not name the signing certificate';
  return undefined;
}

/**
 * Verifies the list's enveloped XAdES signature and returns the first of `signers` that made it,
 * is valid at `now` and is the one the signed properties name (a renewed certificate may share its
 * predecessor's key); throws {@link TrustedListError} when none is, or when the signature does not
 * sign the whole list.
 */
export async function verifyListSignature(document: Document, signers: readonly X509Certificate[], now: Date): Promise<X509Certificate> {
  useEngine();
  const signature = signatureOf(document);
  const signedProperties = checkReferences(document, signature);
  const signed = new ListSignature(document);
  let unfit: string | undefined;
  await refusingFailures(async () => {
    signed.LoadXml(signature);
    await signed.checkDigests(document.documentElement!);
  });
  for (const signer of signers) {
    if (!(await refusingFailures(() => signed.signedBy(signer)))) continue;
    unfit = unfitSigner(signer, signedProperties, now);
    if (!unfit) return signer;
  }
  throw new TrustedListError(unfit ?? 'the list is not signed by any of the certificates expected for it');
}
