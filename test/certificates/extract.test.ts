import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Agent, createServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';

import { presentedCertificate, type CertificateSource } from '../../lib/certificates/extract.js';
import { TrustedProxies } from '../../lib/trusted-proxies.js';
import { sandboxTpp, testPki, type TestPki, type TppCredentials } from '../support/pki.js';
import { expectRejection, rejectionOf } from './helpers.js';

const PROXY = '10.0.0.7';
const proxies = new TrustedProxies([PROXY]);
const HEADER: CertificateSource = { from: 'header', header: 'x-client-cert', proxies };
const WITH_CHAIN: CertificateSource = { from: 'header', header: 'client-cert', chainHeader: 'client-cert-chain', proxies };
const SOCKET: CertificateSource = { from: 'socket' };

/** A request as the trusted proxy forwards it, unless the socket says otherwise. */
function request(headers: Record<string, string | string[]>, socket: object = { remoteAddress: PROXY }): IncomingMessage {
  return { headers, socket } as unknown as IncomingMessage;
}

const byteSequence = (der: Buffer): string => `:${der.toString('base64')}:`;

/** Certificates whose DER length leaves base64 padding, and one that does not. */
async function tppWithPadding(padded: boolean): Promise<TppCredentials> {
  for (;;) {
    const tpp = await sandboxTpp();
    if ((tpp.der.length % 3 !== 0) === padded) return tpp;
  }
}

describe('presentedCertificate', () => {
  let pki: TestPki;
  let tpp: TppCredentials;

  before(async () => {
    pki = await testPki();
    tpp = await sandboxTpp();
  });

  describe('from the TLS socket', () => {
    it('reads the peer certificate and the intermediates the client sent, stopping at a self-issued one', () => {
      const root: Record<string, unknown> = { raw: pki.sandboxRoot.der };
      root.issuerCertificate = root;
      const peer = { raw: tpp.der, issuerCertificate: { raw: pki.sandboxCa.der, issuerCertificate: root } };
      const socket = { getPeerCertificate: (detailed: boolean) => (detailed ? peer : { raw: tpp.der }) };
      const presented = presentedCertificate(request({}, socket), SOCKET);
      expect(presented?.leaf).to.equal(tpp.der);
      expect(presented?.chain).to.deep.equal([pki.sandboxCa.der, pki.sandboxRoot.der]);
    });

    it('stops at a peer certificate that names itself as issuer', () => {
      const peer: Record<string, unknown> = { raw: tpp.der };
      peer.issuerCertificate = peer;
      const presented = presentedCertificate(request({}, { getPeerCertificate: () => peer }), SOCKET);
      expect(presented).to.deep.equal({ leaf: tpp.der, chain: [] });
    });

    it('finds none when the client sent no certificate (Node returns an empty object)', () => {
      expect(presentedCertificate(request({}, { getPeerCertificate: () => ({}) }), SOCKET)).to.equal(undefined);
    });

    it('finds none on a socket that is not TLS', () => {
      expect(presentedCertificate(request({}, {}), SOCKET)).to.equal(undefined);
    });

    it('reads the chain of a real connection once and gives it to every request on that connection', async () => {
      const fingerprint = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');
      const server = createServer({ key: pki.server.keyPem, cert: pki.server.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
        const presented = presentedCertificate(req, SOCKET);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ port: req.socket.remotePort, leaf: presented && fingerprint(presented.leaf), chain: presented?.chain.map(fingerprint) }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = () => new Promise<{ port: number; leaf: string; chain: string[] }>((resolve, reject) => {
        const req = httpsRequest({
          host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/', agent,
          key: tpp.keyPem, cert: tpp.chainPem, ca: pki.serverCa.certPem, servername: 'localhost',
        }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
          res.on('end', () => resolve(JSON.parse(body) as { port: number; leaf: string; chain: string[] }));
        });
        req.on('error', reject);
        req.end();
      });
      try {
        const answers = [await get(), await get(), await get()];
        expect(new Set(answers.map((answer) => answer.port)).size, 'one connection').to.equal(1);
        for (const answer of answers) {
          expect(answer.leaf).to.equal(fingerprint(tpp.der));
          expect(answer.chain).to.deep.equal([fingerprint(pki.sandboxCa.der)]);
        }
      } finally {
        agent.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('ignores a certificate header in socket mode', () => {
      const headers = { 'x-client-cert': encodeURIComponent(tpp.chainPem), 'client-cert': byteSequence(tpp.der) };
      expect(presentedCertificate(request(headers, { getPeerCertificate: () => ({}) }), SOCKET)).to.equal(undefined);
    });
  });

  describe('from a proxy header', () => {
    it('finds none when the header is absent or blank, whatever the socket holds', () => {
      const socket = { remoteAddress: PROXY, getPeerCertificate: () => ({ raw: tpp.der }) };
      expect(presentedCertificate(request({}, socket), HEADER)).to.equal(undefined);
      expect(presentedCertificate(request({ 'x-client-cert': '  ' }, socket), HEADER)).to.equal(undefined);
    });

    it('reads URL-encoded PEM: the leaf, then the intermediates after it', () => {
      const presented = presentedCertificate(request({ 'x-client-cert': encodeURIComponent(tpp.chainPem) }), HEADER);
      expect(presented?.leaf).to.deep.equal(tpp.der);
      expect(presented?.chain).to.deep.equal([pki.sandboxCa.der]);
    });

    for (const padded of [true, false]) {
      it(`reads URL-encoded PEM whose base64 ${padded ? 'ends with "=" padding' : 'has no padding'}`, async () => {
        const cert = await tppWithPadding(padded);
        const presented = presentedCertificate(request({ 'x-client-cert': encodeURIComponent(cert.certPem) }), HEADER);
        expect(presented).to.deep.equal({ leaf: cert.der, chain: [] });
      });
    }

    it('reads PEM encoded the way AWS ALB does (+, = and / left as they are)', async () => {
      // Most certificates hold a "+" in their base64; mint until one does.
      let cert = await sandboxTpp();
      while (!cert.certPem.includes('+')) cert = await sandboxTpp();
      const alb = encodeURIComponent(cert.certPem).replace(/%2B/g, '+').replace(/%3D/g, '=').replace(/%2F/g, '/');
      expect(alb).to.include('+');
      expect(presentedCertificate(request({ 'x-client-cert': alb }), HEADER)).to.deep.equal({ leaf: cert.der, chain: [] });
    });

    it('reads PEM form-encoded with "+" for spaces', () => {
      const form = encodeURIComponent(tpp.certPem).replace(/%20/g, '+');
      expect(form).to.include('BEGIN+CERTIFICATE');
      expect(presentedCertificate(request({ 'x-client-cert': form }), HEADER)).to.deep.equal({ leaf: tpp.der, chain: [] });
    });

    it('reads an RFC 9440 byte sequence, with intermediates from the chain header', () => {
      const headers = { 'client-cert': byteSequence(tpp.der), 'client-cert-chain': byteSequence(pki.sandboxCa.der) };
      expect(presentedCertificate(request(headers), WITH_CHAIN)).to.deep.equal({ leaf: tpp.der, chain: [pki.sandboxCa.der] });
    });

    it('reads an RFC 9440 chain header listing several certificates', () => {
      const headers = {
        'client-cert': byteSequence(tpp.der),
        'client-cert-chain': `${byteSequence(pki.sandboxCa.der)}, ${byteSequence(pki.sandboxRoot.der)}`,
      };
      expect(presentedCertificate(request(headers), WITH_CHAIN)?.chain).to.deep.equal([pki.sandboxCa.der, pki.sandboxRoot.der]);
    });

    it('ignores the chain header when none is configured', () => {
      const headers = { 'client-cert': byteSequence(tpp.der), 'client-cert-chain': byteSequence(pki.sandboxCa.der) };
      expect(presentedCertificate(request(headers), { from: 'header', header: 'client-cert', proxies })).to.deep.equal({ leaf: tpp.der, chain: [] });
    });

    it('matches the configured header name whatever its letter case', () => {
      const presented = presentedCertificate(request({ 'x-client-cert': byteSequence(tpp.der) }), { from: 'header', header: 'X-Client-Cert', proxies });
      expect(presented?.leaf).to.deep.equal(tpp.der);
    });

    describe('malformed headers are certificate_malformed', () => {
      const cases: [string, string, string][] = [
        ['text that is neither PEM nor a byte sequence', 'garbage', 'the x-client-cert header holds no PEM certificate'],
        ['broken percent-encoding', '%E0%A4%A', 'the x-client-cert header is not URL-encoded PEM'],
        ['PEM whose body is not base64', encodeURIComponent('-----BEGIN CERTIFICATE-----\n!!notbase64!!\n-----END CERTIFICATE-----\n'), 'the x-client-cert header is not valid base64'],
        ['PEM with an empty body', encodeURIComponent('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n'), 'the x-client-cert header is empty'],
        ['a byte sequence that is not base64', ':not*base64:', 'the x-client-cert header is not valid base64'],
        ['an empty byte sequence', '::', 'the x-client-cert header is not an RFC 9440 byte sequence'],
        ['an unterminated byte sequence', ':TUlJQg==', 'the x-client-cert header is not an RFC 9440 byte sequence'],
      ];
      for (const [what, value, description] of cases) {
        it(what, () => {
          expectRejection(
            rejectionOf(() => presentedCertificate(request({ 'x-client-cert': value }), HEADER)),
            'certificate_malformed',
            description,
          );
        });
      }

      it('a malformed chain header, naming that header', () => {
        const headers = { 'client-cert': byteSequence(tpp.der), 'client-cert-chain': 'nonsense' };
        expectRejection(
          rejectionOf(() => presentedCertificate(request(headers), WITH_CHAIN)),
          'certificate_malformed',
          'the client-cert-chain header holds no PEM certificate',
        );
      });

      it('more certificates than a chain can hold', () => {
        const value = Array.from({ length: 9 }, () => byteSequence(tpp.der)).join(',');
        expectRejection(
          rejectionOf(() => presentedCertificate(request({ 'x-client-cert': value }), HEADER)),
          'certificate_malformed',
          'the x-client-cert header holds too many certificates',
        );
      });
    });
  });
});
