/**
 * The OCSP responder of a test QTSP (./qtsp.ts): a real `openssl ocsp` process answering from the
 * CA directory's index.txt, reached through a small HTTP front on a loopback port of its own, which
 * counts requests and can make the responder refuse connections or hang.
 *
 * OpenSSL 3.0's responder reads index.txt only when it starts: after the index changed
 * ({@link OcspResponder.indexChanged}), the front restarts it before forwarding the next request.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import * as x509 from '@peculiar/x509';

import type { Authority, IssuedCertificate } from '../../tools/dev-pki/pki.js';
import { freePort } from './redis.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const OCSP_NO_CHECK = '1.3.6.1.5.5.7.48.1.5';
const DAY = 24 * 60 * 60 * 1000;

export interface ResponderOptions {
  /**
   * Who signs the responses: the CA itself (default) or the given certificate with its key, e.g. a
   * delegated responder from {@link responderCertificate} or a foreign authority.
   */
  readonly signer?: IssuedCertificate;
  /** Overrides the QTSP's `ocspNextUpdateMinutes` for this run of the responder. */
  readonly nextUpdateMinutes?: number | null;
  /**
   * index.txt contents to answer from instead of the CA's, e.g. a copy of it taken before a
   * revocation: a responder that says "good" of a revoked certificate.
   */
  readonly index?: string;
}

export interface ResponderCertificateOptions {
  /** Carry EKU id-kp-OCSPSigning; default true. */
  readonly ocspSigning?: boolean;
  /** Who issues it; default the QTSP's own authority. A foreign one makes a forged responder. */
  readonly issuer?: Authority;
  /** Hash of the issuer's signature on it; default SHA-256 (SHA-1 makes a weak one). */
  readonly signatureHash?: 'SHA-1' | 'SHA-256';
}

/**
 * A delegated OCSP responder certificate (RFC 6960 §4.2.2.2) named `commonName` under the name of
 * `authority`, issued by `issuer`, with EKU id-kp-OCSPSigning unless `ocspSigning` is false, and
 * id-pkix-ocsp-nocheck.
 */
export async function responderCertificate(authority: Authority, issuer: Authority, commonName: string, options: ResponderCertificateOptions = {}): Promise<IssuedCertificate> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: `02${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex')}`,
    subject: `CN=${commonName}, O=${authority.name}, C=EU`,
    issuer: issuer.certificate.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    signingAlgorithm: { ...ALGORITHM, hash: options.signatureHash ?? ALGORITHM.hash },
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...(options.ocspSigning ?? true ? [new x509.ExtendedKeyUsageExtension([OCSP_SIGNING])] : []),
      new x509.Extension(OCSP_NO_CHECK, false, new Uint8Array([0x05, 0x00])),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    certificate,
    keys,
    certPem: `${certificate.toString('pem').trim()}\n`,
    keyPem: `${x509.PemConverter.encode(pkcs8, 'PRIVATE KEY').trim()}\n`,
    der: Buffer.from(certificate.rawData),
  };
}

/** `openssl ocsp` on the CA directory `dir`, behind its front. */
export class OcspResponder {
  readonly url: string;

  #process: ChildProcess | undefined;
  #port = 0;
  #mode: 'up' | 'down' | 'hang' = 'down';
  #last: ResponderOptions = {};
  #files = 0;
  /** index.txt changed since the responder started. */
  #stale = false;
  #respawning: Promise<void> | undefined;

  private constructor(
    private readonly dir: string,
    private readonly nextUpdateMinutes: number | null,
    private readonly front: Server,
    private readonly frontPort: number,
  ) {
    this.url = `http://127.0.0.1:${frontPort}/ocsp`;
  }

  /** Opens the front of the responder of the CA in `dir` (not started yet); `onRequest` counts what reaches it. */
  static async listen(dir: string, nextUpdateMinutes: number | null, onRequest: () => void): Promise<OcspResponder> {
    const ref: { responder?: OcspResponder } = {};
    const front = createServer((req, res) => {
      const { responder } = ref;
      if (!responder) return void res.writeHead(503).end();
      onRequest();
      responder.#forward(req, res);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    ref.responder = new OcspResponder(dir, nextUpdateMinutes, front, (front.address() as AddressInfo).port);
    return ref.responder;
  }

  /** The CA's index.txt changed: the next request restarts the responder first. */
  indexChanged(): void {
    this.#stale = true;
  }

  /** (Re)starts `openssl ocsp` and lets the front forward to it. */
  async start(options: ResponderOptions = {}): Promise<void> {
    this.#last = options;
    await this.#spawn();
    await this.#listen();
    this.#mode = 'up';
  }

  /** Takes the responder down: the process stops and its URL refuses connections. */
  async stop(): Promise<void> {
    this.#mode = 'down';
    await this.#stopProcess();
    this.front.closeAllConnections();
    await new Promise<void>((resolve) => (this.front.listening ? this.front.close(() => resolve()) : resolve()));
  }

  /** The responder's URL accepts connections and requests but never answers. */
  async hang(): Promise<void> {
    await this.#stopProcess();
    await this.#listen();
    this.#mode = 'hang';
  }

  async #spawn(): Promise<void> {
    await this.#stopProcess();
    this.#stale = false;
    const { signer, index: indexText, nextUpdateMinutes } = this.#last;
    let rsigner = join(this.dir, 'ca.pem');
    let rkey = join(this.dir, 'ca.key');
    if (signer) {
      this.#files += 1;
      rsigner = join(this.dir, `signer-${this.#files}.pem`);
      rkey = join(this.dir, `signer-${this.#files}.key`);
      await writeFile(rsigner, signer.certPem);
      await writeFile(rkey, signer.keyPem, { mode: 0o600 });
    }
    let index = join(this.dir, 'index.txt');
    if (indexText !== undefined) {
      this.#files += 1;
      index = join(this.dir, `index-${this.#files}.txt`);
      await writeFile(index, indexText);
      await writeFile(`${index}.attr`, 'unique_subject = no\n');
    }
    const minutes = nextUpdateMinutes !== undefined ? nextUpdateMinutes : this.nextUpdateMinutes;
    this.#port = await freePort();
    const child = spawn('openssl', [
      'ocsp', '-index', index, '-port', String(this.#port),
      '-CA', join(this.dir, 'ca.pem'), '-rsigner', rsigner, '-rkey', rkey,
      ...(minutes === null ? [] : ['-nmin', String(minutes)]),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#process = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/waiting for OCSP client connections/.test(output)) {
          child.stdout?.off('data', onData);
          child.stderr?.off('data', onData);
          child.stdout?.resume();
          child.stderr?.resume();
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`openssl ocsp exited with ${code}: ${output}`)));
    });
  }

  /** Restarts the responder when index.txt changed since it started; one restart for concurrent requests. */
  async #fresh(): Promise<void> {
    while (this.#respawning) await this.#respawning;
    if (!this.#stale) return;
    this.#respawning = this.#spawn().finally(() => {
      this.#respawning = undefined;
    });
    await this.#respawning;
  }

  async #listen(): Promise<void> {
    if (this.front.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.front.once('error', reject);
      this.front.listen(this.frontPort, '127.0.0.1', () => {
        this.front.off('error', reject);
        resolve();
      });
    });
  }

  async #stopProcess(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    // Held open until the client gives up or the QTSP closes.
    if (this.#mode !== 'up') return;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => void this.#fresh().then(() => {
      const body = Buffer.concat(chunks);
      const upstream = request({
        host: '127.0.0.1',
        port: this.#port,
        method: req.method,
        path: '/',
        agent: false,
        headers: { 'content-type': req.headers['content-type'] ?? 'application/ocsp-request', 'content-length': body.length },
      }, (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => parts.push(chunk));
        answer.on('end', () => {
          const response = Buffer.concat(parts);
          res.writeHead(answer.statusCode ?? 502, {
            'content-type': answer.headers['content-type'] ?? 'application/ocsp-response',
            'content-length': response.length,
          }).end(response);
        });
      });
      upstream.on('error', () => res.socket?.destroy());
      upstream.end(body);
    }, () => res.socket?.destroy()));
  }
}
