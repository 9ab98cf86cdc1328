/**
 * A QTSP's revocation services for the tests, run with OpenSSL itself: a CA directory (index.txt,
 * openssl.cnf) in a temporary folder, certificates revoked with `openssl ca -revoke`, CRLs made with
 * `openssl ca -gencrl` and served over HTTP on an ephemeral loopback port, and a real
 * `openssl ocsp` responder. The responder is reached through a small HTTP front on a loopback port
 * of its own, which counts requests and can make the responder refuse connections or hang.
 *
 * OpenSSL 3.0's responder reads index.txt only when it starts: after a certificate is registered or
 * revoked, the front restarts it before forwarding the next request.
 *
 *     const qtsp = await Qtsp.create('Test QTSP');          // root CA, CRL published, responder up
 *     const tpp = await qtsp.issue({ roles: ['PSP_AI'] });   // AIA OCSP + CDP, registered as valid
 *     await qtsp.revoke(tpp);                                // openssl ca -revoke, new CRL
 *     await qtsp.stopResponder();                            // its URL now refuses connections
 *     qtsp.requests;                                         // { ocsp, crl } requests received
 *     await qtsp.close();
 */
import 'reflect-metadata';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { webcrypto, X509Certificate } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import * as x509 from '@peculiar/x509';

import {
  createAuthority,
  issueTppCertificate,
  type Authority,
  type AuthorityOptions,
  type IssuedCertificate,
  type RevocationPointers,
  type TppCertificateOptions,
} from '../../tools/dev-pki/pki.js';
import { freePort } from './redis.js';

const run = promisify(execFile);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';
const OCSP_NO_CHECK = '1.3.6.1.5.5.7.48.1.5';
const DAY = 24 * 60 * 60 * 1000;

/** A certificate as the helpers accept it. */
export type AnyCertificate = IssuedCertificate | X509Certificate | Buffer | string;

/** RFC 5280 reason names as `openssl ca -crl_reason` takes them. */
export type RevocationReason =
  | 'unspecified' | 'keyCompromise' | 'CACompromise' | 'affiliationChanged' | 'superseded'
  | 'cessationOfOperation' | 'certificateHold' | 'removeFromCRL';

export interface QtspOptions {
  /** Minutes until the OCSP responses' nextUpdate (`openssl ocsp -nmin`); `null` sends none. Default 60. */
  readonly ocspNextUpdateMinutes?: number | null;
  /** Seconds until each published CRL's nextUpdate (`openssl ca -gencrl -crlsec`). Default 3600. */
  readonly crlSeconds?: number;
  /** Start the OCSP responder at once; default true. */
  readonly responder?: boolean;
}

export interface ResponderOptions {
  /**
   * Who signs the responses: the CA itself (default) or the given certificate with its key, e.g. a
   * delegated responder from {@link Qtsp.responderCertificate} or a foreign authority.
   */
  readonly signer?: IssuedCertificate;
  /** Overrides the QTSP's `ocspNextUpdateMinutes` for this run of the responder. */
  readonly nextUpdateMinutes?: number | null;
  /**
   * index.txt contents to answer from instead of the CA's, e.g. a copy from {@link Qtsp.index}
   * taken before a revocation: a responder that says "good" of a revoked certificate.
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

function derOf(certificate: AnyCertificate): Buffer {
  if (typeof certificate === 'string') return new X509Certificate(certificate).raw;
  if (Buffer.isBuffer(certificate)) return certificate;
  if (certificate instanceof X509Certificate) return certificate.raw;
  return certificate.der;
}

function pemOf(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}

/** ASN.1 time as index.txt and `-crl_*update` take it: UTCTime before 2050, GeneralizedTime after. */
function opensslTime(date: Date, generalized = false): string {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${generalized || date.getUTCFullYear() >= 2050 ? iso : iso.slice(2)}Z`;
}

/** The subject as index.txt writes it, `/C=FR/O=…`. */
function indexSubject(certificate: X509Certificate): string {
  return `/${certificate.subject.split('\n').map((part) => part.replace(/\//g, '\\/')).join('/')}`;
}

/** An OpenSSL certificate authority with its CRL server and OCSP responder. */
export class Qtsp {
  /** HTTP requests received: OCSP requests at the responder's front, CRL downloads. */
  readonly requests = { ocsp: 0, crl: 0 };
  readonly ocspUrl: string;
  readonly crlUrl: string;

  #responder: ChildProcess | undefined;
  #responderPort = 0;
  #mode: 'up' | 'down' | 'hang' = 'down';
  #lastResponder: ResponderOptions = {};
  #certificateCount = 0;
  /** index.txt changed since the responder started. */
  #stale = false;
  #respawning: Promise<void> | undefined;

  private constructor(
    readonly authority: Authority,
    readonly dir: string,
    readonly options: QtspOptions,
    private readonly front: Server,
    private readonly frontPort: number,
    private readonly crlServer: Server,
  ) {
    this.ocspUrl = `http://127.0.0.1:${frontPort}/ocsp`;
    this.crlUrl = `http://127.0.0.1:${(crlServer.address() as AddressInfo).port}/ca.crl`;
  }

  /** Sets up the CA directory of `authority`, publishes a first CRL and starts the responder. */
  static async start(authority: Authority, options: QtspOptions = {}): Promise<Qtsp> {
    const dir = await mkdtemp(join(tmpdir(), 'qtsp-'));
    await writeFile(join(dir, 'ca.pem'), authority.certPem);
    await writeFile(join(dir, 'ca.key'), authority.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'index.txt'), '');
    await writeFile(join(dir, 'index.txt.attr'), 'unique_subject = no\n');
    await writeFile(join(dir, 'crlnumber'), '1000\n');
    await writeFile(join(dir, 'serial'), '1000\n');
    await writeFile(join(dir, 'openssl.cnf'), [
      '[ ca ]',
      'default_ca = qtsp',
      '[ qtsp ]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'crlnumber = $dir/crlnumber',
      'certificate = $dir/ca.pem',
      'private_key = $dir/ca.key',
      'new_certs_dir = $dir',
      'default_md = sha256',
      'default_crl_days = 1',
      'unique_subject = no',
      '',
    ].join('\n'));

    // The servers listen before the QTSP exists: their ports go into its URLs.
    const ref: { qtsp?: Qtsp } = {};
    const crlServer = createServer((req, res) => {
      const { qtsp } = ref;
      if (!qtsp) return void res.writeHead(503).end();
      qtsp.requests.crl += 1;
      qtsp.#serveCrl(req, res);
    });
    await new Promise<void>((resolve) => crlServer.listen(0, '127.0.0.1', resolve));
    const front = createServer((req, res) => {
      const { qtsp } = ref;
      if (!qtsp) return void res.writeHead(503).end();
      qtsp.requests.ocsp += 1;
      qtsp.#forward(req, res);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const qtsp = new Qtsp(authority, dir, options, front, (front.address() as AddressInfo).port, crlServer);
    ref.qtsp = qtsp;
    await qtsp.publishCrl();
    if (options.responder ?? true) await qtsp.startResponder();
    return qtsp;
  }

  /** A new root authority with its QTSP services. */
  static async create(name: string, options: QtspOptions & AuthorityOptions = {}): Promise<Qtsp> {
    return Qtsp.start(await createAuthority(name, options), options);
  }

  /** The pointers a certificate of this QTSP carries; `ocsp: false` or `crl: false` leaves one out. */
  pointers(which: { ocsp?: boolean; crl?: boolean } = {}): RevocationPointers {
    return {
      ...(which.ocsp ?? true ? { ocspUrl: this.ocspUrl } : {}),
      ...(which.crl ?? true ? { crlUrl: this.crlUrl } : {}),
    };
  }

  /** Issues a TPP certificate pointing at this QTSP's services (unless told otherwise) and registers it. */
  async issue(options: TppCertificateOptions & { ocsp?: boolean; crl?: boolean } = {}): Promise<IssuedCertificate> {
    const { ocsp, crl, ...rest } = options;
    const issued = await issueTppCertificate(this.authority, { ...this.pointers({ ocsp, crl }), ...rest });
    await this.register(issued);
    return issued;
  }

  /** Issues an intermediate authority whose own status this QTSP publishes, and registers it. */
  async subordinate(name: string, options: Omit<AuthorityOptions, 'issuer'> & { ocsp?: boolean; crl?: boolean } = {}): Promise<Authority> {
    const { ocsp, crl, ...rest } = options;
    const authority = await createAuthority(name, { ...this.pointers({ ocsp, crl }), ...rest, issuer: this.authority });
    await this.register(authority);
    return authority;
  }

  /**
   * A delegated OCSP responder certificate (RFC 6960 §4.2.2.2): issued by this QTSP (or `issuer`),
   * with EKU id-kp-OCSPSigning unless `ocspSigning` is false, and id-pkix-ocsp-nocheck.
   */
  async responderCertificate(options: ResponderCertificateOptions = {}): Promise<IssuedCertificate> {
    const issuer = options.issuer ?? this.authority;
    const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    this.#certificateCount += 1;
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: `02${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex')}`,
      subject: `CN=${this.authority.name} OCSP Responder ${this.#certificateCount}, O=${this.authority.name}, C=EU`,
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

  /** Adds a certificate this authority issued to index.txt (valid), so the responder knows it. */
  async register(certificate: AnyCertificate): Promise<void> {
    const node = new X509Certificate(derOf(certificate));
    const line = ['V', opensslTime(new Date(node.validTo)), '', node.serialNumber, 'unknown', indexSubject(node)].join('\t');
    await appendFile(join(this.dir, 'index.txt'), `${line}\n`);
    this.#stale = true;
  }

  /**
   * Lists `count` further revoked certificates (random serials) in index.txt, as a QTSP with a
   * long history has; the next {@link publishCrl} puts them in the CRL.
   */
  async addRevokedSerials(count: number): Promise<void> {
    const expiry = opensslTime(new Date(Date.now() + 365 * DAY));
    const revokedAt = opensslTime(new Date(Date.now() - DAY));
    const lines = Array.from({ length: count }, (_, index) => {
      const serial = `03${Buffer.from(webcrypto.getRandomValues(new Uint8Array(15))).toString('hex').toUpperCase()}`;
      return ['R', expiry, `${revokedAt},superseded`, serial, 'unknown', `/CN=revoked-${index}`].join('\t');
    });
    await appendFile(join(this.dir, 'index.txt'), `${lines.join('\n')}\n`);
    this.#stale = true;
  }

  /** Revokes with `openssl ca -revoke` and publishes a new CRL; the responder learns it at its next request. */
  async revoke(certificate: AnyCertificate, reason: RevocationReason = 'keyCompromise'): Promise<void> {
    this.#certificateCount += 1;
    const file = join(this.dir, `revoke-${this.#certificateCount}.pem`);
    await writeFile(file, pemOf(derOf(certificate)));
    await this.#openssl(['ca', '-config', join(this.dir, 'openssl.cnf'), '-revoke', file, '-crl_reason', reason]);
    this.#stale = true;
    await this.publishCrl();
  }

  /**
   * Publishes a CRL with `openssl ca -gencrl`: valid `seconds` (default the QTSP's `crlSeconds`),
   * or with the given lastUpdate and nextUpdate (e.g. both in the past). `extensions` are lines of
   * an OpenSSL extension section added to the CRL, e.g. `deltaCRL = critical,DER:02:01:01` or
   * `issuingDistributionPoint = critical, @idp` with `[ idp ]` lines in `sections`.
   */
  async publishCrl(options: { seconds?: number; lastUpdate?: Date; nextUpdate?: Date; extensions?: readonly string[]; sections?: Readonly<Record<string, readonly string[]>> } = {}): Promise<void> {
    const pem = join(this.dir, 'crl.pem');
    const validity = options.nextUpdate
      ? ['-crl_nextupdate', opensslTime(options.nextUpdate, true), ...(options.lastUpdate ? ['-crl_lastupdate', opensslTime(options.lastUpdate, true)] : [])]
      : ['-crlsec', String(options.seconds ?? this.options.crlSeconds ?? 3600)];
    let config = join(this.dir, 'openssl.cnf');
    const extensions: string[] = [];
    if (options.extensions?.length) {
      this.#certificateCount += 1;
      const sections = Object.entries(options.sections ?? {}).flatMap(([name, lines]) => [`[ ${name} ]`, ...lines]);
      const extra = join(this.dir, `openssl-${this.#certificateCount}.cnf`);
      await writeFile(extra, `${await readFile(config, 'utf8')}\n[ crl_extra ]\n${[...options.extensions, ...sections].join('\n')}\n`);
      config = extra;
      extensions.push('-crlexts', 'crl_extra');
    }
    await this.#openssl(['ca', '-config', config, '-gencrl', ...validity, ...extensions, '-out', pem]);
    await this.#openssl(['crl', '-in', pem, '-outform', 'DER', '-out', join(this.dir, 'ca.crl')]);
  }

  /** The contents of index.txt now. */
  index(): Promise<string> {
    return readFile(join(this.dir, 'index.txt'), 'utf8');
  }

  /** The CRL currently served, DER. */
  crl(): Promise<Buffer> {
    return readFile(join(this.dir, 'ca.crl'));
  }

  /** (Re)starts `openssl ocsp` and lets the front forward to it. */
  async startResponder(options: ResponderOptions = {}): Promise<void> {
    this.#lastResponder = options;
    await this.#spawn();
    await this.#listen();
    this.#mode = 'up';
  }

  async #spawn(): Promise<void> {
    await this.#stopProcess();
    this.#stale = false;
    const options = this.#lastResponder;
    const signer = options.signer;
    let rsigner = join(this.dir, 'ca.pem');
    let rkey = join(this.dir, 'ca.key');
    if (signer) {
      this.#certificateCount += 1;
      rsigner = join(this.dir, `signer-${this.#certificateCount}.pem`);
      rkey = join(this.dir, `signer-${this.#certificateCount}.key`);
      await writeFile(rsigner, signer.certPem);
      await writeFile(rkey, signer.keyPem, { mode: 0o600 });
    }
    let index = join(this.dir, 'index.txt');
    if (options.index !== undefined) {
      this.#certificateCount += 1;
      index = join(this.dir, `index-${this.#certificateCount}.txt`);
      await writeFile(index, options.index);
      await writeFile(`${index}.attr`, 'unique_subject = no\n');
    }
    const minutes = options.nextUpdateMinutes !== undefined ? options.nextUpdateMinutes : (this.options.ocspNextUpdateMinutes !== undefined ? this.options.ocspNextUpdateMinutes : 60);
    this.#responderPort = await freePort();
    const child = spawn('openssl', [
      'ocsp', '-index', index, '-port', String(this.#responderPort),
      '-CA', join(this.dir, 'ca.pem'), '-rsigner', rsigner, '-rkey', rkey,
      ...(minutes === null ? [] : ['-nmin', String(minutes)]),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#responder = child;
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

  /** Takes the responder down: the process stops and its URL refuses connections. */
  async stopResponder(): Promise<void> {
    this.#mode = 'down';
    await this.#stopProcess();
    this.front.closeAllConnections();
    await new Promise<void>((resolve) => (this.front.listening ? this.front.close(() => resolve()) : resolve()));
  }

  /** The responder's URL accepts connections and requests but never answers. */
  async hangResponder(): Promise<void> {
    await this.#stopProcess();
    await this.#listen();
    this.#mode = 'hang';
  }

  resetCounts(): void {
    this.requests.ocsp = 0;
    this.requests.crl = 0;
  }

  /** Stops the responder and both servers and removes the CA directory. */
  async close(): Promise<void> {
    await this.stopResponder();
    this.crlServer.closeAllConnections();
    await new Promise<void>((resolve) => this.crlServer.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }

  async #openssl(args: string[]): Promise<void> {
    await run('openssl', args, { cwd: this.dir });
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
    const child = this.#responder;
    this.#responder = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  #serveCrl(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' || req.url !== '/ca.crl') return void res.writeHead(404).end();
    readFile(join(this.dir, 'ca.crl')).then(
      (body) => res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': body.length }).end(body),
      () => res.writeHead(500).end(),
    );
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
        port: this.#responderPort,
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
