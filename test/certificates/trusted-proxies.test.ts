/**
 * Certificate headers and X-Forwarded-For believed from the bank's proxies only: the address
 * matching, the parser's cost on hostile values, and the attacks replayed over real TLS.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { expect } from 'chai';

import { MAX_CERTIFICATE_HEADER_LENGTH, parseCertificateHeader, presentedCertificate, type CertificateSource } from '../../lib/certificates/extract.js';
import { createAuthorizationServer } from '../../lib/index.js';
import { TrustedProxies } from '../../lib/trusted-proxies.js';
import { authorizationUrl, entryPath, requestParams } from '../authorization/helpers.js';
import { PsuBrowser, csrfOf, formAction } from '../support/psu-browser.js';
import { bankTpp, sandboxTpp, testPki, type TppCredentials } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';
import { expectRejection, rejectionOf } from './helpers.js';

const REGISTRATION = { redirect_uris: ['https://tpp.example/callback'], scope: 'aisp', client_name: 'Acme' };
const UNTRUSTED_PEER = 'came from an untrusted peer: a client certificate header is accepted only from the bank\'s TLS-terminating proxies';

describe('trusted proxies', () => {
  describe('TrustedProxies', () => {
    const proxies = new TrustedProxies(['192.0.2.10', '10.0.0.0/8', '2001:db8::/32', '::1', '172.16.0.0/12']);

    it('matches addresses and CIDR ranges, IPv4 and IPv6', () => {
      for (const address of ['192.0.2.10', '10.255.1.2', '2001:db8::7', '2001:db8:ffff::1', '::1', '172.31.255.255']) {
        expect(proxies.trusts(address), address).to.equal(true);
      }
      for (const address of ['192.0.2.11', '11.0.0.1', '2001:db9::1', '::2', '172.32.0.1', '', 'localhost', '10.0.0.1.5']) {
        expect(proxies.trusts(address), address).to.equal(false);
      }
    });

    it('matches an IPv4 entry with the same address seen as IPv4-mapped IPv6, and only that address', () => {
      expect(proxies.trusts('::ffff:192.0.2.10')).to.equal(true);
      expect(proxies.trusts('::FFFF:10.1.2.3')).to.equal(true);
      expect(proxies.trusts('::ffff:192.0.2.11')).to.equal(false);
      expect(new TrustedProxies(['127.0.0.1']).trusts('::ffff:127.0.0.1')).to.equal(true);
      expect(new TrustedProxies(['127.0.0.1']).trusts('::127.0.0.1')).to.equal(false);
    });

    it('says which entry is not an address or range', () => {
      expect(TrustedProxies.problemWith(['10.0.0.1', 'proxy.bank.example'])).to.equal('"proxy.bank.example" is not an IPv4 or IPv6 address or CIDR range');
      expect(TrustedProxies.problemWith(['10.0.0.0/33'])).to.equal('"10.0.0.0/33" has a prefix longer than 32 bits');
      expect(TrustedProxies.problemWith(['::/129'])).to.equal('"::/129" has a prefix longer than 128 bits');
      expect(TrustedProxies.problemWith(['10.0.0.0/8/1'])).to.equal('"10.0.0.0/8/1" is not an address or CIDR range');
      expect(TrustedProxies.problemWith(['10.0.0.0/x'])).to.equal('"10.0.0.0/x" has an invalid prefix length');
      expect(TrustedProxies.problemWith(['10.0.0.0/8', '::1', '2001:db8::/32'])).to.equal(undefined);
    });

    describe('clientAddress', () => {
      const req = (remoteAddress: string, forwardedFor?: string) => ({
        socket: { remoteAddress },
        headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
      }) as unknown as IncomingMessage;

      it('is the TCP peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
        expect(proxies.clientAddress(req('198.51.100.7', '203.0.113.9'))).to.equal('198.51.100.7');
      });

      it('is the address a trusted proxy appended, never one the client wrote further left', () => {
        expect(proxies.clientAddress(req('10.0.0.5', '203.0.113.9'))).to.equal('203.0.113.9');
        expect(proxies.clientAddress(req('10.0.0.5', '1.1.1.1, 203.0.113.9'))).to.equal('203.0.113.9');
        // Two proxies of the bank in a row: the nearest address that is not one of them.
        expect(proxies.clientAddress(req('10.0.0.5', '1.1.1.1, 203.0.113.9, 10.0.0.6'))).to.equal('203.0.113.9');
      });

      it('stops at a value that is not an address', () => {
        expect(proxies.clientAddress(req('10.0.0.5', 'garbage'))).to.equal('10.0.0.5');
        expect(proxies.clientAddress(req('10.0.0.5', '203.0.113.9, unknown, 10.0.0.6'))).to.equal('10.0.0.6');
      });

      it('is the peer when the header is absent', () => {
        expect(proxies.clientAddress(req('10.0.0.5'))).to.equal('10.0.0.5');
      });

      it('reads a long header from its right end, where the proxies wrote: padding on the left hides nothing', () => {
        expect(proxies.clientAddress(req('10.0.0.5', `${'1.2.3.4, '.repeat(4000)}203.0.113.9`))).to.equal('203.0.113.9');
        expect(proxies.clientAddress(req('10.0.0.5', `${'x'.repeat(100_000)}, 203.0.113.9, 10.0.0.6`))).to.equal('203.0.113.9');
      });
    });
  });

  describe('parsing certificate headers', () => {
    const PROXY = '10.0.0.7';
    const source: CertificateSource = { from: 'header', header: 'x-client-cert', chainHeader: 'x-client-chain', proxies: new TrustedProxies([PROXY]) };
    const request = (headers: Record<string, string>, remoteAddress = PROXY, distinct?: Record<string, string[]>) => (
      { headers, socket: { remoteAddress }, ...(distinct ? { headersDistinct: distinct } : {}) } as unknown as IncomingMessage
    );
    let tpp: TppCredentials;
    before(async () => {
      tpp = await sandboxTpp();
    });

    it('refuses the header from a peer that is not a trusted proxy, before reading it', () => {
      expectRejection(
        rejectionOf(() => presentedCertificate(request({ 'x-client-cert': 'anything' }, '10.0.0.8'), source)),
        'certificate_header_untrusted',
        `the x-client-cert header ${UNTRUSTED_PEER}`,
      );
      expectRejection(
        rejectionOf(() => presentedCertificate(request({ 'x-client-chain': 'anything' }, '::ffff:10.0.0.8'), source)),
        'certificate_header_untrusted',
        `the x-client-chain header ${UNTRUSTED_PEER}`,
      );
    });

    it('finds no certificate, and refuses nothing, when an untrusted peer sends no header', () => {
      expect(presentedCertificate(request({}, '10.0.0.8'), source)).to.equal(undefined);
    });

    it('refuses a header sent on two lines', () => {
      const value = encodeURIComponent(tpp.certPem);
      expectRejection(
        rejectionOf(() => presentedCertificate(request({ 'x-client-cert': `${value}, ${value}` }, PROXY, { 'x-client-cert': [value, value] }), source)),
        'certificate_malformed',
        'the x-client-cert header was sent more than once: one value is expected',
      );
    });

    it('refuses comma-joined values where one certificate is expected', () => {
      const sequence = `:${tpp.der.toString('base64')}:`;
      expectRejection(
        rejectionOf(() => presentedCertificate(request({ 'x-client-cert': `${sequence}, ${sequence}` }), source)),
        'certificate_malformed',
        'the x-client-cert header holds more than one value: one certificate is expected',
      );
      const pem = encodeURIComponent(tpp.certPem);
      expectRejection(
        rejectionOf(() => presentedCertificate(request({ 'x-client-cert': `${pem}, ${pem}` }), source)),
        'certificate_malformed',
        'the x-client-cert header holds more than one value: one certificate is expected',
      );
    });

    it('still reads a chain header listing several certificates', () => {
      const { sandboxCa, sandboxRoot } = { sandboxCa: tpp.der, sandboxRoot: tpp.der };
      const chain = [sandboxCa, sandboxRoot].map((der) => `:${der.toString('base64')}:`).join(', ');
      const presented = presentedCertificate(request({ 'x-client-cert': `:${tpp.der.toString('base64')}:`, 'x-client-chain': chain }), source);
      expect(presented?.chain).to.have.length(2);
    });

    it('refuses a value longer than a few certificates before parsing it', () => {
      const value = encodeURIComponent(tpp.certPem) + 'A'.repeat(MAX_CERTIFICATE_HEADER_LENGTH);
      expectRejection(
        rejectionOf(() => presentedCertificate(request({ 'x-client-cert': value }), source)),
        'certificate_malformed',
        `the x-client-cert header is longer than ${MAX_CERTIFICATE_HEADER_LENGTH} characters`,
      );
    });

    it('parses hostile values in time linear in their length', () => {
      const hostile: [string, (n: number) => string][] = [
        ['white space', (n) => `${' '.repeat(n)}!`],
        ['a PEM body of white space', (n) => encodeURIComponent(`-----BEGIN CERTIFICATE-----${' '.repeat(n)}!-----END CERTIFICATE-----`)],
        ['opening markers only', (n) => '-----BEGIN CERTIFICATE-----'.repeat(Math.ceil(n / 27))],
        ['an opening marker and broken closing ones', (n) => `-----BEGIN+CERTIFICATE-----${'-----END'.repeat(Math.ceil(n / 8))}`],
        ['an unterminated byte sequence', (n) => `:${'A'.repeat(n)}`],
        ['many byte sequences', (n) => ':QQ==:,'.repeat(Math.ceil(n / 7))],
      ];
      // The least of a few runs: what the parser costs, not what the machine was doing meanwhile.
      const cost = (value: string): number => {
        let least = Infinity;
        for (let run = 0; run < 5; run += 1) {
          const start = process.hrtime.bigint();
          try {
            parseCertificateHeader(value, 'the header');
          } catch {
            // Refusing is the expected outcome; only the time counts here.
          }
          least = Math.min(least, Number(process.hrtime.bigint() - start) / 1e6);
        }
        return least;
      };
      for (const [what, make] of hostile) {
        const small = cost(make(16 * 1024));
        const large = cost(make(256 * 1024));
        // 16 times the length: about 16 times the cost when linear, 256 times when quadratic (the
        // regular expression this parser replaced took 0.15 s for 16 KB and 2.4 s for 64 KB).
        expect(large, `${what}: ${small.toFixed(2)} ms for 16 KB, ${large.toFixed(2)} ms for 256 KB`).to.be.below(Math.max(64 * small, 50));
      }
    });
  });

  describe('configuration', () => {
    const options = async () => {
      const pki = await testPki();
      return {
        issuer: 'https://bank.example/oauth2',
        signingKeys: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }] },
        cookieKeys: ['a-cookie-key-that-is-long-enough-0123'],
        environments: { sandbox: { trustAnchors: pki.sandboxRoot.certPem, testPsus: [{ id: 'p', name: 'P', accounts: [{ id: 'a', name: 'A' }] }] } },
      };
    };

    it('refuses a certificate header without the proxies allowed to set it, naming the option', async () => {
      const base = await options();
      expect(() => createAuthorizationServer({ ...base, clientCertificateHeader: { header: 'x-client-cert' } as never }))
        .to.throw('clientCertificateHeader.trustedProxies: is required with a certificate header: the addresses or CIDR ranges of the proxies allowed to set it');
      expect(() => createAuthorizationServer({ ...base, clientCertificateHeader: { header: 'x-client-cert', trustedProxies: [] } }))
        .to.throw('clientCertificateHeader.trustedProxies: must name at least one proxy address or CIDR range');
      expect(() => createAuthorizationServer({ ...base, clientCertificateHeader: { header: 'x-client-cert', trustedProxies: ['10.0.0.1', 'proxy'] } }))
        .to.throw('clientCertificateHeader.trustedProxies: "proxy" is not an IPv4 or IPv6 address or CIDR range');
    });
  });

  describe('over mutual TLS', () => {
    // The test servers listen on 127.0.0.1; a client connecting from 127.0.0.2 is another peer.
    const PROXY = '127.0.0.2';

    /** POST from `localAddress`; a header given as an array goes out on several lines. */
    const rawPost = (server: TestServer, path: string, headers: Record<string, string | string[]>, body: string, localAddress = PROXY) => (
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        void testPki().then((pki) => {
          const req = httpsRequest(`${server.url}${path}`, {
            method: 'POST', ca: pki.serverCa.certPem, localAddress, headers: { 'content-type': 'application/json', ...headers },
          }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
          });
          req.on('error', reject);
          req.end(body);
        }, reject);
      }));

    describe('when the TCP peer is not a trusted proxy', () => {
      let resourceServer: TppCredentials;
      const server = suiteServer(async () => {
        resourceServer = await bankTpp({ organization: 'Accounts API' });
        return {
          options: {
            clientCertificateHeader: { header: 'x-client-cert', trustedProxies: [PROXY, '2001:db8::/48'] },
            resourceServers: [{ id: 'accounts-api', certificateThumbprints: [createHash('sha256').update(resourceServer.der).digest('base64url')] }],
          },
        };
      });
      beforeEach(() => {
        server.logs.length = 0;
      });

      it('refuses a registration carrying another TPP\'s certificate in the header, registers nothing, and audits it', async () => {
        const victim = await sandboxTpp({ organization: 'Victim' });
        const res = await server.request().post('/oauth2/register').set('x-client-cert', encodeURIComponent(victim.chainPem)).send(REGISTRATION);
        expect(res.status).to.equal(401);
        expect(res.body).to.deep.equal({ error: 'invalid_client', error_description: `the x-client-cert header ${UNTRUSTED_PEER}` });
        const audit = server.logs.find((entry) => entry.fields.event === 'certificate.rejected');
        expect(audit?.fields).to.include({ reason: 'certificate_header_untrusted', peer: '127.0.0.1' });
        expect(await server.auth.storage.clientIdsOf('PSDFR-NCA-VICTIM')).to.deep.equal([]);
      });

      it('refuses the header at the token endpoint, even next to a TLS client certificate', async () => {
        const victim = await sandboxTpp({ roles: ['PSP_PI'] });
        const res = await server.request(victim).post('/oauth2/token')
          .set('x-client-cert', encodeURIComponent(victim.chainPem))
          .type('form').send({ grant_type: 'client_credentials', client_id: 'anything', scope: 'pisp' });
        expect(res.status).to.equal(401);
        expect(res.body.error_description).to.equal(`the x-client-cert header ${UNTRUSTED_PEER}`);
      });

      it('refuses the header on registration management and on introspection', async () => {
        const victim = await bankTpp();
        const managed = await server.request().get('/oauth2/register/some-client').set('x-client-cert', `:${victim.der.toString('base64')}:`);
        expect(managed.status).to.equal(401);
        expect(managed.body.error_description).to.equal(`the x-client-cert header ${UNTRUSTED_PEER}`);
        // The resource server's pinned certificate (public), replayed in the header by someone else.
        const introspected = await server.request().post('/oauth2/introspect')
          .set('x-client-cert', `:${resourceServer.der.toString('base64')}:`)
          .type('form').send({ token: 'whatever' });
        expect(introspected.status).to.equal(401);
        expect(introspected.body.error_description).to.equal(`the x-client-cert header ${UNTRUSTED_PEER}`);
        expect(server.logs.find((entry) => entry.fields.event === 'introspection.refused')?.fields).to.include({ peer: '127.0.0.1' });
      });

      it('lets the same requests through from the proxy', async () => {
        const tpp = await sandboxTpp({ organization: 'Through Proxy' });
        const res = await rawPost(server, '/oauth2/register', { 'x-client-cert': encodeURIComponent(tpp.chainPem) }, JSON.stringify(REGISTRATION));
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        expect(res.body.provider_legal_id).to.equal('PSDFR-NCA-THROUGHPROXY');
      });

      it('refuses an empty header from an untrusted peer too', async () => {
        const res = await rawPost(server, '/oauth2/register', { 'x-client-cert': '' }, JSON.stringify(REGISTRATION), '127.0.0.1');
        expect(res.status).to.equal(401);
        expect(res.body.error_description).to.equal(`the x-client-cert header ${UNTRUSTED_PEER}`);
      });
    });

    describe('when the TCP peer is a trusted proxy', () => {
      const server = suiteServer({ options: { clientCertificateHeader: { header: 'x-client-cert', trustedProxies: ['127.0.0.1'] } } });

      it('refuses the header on two lines (one appended by the proxy, one sent by the client)', async () => {
        const attacker = await sandboxTpp({ organization: 'Attacker' });
        const victim = await sandboxTpp({ organization: 'Victim' });
        const res = await rawPost(server, '/oauth2/register', {
          'x-client-cert': [encodeURIComponent(victim.chainPem), encodeURIComponent(attacker.chainPem)],
        }, JSON.stringify(REGISTRATION), '127.0.0.1');
        expect(res.status).to.equal(401);
        expect(res.body).to.deep.equal({ error: 'invalid_client', error_description: 'the x-client-cert header was sent more than once: one value is expected' });
        expect(await server.auth.storage.clientIdsOf('PSDFR-NCA-VICTIM')).to.deep.equal([]);
      });

      it('refuses comma-joined certificates where one is expected', async () => {
        const tpp = await sandboxTpp();
        const sequence = `:${tpp.der.toString('base64')}:`;
        const res = await server.request().post('/oauth2/register').set('x-client-cert', `${sequence}, ${sequence}`).send(REGISTRATION);
        expect(res.status).to.equal(401);
        expect(res.body.error_description).to.equal('the x-client-cert header holds more than one value: one certificate is expected');
      });
    });

    describe('on a dual-stack listener', () => {
      it('matches an IPv4 proxy entry with the IPv4-mapped peer address', async () => {
        const server = await startServer({ host: '::', options: { clientCertificateHeader: { header: 'x-client-cert', trustedProxies: ['127.0.0.1'] } } });
        try {
          const tpp = await sandboxTpp({ organization: 'Dual Stack' });
          const res = await rawPost(server, '/oauth2/register', { 'x-client-cert': encodeURIComponent(tpp.chainPem) }, JSON.stringify(REGISTRATION), '127.0.0.1');
          expect(res.status, JSON.stringify(res.body)).to.equal(201);
          expect(res.body.provider_legal_id).to.equal('PSDFR-NCA-DUALSTACK');
        } finally {
          await server.close();
        }
      });
    });

    describe('X-Forwarded-For and the sign-in limits', () => {
      const limits = { perPsu: { attempts: 10, windowSeconds: 60 }, perIp: { attempts: 2, windowSeconds: 60 } };
      let server: TestServer;
      let client: { clientId: string; tpp: TppCredentials; environment: 'bank' };
      before(async () => {
        const pki = await testPki();
        server = await startServer({ options: { clientCertificateHeader: { header: 'x-client-cert', trustedProxies: [PROXY] } } });
        await server.close();
        // The same test bank, with a small per-address budget.
        server = await startServer({
          options: {
            clientCertificateHeader: { header: 'x-client-cert', trustedProxies: [PROXY] },
            environments: { bank: { trustAnchors: pki.bankCa.certPem, authenticator: server.bank, accounts: server.bank, loginLimits: limits } },
          },
        });
        const tpp = await bankTpp({ organization: 'Limits' });
        const registered = await rawPost(server, '/oauth2/register', { 'x-client-cert': encodeURIComponent(tpp.chainPem) }, JSON.stringify(REGISTRATION));
        expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
        client = { clientId: String(registered.body.client_id), tpp, environment: 'bank' };
      });
      after(() => server.close());

      /** Failed sign-ins with distinct identifiers, each claiming another address in X-Forwarded-For. */
      const failures = async (from: string, attempts: number, first: number): Promise<number[]> => {
        const pki = await testPki();
        const statuses: number[] = [];
        for (let attempt = 0; attempt < attempts; attempt += 1) {
          const browser = new PsuBrowser(undefined, pki.serverCa.certPem, from);
          const page = await browser.follow(await browser.get(authorizationUrl(server, requestParams(client), entryPath('bank', 'en'))), server.url);
          const answer = await browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), login: `someone-${first + attempt}`, password: 'wrong' }, {
            'x-forwarded-for': `203.0.113.${first + attempt}`,
          });
          statuses.push(answer.status);
        }
        return statuses;
      };

      it('believes X-Forwarded-For from a trusted proxy: each PSU address has its own budget', async () => {
        expect(await failures(PROXY, 4, 1)).to.deep.equal([401, 401, 401, 401]);
      });

      it('ignores X-Forwarded-For from any other peer: its attempts count against its own address', async () => {
        // The second failure uses up the address's two attempts.
        expect(await failures('127.0.0.1', 4, 101)).to.deep.equal([401, 429, 429, 429]);
      });
    });
  });
});
