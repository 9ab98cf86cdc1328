/**
 * OCSP (RFC 6960): one request per certificate, SHA-1 CertID as deployed clients send it, no nonce;
 * the answer is believed only when signed by the issuer itself or by a responder certificate the
 * issuer issued with id-kp-OCSPSigning (§4.2.2.2), for this very CertID, and current.
 */
import { createHash, X509Certificate } from 'node:crypto';

import {
  BasicOCSPResponse,
  CertID,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
  type ResponderID,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, type Extension } from '@peculiar/asn1-x509';

import { keyWeakness, signatureWeakness } from '../algorithms.js';
import { DEFAULT_PATH_VALIDATION } from '../path-validation.js';
import { infoOf, sameName, serialKey, type CertificateInfo } from './certificate.js';
import { HttpFailure, type HttpClient, type HttpLimits } from './fetch.js';
import { failed, freshnessProblem, type SourceContext, type SourceOutcome } from './outcome.js';
import { signatureProblem } from './signature.js';

/** What a delegated responder's certificate must meet: the default strength of a path. */
const RESPONDER_STRENGTH = DEFAULT_PATH_VALIDATION;

const SHA1 = '1.3.14.3.2.26';
const CERT_ID_HASHES: Record<string, string> = {
  [SHA1]: 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

function hash(algorithm: string, data: Uint8Array): Buffer {
  return createHash(algorithm).update(data).digest();
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

/** The DER OCSP request for `subject`, issued by `issuer`. */
export function ocspRequest(subject: CertificateInfo, issuer: CertificateInfo): Buffer {
  const reqCert = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: SHA1, parameters: null }),
    issuerNameHash: new OctetString(arrayBuffer(hash('sha1', subject.issuerName))),
    issuerKeyHash: new OctetString(arrayBuffer(hash('sha1', issuer.publicKeyBits))),
    serialNumber: arrayBuffer(subject.serialBytes),
  });
  const request = new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert })] }) });
  return Buffer.from(AsnConvert.serialize(request));
}

function criticalExtension(extensions: readonly Extension[] | undefined): string | undefined {
  return extensions?.find((extension) => extension.critical)?.extnID;
}

function identifies(responder: ResponderID, candidate: CertificateInfo): boolean {
  if (responder.byKey) return hash('sha1', candidate.publicKeyBits).equals(Buffer.from(responder.byKey.buffer));
  if (responder.byName) return sameName(responder.byName, Buffer.from(AsnConvert.serialize(responder.byName)), candidate.subjectParsed, candidate.subjectName);
  return false;
}

/**
 * The certificate whose key signed `basic`, when the issuer authorised it; else why not. The
 * issuer signs itself, or a delegated responder certificate is issued by it, carries
 * id-kp-OCSPSigning and is valid now.
 */
function authorisedSigner(basic: BasicOCSPResponse, issuer: CertificateInfo, now: number): CertificateInfo | string {
  const responder = basic.tbsResponseData.responderID;
  if (identifies(responder, issuer)) return issuer;
  let delegated: CertificateInfo | undefined;
  for (const embedded of basic.certs ?? []) {
    let candidate: CertificateInfo;
    try {
      candidate = infoOf(new X509Certificate(Buffer.from(AsnConvert.serialize(embedded))));
    } catch {
      continue;
    }
    if (identifies(responder, candidate)) {
      delegated = candidate;
      break;
    }
  }
  if (!delegated) return 'is not signed by the issuer or a responder it certified';
  const certificate = delegated.certificate;
  if (!certificate.checkIssued(issuer.certificate) || !certificate.verify(issuer.certificate.publicKey)) {
    return 'is not signed by the issuer or a responder it certified';
  }
  if (!(certificate.keyUsage ?? []).includes(id_kp_OCSPSigning)) {
    return `is signed by ${delegated.subject}, a certificate of the issuer without id-kp-OCSPSigning (RFC 6960 §4.2.2.2)`;
  }
  if (now < delegated.notBefore || now > delegated.notAfter) return `is signed by the responder certificate ${delegated.subject}, which is not valid now`;
  // The responder certificate meets the strength a certificate path must have.
  let weakness: string | undefined;
  try {
    const signature = AsnConvert.parse(Buffer.from(certificate.raw), Certificate).signatureAlgorithm;
    weakness = signatureWeakness(signature, RESPONDER_STRENGTH) ?? keyWeakness(certificate.publicKey, RESPONDER_STRENGTH);
  } catch {
    weakness = 'an unreadable signature algorithm';
  }
  if (weakness) return `is signed by the responder certificate ${delegated.subject}, which has ${weakness}`;
  return delegated;
}

/** The single response for `subject`'s CertID, with whichever hash the responder used. */
function singleResponseFor(basic: BasicOCSPResponse, subject: CertificateInfo, issuer: CertificateInfo) {
  const serial = serialKey(subject.serialBytes);
  return basic.tbsResponseData.responses.find(({ certID }) => {
    const algorithm = CERT_ID_HASHES[certID.hashAlgorithm.algorithm];
    return algorithm !== undefined
      && serialKey(new Uint8Array(certID.serialNumber)) === serial
      && hash(algorithm, subject.issuerName).equals(Buffer.from(certID.issuerNameHash.buffer))
      && hash(algorithm, issuer.publicKeyBits).equals(Buffer.from(certID.issuerKeyHash.buffer));
  });
}

/** Reads an OCSP answer for `subject`; `url` only names the responder in descriptions. */
export function readOcspResponse(body: Uint8Array, url: string, subject: CertificateInfo, issuer: CertificateInfo, context: SourceContext): SourceOutcome {
  const from = `the OCSP response from ${url}`;
  let basic: BasicOCSPResponse;
  try {
    const response = AsnConvert.parse(body, OCSPResponse);
    if (response.responseStatus !== OCSPResponseStatus.successful) {
      return failed(`the OCSP responder ${url} answered ${OCSPResponseStatus[response.responseStatus] ?? response.responseStatus}`);
    }
    if (response.responseBytes?.responseType !== id_pkix_ocsp_basic) return failed(`${from} is not a basic OCSP response`);
    basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
  } catch {
    return failed(`${from} cannot be read`);
  }
  const signer = authorisedSigner(basic, issuer, context.now);
  if (typeof signer === 'string') return failed(`${from} ${signer}`);
  const signed = basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData);
  const problem = signatureProblem(basic.signatureAlgorithm, signed, basic.signature, signer.certificate.publicKey);
  if (problem) return failed(`${from} is not signed by the issuer or a responder it certified (${problem})`);
  const critical = criticalExtension(basic.tbsResponseData.responseExtensions);
  if (critical) return failed(`${from} has the unrecognised critical extension ${critical}`);

  const single = singleResponseFor(basic, subject, issuer);
  if (!single) return failed(`${from} does not answer for this certificate`);
  const singleCritical = criticalExtension(single.singleExtensions);
  if (singleCritical) return failed(`${from} has the unrecognised critical extension ${singleCritical}`);
  const thisUpdate = single.thisUpdate.getTime();
  const nextUpdate = single.nextUpdate?.getTime();
  const stale = freshnessProblem(thisUpdate, nextUpdate, context);
  if (stale) return failed(`${from} ${stale}`);

  const status = single.certStatus;
  if (status.revoked) {
    return {
      kind: 'revoked',
      source: 'ocsp',
      url,
      revokedAt: status.revoked.revocationTime.getTime(),
      reason: status.revoked.revocationReason?.toJSON(),
      nextUpdate,
    };
  }
  // Without nextUpdate an answer vouches for maxAge from when it was made, not from now.
  if (status.good !== undefined) return { kind: 'good', source: 'ocsp', url, nextUpdate: nextUpdate ?? thisUpdate + context.maxAge * 1000 };
  return failed(`the OCSP responder ${url} does not know the certificate (status unknown)`);
}

/** Asks the responder at `url` for `subject`'s status. */
export async function askOcsp(url: string, subject: CertificateInfo, issuer: CertificateInfo, http: HttpClient, limits: HttpLimits, context: () => SourceContext): Promise<SourceOutcome> {
  let body: Buffer;
  try {
    body = (await http({ url, method: 'POST', body: ocspRequest(subject, issuer), contentType: 'application/ocsp-request', accept: 'application/ocsp-response' }, limits)).body;
  } catch (error) {
    if (error instanceof HttpFailure) return failed(`the OCSP responder ${url} ${error.message}`);
    throw error;
  }
  try {
    return readOcspResponse(body, url, subject, issuer, context());
  } catch {
    return failed(`the OCSP response from ${url} cannot be checked`);
  }
}
