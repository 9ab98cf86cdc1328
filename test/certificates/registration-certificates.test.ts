import { expect } from 'chai';
import type { Response } from 'supertest';

import type { TppCertificateOptions } from '../../tools/dev-pki/pki.js';
import { bankTpp, rogueTpp, sandboxTpp, testPki, type TestPki, type TppCredentials } from '../support/pki.js';
import { type TestServer } from '../support/server.js';
import { logsPerTest, suiteServer } from '../support/suite.js';
import { daysFromNow } from './helpers.js';

const REGISTRATION = { redirect_uris: ['https://tpp.example/cb'], scope: 'aisp' };
const REQUIRED = 'a client certificate is required: present a QWAC over mutual TLS';
const UNTRUSTED = 'the client certificate is not issued by a QTSP trusted by this server';
/** The test server's clients connect over loopback, as a proxy on the same host would. */
const LOOPBACK = ['127.0.0.1', '::1'];

/** Asserts an RFC 6749 invalid_client JSON answer (never an HTML page) with this description. */
function expectInvalidClient(res: Response, description: string | RegExp): void {
  expect(res.status, res.text).to.equal(401);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  expect(res.text.trimStart()).to.not.match(/^</);
  expect(Object.keys(res.body as object).sort()).to.deep.equal(['error', 'error_description']);
  expect(res.body.error).to.equal('invalid_client');
  if (typeof description === 'string') expect(res.body.error_description).to.equal(description);
  else expect(res.body.error_description).to.match(description);
}

function expectRejectionLogged(server: TestServer, reason: string): void {
  const entry = server.logs.find((log) => log.fields.event === 'certificate.rejected' && log.fields.reason === reason);
  expect(entry, `a certificate.rejected log entry with reason ${reason}`).to.not.equal(undefined);
}

async function expectRegistered(server: TestServer, res: Response, tpp: TppCredentials, environment: 'sandbox' | 'bank'): Promise<void> {
  expect(res.status, res.text).to.equal(201);
  expect(res.body.client_id).to.be.a('string');
  expect(res.body.token_endpoint_auth_method).to.equal('tls_client_auth');
  // The environment is stored with the client; the registration answer keeps the reference bank's fields.
  expect((await server.auth.provider.Client.find(String(res.body.client_id)))?.metadata().psd2_environment).to.equal(environment);
  expect(res.body.scope).to.equal('aisp');
  const legalId = tpp.certificate.subjectName.getField('2.5.4.97')[0];
  expect(res.body.provider_legal_id).to.equal(legalId);
}

async function selfSignedTpp(options: TppCertificateOptions = {}): Promise<TppCredentials> {
  const tpp = await sandboxTpp({ ...options, selfSigned: true });
  return { ...tpp, chainPem: tpp.certPem };
}

describe('client certificates at POST /oauth2/register', () => {
  let pki: TestPki;

  before(async () => { pki = await testPki(); });

  describe('over mutual TLS', () => {
    const server = suiteServer();
    logsPerTest(server);

    it('registers a client with a good sandbox certificate (control)', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_AI'] });
      await expectRegistered(server, await server.request(tpp).post('/oauth2/register').send(REGISTRATION), tpp, 'sandbox');
    });

    it('registers a client with a good bank certificate (control)', async () => {
      const tpp = await bankTpp({ roles: ['PSP_AI'] });
      await expectRegistered(server, await server.request(tpp).post('/oauth2/register').send(REGISTRATION), tpp, 'bank');
    });

    it('refuses a request without a client certificate', async () => {
      expectInvalidClient(await server.request().post('/oauth2/register').send(REGISTRATION), REQUIRED);
      expectRejectionLogged(server, 'certificate_missing');
    });

    it('refuses an expired certificate', async () => {
      const notAfter = daysFromNow(-1);
      const tpp = await sandboxTpp({ notBefore: daysFromNow(-30), notAfter });
      expectInvalidClient(
        await server.request(tpp).post('/oauth2/register').send(REGISTRATION),
        `the client certificate expired on ${notAfter.toISOString()}`,
      );
      expectRejectionLogged(server, 'certificate_expired');
    });

    it('refuses a certificate that is not yet valid', async () => {
      const notBefore = daysFromNow(3);
      const tpp = await sandboxTpp({ notBefore, notAfter: daysFromNow(30) });
      expectInvalidClient(
        await server.request(tpp).post('/oauth2/register').send(REGISTRATION),
        `the client certificate is not valid before ${notBefore.toISOString()}`,
      );
    });

    it('refuses a certificate of an untrusted issuer', async () => {
      const tpp = await rogueTpp();
      expectInvalidClient(await server.request({ ...tpp, chainPem: tpp.certPem + pki.rogueCa.certPem }).post('/oauth2/register').send(REGISTRATION), UNTRUSTED);
      expectRejectionLogged(server, 'issuer_untrusted');
    });

    it('refuses a sandbox certificate sent without its intermediate', async () => {
      const tpp = await sandboxTpp();
      expectInvalidClient(await server.request({ ...tpp, chainPem: tpp.certPem }).post('/oauth2/register').send(REGISTRATION), UNTRUSTED);
    });

    it('refuses a self-signed certificate, saying so', async () => {
      const tpp = await selfSignedTpp();
      expectInvalidClient(
        await server.request(tpp).post('/oauth2/register').send(REGISTRATION),
        'the client certificate is self-signed; it must be issued by a QTSP trusted by this server',
      );
      expectRejectionLogged(server, 'issuer_untrusted');
    });

    it('refuses a QSealC (QcType eseal)', async () => {
      const tpp = await sandboxTpp({ qcType: 'eseal' });
      expectInvalidClient(
        await server.request(tpp).post('/oauth2/register').send(REGISTRATION),
        'the client certificate is not a website authentication certificate (QcType eseal, expected web)',
      );
      expectRejectionLogged(server, 'not_website_certificate');
    });

    it('refuses a bank certificate without QcCompliance (the bank requires qualified statements)', async () => {
      const tpp = await bankTpp({ qcCompliance: false });
      expectInvalidClient(
        await server.request(tpp).post('/oauth2/register').send(REGISTRATION),
        'the client certificate is not a qualified website authentication certificate (QcCompliance and QcType web are required)',
      );
    });

    it('refuses a certificate without the PSD2 statement', async () => {
      const tpp = await sandboxTpp({ psd2Statement: false });
      expectInvalidClient(
        await server.request(tpp).post('/oauth2/register').send(REGISTRATION),
        'the client certificate carries no PSD2 roles (QCStatement 0.4.0.19495.2)',
      );
      expectRejectionLogged(server, 'no_psd2_roles');
    });

    it('refuses a certificate without an organizationIdentifier', async () => {
      const tpp = await sandboxTpp({ organizationIdentifier: null });
      expectInvalidClient(await server.request(tpp).post('/oauth2/register').send(REGISTRATION), /has no PSD2 organizationIdentifier/);
      expectRejectionLogged(server, 'organization_identifier_invalid');
    });

    it('ignores a certificate header sent by the client when header mode is off', async () => {
      const tpp = await sandboxTpp();
      const res = await server.request().post('/oauth2/register')
        .set('x-client-cert', encodeURIComponent(tpp.chainPem))
        .set('client-cert', `:${tpp.der.toString('base64')}:`)
        .set('x-ssl-client-cert', encodeURIComponent(tpp.chainPem))
        .send(REGISTRATION);
      expectInvalidClient(res, REQUIRED);
    });
  });

  describe('from the header of a TLS-terminating proxy', () => {
    describe('with clientCertificateHeader { header: "x-client-cert" }', () => {
      const server = suiteServer({ options: { clientCertificateHeader: { header: 'x-client-cert', trustedProxies: LOOPBACK } } });
      logsPerTest(server);

      it('accepts URL-encoded PEM of the leaf and its intermediate', async () => {
        const tpp = await sandboxTpp({ roles: ['PSP_AI'] });
        const res = await server.request().post('/oauth2/register')
          .set('x-client-cert', encodeURIComponent(tpp.chainPem))
          .send(REGISTRATION);
        await expectRegistered(server, res, tpp, 'sandbox');
      });

      it('accepts an RFC 9440 byte sequence of a certificate issued directly by a trusted QTSP', async () => {
        const tpp = await bankTpp({ roles: ['PSP_AI'] });
        const res = await server.request().post('/oauth2/register')
          .set('x-client-cert', `:${tpp.der.toString('base64')}:`)
          .send(REGISTRATION);
        await expectRegistered(server, res, tpp, 'bank');
      });

      it('still refuses a bad certificate that arrives in the header', async () => {
        const tpp = await sandboxTpp({ qcType: 'eseal' });
        const res = await server.request().post('/oauth2/register').set('x-client-cert', encodeURIComponent(tpp.chainPem)).send(REGISTRATION);
        expectInvalidClient(res, 'the client certificate is not a website authentication certificate (QcType eseal, expected web)');
      });

      it('refuses a malformed header as certificate_malformed', async () => {
        const res = await server.request().post('/oauth2/register').set('x-client-cert', 'not-a-certificate').send(REGISTRATION);
        expectInvalidClient(res, 'the x-client-cert header holds no PEM certificate');
        expectRejectionLogged(server, 'certificate_malformed');
      });

      it('refuses a header holding bytes that are not X.509 as certificate_malformed', async () => {
        const res = await server.request().post('/oauth2/register')
          .set('x-client-cert', `:${Buffer.from('definitely not DER').toString('base64')}:`)
          .send(REGISTRATION);
        expectInvalidClient(res, 'the client certificate could not be parsed as X.509');
      });

      it('refuses a request without the header', async () => {
        expectInvalidClient(await server.request().post('/oauth2/register').send(REGISTRATION), REQUIRED);
      });

      it('does not fall back to the TLS certificate when the header is absent', async () => {
        const tpp = await sandboxTpp();
        expectInvalidClient(await server.request(tpp).post('/oauth2/register').send(REGISTRATION), REQUIRED);
      });
    });

    describe('with clientCertificateHeader { header: "client-cert", chainHeader: "client-cert-chain" }', () => {
      const server = suiteServer({ options: { clientCertificateHeader: { header: 'client-cert', chainHeader: 'client-cert-chain', trustedProxies: LOOPBACK } } });

      it('accepts an RFC 9440 Client-Cert with the intermediate in Client-Cert-Chain', async () => {
        const tpp = await sandboxTpp({ roles: ['PSP_AI'] });
        const res = await server.request().post('/oauth2/register')
          .set('Client-Cert', `:${tpp.der.toString('base64')}:`)
          .set('Client-Cert-Chain', `:${pki.sandboxCa.der.toString('base64')}:`)
          .send(REGISTRATION);
        await expectRegistered(server, res, tpp, 'sandbox');
      });

      it('refuses the same Client-Cert without its chain header as untrusted', async () => {
        const tpp = await sandboxTpp({ roles: ['PSP_AI'] });
        const res = await server.request().post('/oauth2/register')
          .set('Client-Cert', `:${tpp.der.toString('base64')}:`)
          .send(REGISTRATION);
        expectInvalidClient(res, UNTRUSTED);
      });

      it('refuses a malformed chain header as certificate_malformed', async () => {
        const tpp = await sandboxTpp();
        const res = await server.request().post('/oauth2/register')
          .set('Client-Cert', `:${tpp.der.toString('base64')}:`)
          .set('Client-Cert-Chain', ':***:')
          .send(REGISTRATION);
        expectInvalidClient(res, 'the client-cert-chain header is not valid base64');
      });
    });
  });
});
