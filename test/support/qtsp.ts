/**
 * A QTSP's revocation services for the tests, run with OpenSSL itself: a CA directory (index.txt,
 * openssl.cnf) in a temporary folder, certificates revoked with `openssl ca -revoke`, CRLs made with
 * `openssl ca -gencrl` and served over HTTP on an ephemeral loopback port, and a real
 * `openssl ocsp` responder (./ocsp-responder.ts).
 *
 *     const qtsp = await Qtsp.create('Test QTSP');          // root CA, CRL published, responder up
 *     const tpp = await qtsp.issue({ roles: ['PSP_AI'] });   // AIA OCSP + CDP, registered as valid
 *     await qtsp.revoke(tpp);                                // openssl ca -revoke, new CRL
 *     await qtsp.stopResponder();                            // its URL now refuses connections
 *     qtsp.requests;                                         // { ocsp, crl } requests received
 *     await qtsp.close();
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { webcrypto, X509Certificate } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import {
  createAuthority,
  issueTppCertificate,
  type Authority,
  type AuthorityOptions,
  type IssuedCertificate,
  type RevocationPointers,
  type TppCertificateOptions,
} from '../../tools/dev-pki/pki.js';
import { OcspResponder, responderCertificate, type ResponderCertificateOptions, type ResponderOptions } from './ocsp-responder.js';

export type { ResponderCertificateOptions, ResponderOptions } from './ocsp-responder.js';

const run = promisify(execFile);

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

  #certificateCount = 0;

  private constructor(
    readonly authority: Authority,
    readonly dir: string,
    readonly options: QtspOptions,
    private readonly responder: OcspResponder,
    private readonly crlServer: Server,
  ) {
    this.ocspUrl = responder.url;
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
    const responder = await OcspResponder.listen(dir, options.ocspNextUpdateMinutes !== undefined ? options.ocspNextUpdateMinutes : 60, () => {
      if (ref.qtsp) ref.qtsp.requests.ocsp += 1;
    });
    const qtsp = new Qtsp(authority, dir, options, responder, crlServer);
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
    this.#certificateCount += 1;
    return responderCertificate(this.authority, options.issuer ?? this.authority, `${this.authority.name} OCSP Responder ${this.#certificateCount}`, options);
  }

  /** Adds a certificate this authority issued to index.txt (valid), so the responder knows it. */
  async register(certificate: AnyCertificate): Promise<void> {
    const node = new X509Certificate(derOf(certificate));
    const line = ['V', opensslTime(new Date(node.validTo)), '', node.serialNumber, 'unknown', indexSubject(node)].join('\t');
    await appendFile(join(this.dir, 'index.txt'), `${line}\n`);
    this.responder.indexChanged();
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
    this.responder.indexChanged();
  }

  /** Revokes with `openssl ca -revoke` and publishes a new CRL; the responder learns it at its next request. */
  async revoke(certificate: AnyCertificate, reason: RevocationReason = 'keyCompromise'): Promise<void> {
    this.#certificateCount += 1;
    const file = join(this.dir, `revoke-${this.#certificateCount}.pem`);
    await writeFile(file, pemOf(derOf(certificate)));
    await this.#openssl(['ca', '-config', join(this.dir, 'openssl.cnf'), '-revoke', file, '-crl_reason', reason]);
    this.responder.indexChanged();
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
  startResponder(options: ResponderOptions = {}): Promise<void> {
    return this.responder.start(options);
  }

  /** Takes the responder down: the process stops and its URL refuses connections. */
  stopResponder(): Promise<void> {
    return this.responder.stop();
  }

  /** The responder's URL accepts connections and requests but never answers. */
  hangResponder(): Promise<void> {
    return this.responder.hang();
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

  #serveCrl(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' || req.url !== '/ca.crl') return void res.writeHead(404).end();
    readFile(join(this.dir, 'ca.crl')).then(
      (body) => res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': body.length }).end(body),
      () => res.writeHead(500).end(),
    );
  }
}
