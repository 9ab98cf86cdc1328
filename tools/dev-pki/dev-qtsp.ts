/**
 * The development QTSPs' status services, served by the example app on a loopback plain-HTTP
 * listener (`QTSP_PORT`): for each QTSP a CRL (`GET /{qtsp}/crl`) and an OCSP responder
 * (`POST /{qtsp}/ocsp`, or `GET /{qtsp}/ocsp/{request}` as RFC 6960 A.1 allows). OCSP and CRLs
 * travel over plain HTTP by design: what they say is signed by the QTSP. Development only.
 */
import 'reflect-metadata';
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

import {
  BasicOCSPResponse, CertID, CertStatus, id_pkix_ocsp_basic, id_pkix_ocsp_nonce, KeyHash, OCSPRequest, OCSPResponse,
  OCSPResponseStatus, ResponderID, ResponseBytes, ResponseData, RevokedInfo, SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, CRLNumber, CRLReason, type Extension } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';

import type { Authority } from './pki.js';
import { normalizeSerial, QTSP_NAMES, readRegister, REVOCATION_REASONS, type QtspName, type RegisteredCertificate } from './qtsp-register.js';

export const DEFAULT_QTSP_PORT = 8480;
/** Where the running app writes the base URL it serves the QTSPs at, for `npm run tpp-cert`. */
export const QTSP_URL_FILE = 'qtsp-url.txt';
/** How long a status answer or a CRL is valid. */
const VALIDITY_MS = 60 * 60 * 1000;
/** A CRL is signed again after this long even when nothing changed, so its nextUpdate stays ahead. */
const CRL_REFRESH_MS = 10 * 60 * 1000;
const MAX_REQUEST_BYTES = 16 * 1024;
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** `QTSP_PORT` read and checked; `undefined` when it is not set. */
export function qtspPortFrom(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`QTSP_PORT=${value} is not a port number`);
  return port;
}

export function qtspBaseUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

/** The URLs a certificate of `qtsp` carries: its OCSP responder (AIA) and its CRL (CDP). */
export function statusUrls(base: string, qtsp: QtspName): { ocspUrl: string; crlUrl: string } {
  return { ocspUrl: `${base}/${qtsp}/ocsp`, crlUrl: `${base}/${qtsp}/crl` };
}

/** The base URL the app last served the QTSPs at from the PKI in `dir`, if it recorded one. */
export function recordedQtspBase(dir: string): string | undefined {
  const path = join(dir, QTSP_URL_FILE);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
}

/** Whole seconds: GeneralizedTime values in certificates and status answers carry no fractions. */
function seconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

class DevQtsp {
  readonly #issuerName: Buffer;
  readonly #issuerKey: Buffer;
  readonly #signingKey: KeyObject;
  #crl: { der: Buffer; revocations: string; signedAt: number } | undefined;

  constructor(readonly name: QtspName, readonly authority: Authority, readonly dir: string) {
    const { tbsCertificate } = AsnConvert.parse(authority.der, Certificate);
    this.#issuerName = Buffer.from(AsnConvert.serialize(tbsCertificate.subject));
    this.#issuerKey = Buffer.from(tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
    this.#signingKey = createPrivateKey(authority.keyPem);
  }

  #entries(): RegisteredCertificate[] {
    return readRegister(this.dir).filter((entry) => entry.qtsp === this.name);
  }

  /** True when `id` names a certificate issued by this QTSP (same issuer name and key hashes). */
  #issued(id: CertID): boolean {
    const hash = HASHES[id.hashAlgorithm.algorithm];
    if (!hash) return false;
    const digest = (data: Buffer) => createHash(hash).update(data).digest();
    return digest(this.#issuerName).equals(Buffer.from(id.issuerNameHash.buffer))
      && digest(this.#issuerKey).equals(Buffer.from(id.issuerKeyHash.buffer));
  }

  /** The DER OCSP response to a DER OCSP request. */
  ocsp(body: Buffer): Buffer {
    let request: OCSPRequest;
    try {
      request = AsnConvert.parse(body, OCSPRequest);
    } catch {
      return answer(OCSPResponseStatus.malformedRequest);
    }
    const { requestList, requestExtensions } = request.tbsRequest;
    if (!requestList.length) return answer(OCSPResponseStatus.malformedRequest);
    if (!requestList.every(({ reqCert }) => this.#issued(reqCert))) return answer(OCSPResponseStatus.unauthorized);

    const entries = new Map(this.#entries().map((entry) => [entry.serial, entry]));
    const now = Date.now();
    const responses = requestList.map(({ reqCert }) => new SingleResponse({
      certID: reqCert,
      certStatus: certStatus(entries.get(normalizeSerial(Buffer.from(reqCert.serialNumber).toString('hex')))),
      thisUpdate: seconds(now),
      nextUpdate: seconds(now + VALIDITY_MS),
    }));
    // An OCSP nonce is echoed when the client sent one (RFC 8954), as clients such as openssl expect.
    const nonce = requestExtensions?.find((extension: Extension) => extension.extnID === id_pkix_ocsp_nonce);
    const tbsResponseData = new ResponseData({
      responderID: new ResponderID({ byKey: new KeyHash(createHash('sha1').update(this.#issuerKey).digest()) }),
      producedAt: seconds(now),
      responses,
      ...(nonce ? { responseExtensions: [nonce] } : {}),
    });
    const basic = new BasicOCSPResponse({
      tbsResponseData,
      signatureAlgorithm: new AlgorithmIdentifier({ algorithm: ECDSA_WITH_SHA256 }),
      signature: this.#sign(Buffer.from(AsnConvert.serialize(tbsResponseData))),
    });
    return answer(OCSPResponseStatus.successful, basic);
  }

  /** The DER CRL, signed again when the revocations changed or it is getting old. */
  async crl(): Promise<Buffer> {
    const revoked = this.#entries().filter((entry) => entry.revokedAt);
    const revocations = JSON.stringify(revoked);
    const now = Date.now();
    if (this.#crl && this.#crl.revocations === revocations && now - this.#crl.signedAt < CRL_REFRESH_MS) return this.#crl.der;
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.authority.certificate.subjectName,
      thisUpdate: seconds(now),
      nextUpdate: seconds(now + VALIDITY_MS),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      signingKey: this.authority.keys.privateKey,
      entries: revoked.map((entry) => ({
        serialNumber: entry.serial,
        revocationDate: new Date(entry.revokedAt ?? now),
        ...(entry.reason ? { reason: REVOCATION_REASONS[entry.reason] as number as x509.X509CrlReason } : {}),
      })),
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(this.authority.certificate),
        // A CRL number that only grows: the second it was signed.
        new x509.Extension('2.5.29.20', false, AsnConvert.serialize(new CRLNumber(Math.floor(now / 1000)))),
      ],
    });
    this.#crl = { der: Buffer.from(crl.rawData), revocations, signedAt: now };
    return this.#crl.der;
  }

  #sign(data: Buffer): ArrayBuffer {
    const signature = sign('sha256', data, { key: this.#signingKey, dsaEncoding: 'der' });
    return signature.buffer.slice(signature.byteOffset, signature.byteOffset + signature.byteLength);
  }
}

type EcdsaParams = Parameters<typeof x509.X509CrlGenerator.create>[0]['signingAlgorithm'];

function certStatus(entry: RegisteredCertificate | undefined): CertStatus {
  if (!entry) return new CertStatus({ unknown: null });
  if (!entry.revokedAt) return new CertStatus({ good: null });
  return new CertStatus({
    revoked: new RevokedInfo({
      revocationTime: new Date(entry.revokedAt),
      ...(entry.reason ? { revocationReason: new CRLReason(REVOCATION_REASONS[entry.reason]) } : {}),
    }),
  });
}

function answer(status: OCSPResponseStatus, basic?: BasicOCSPResponse): Buffer {
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({
    responseStatus: status,
    ...(basic ? {
      responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(AsnConvert.serialize(basic)) }),
    } : {}),
  })));
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The request of `GET /{qtsp}/ocsp/{base64, URL-encoded}`. */
function fromPath(encoded: string): Buffer | undefined {
  try {
    return Buffer.from(decodeURIComponent(encoded), 'base64');
  } catch {
    return undefined;
  }
}

/**
 * An HTTP server (not yet listening) serving the status of the certificates that `authorities`
 * issued, as the register in `dir` has it.
 */
export function createDevQtspServer(dir: string, authorities: Partial<Record<QtspName, Authority>>): Server {
  const qtsps = new Map(QTSP_NAMES.flatMap((name) => {
    const authority = authorities[name];
    return authority ? [[name, new DevQtsp(name, authority, dir)] as const] : [];
  }));
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://qtsp').pathname;
    const [, name, service, encoded] = /^\/([a-z]+)\/(crl|ocsp)(?:\/(.+))?$/.exec(path) ?? [];
    const qtsp = qtsps.get(name as QtspName);
    const send = (status: number, type: string, body: Buffer | string) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' }).end(body);
    };
    if (!qtsp || service === 'crl' && encoded !== undefined) {
      send(404, 'text/plain', `Development QTSPs: ${[...qtsps.keys()].map((known) => `/${known}/crl, /${known}/ocsp`).join(', ')}\n`);
    } else if (service === 'crl' && req.method === 'GET') {
      send(200, 'application/pkix-crl', await qtsp.crl());
    } else if (service === 'ocsp' && encoded === undefined && req.method === 'POST') {
      const body = await readBody(req);
      if (!body) send(413, 'text/plain', 'OCSP request too large\n');
      else send(200, 'application/ocsp-response', qtsp.ocsp(body));
    } else if (service === 'ocsp' && encoded !== undefined && req.method === 'GET') {
      const body = fromPath(encoded);
      send(200, 'application/ocsp-response', body ? qtsp.ocsp(body) : answer(OCSPResponseStatus.malformedRequest));
    } else {
      send(405, 'text/plain', 'CRLs are read with GET, OCSP requests sent with POST\n');
    }
  };
  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(`development QTSP: ${(error as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end();
    });
  });
}
