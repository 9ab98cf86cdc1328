/**
 * Revocation as TPPs meet it: registrations, token requests and introspection over real mutual
 * TLS, against QTSPs with a real `openssl ocsp` responder and CRLs made by `openssl ca`.
 */
import { expect } from 'chai';

import { RedisStorage } from '../../adapters/redis/storage.js';
import type { AuthorizationServerOptions } from '../../lib/index.js';
import type { IssuedCertificate } from '../../tools/dev-pki/pki.js';
import { Qtsp } from '../support/qtsp.js';
import type { TppCredentials } from '../support/pki.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { SANDBOX_PSUS } from '../support/psus.js';
import { startServer, type TestServer } from '../support/server.js';
import { suiteClock } from '../support/suite.js';

const REGISTRATION = { redirect_uris: ['https://tpp.example/callback'], client_name: 'Acme' };
const SECRET = 'introspection-secret-0123456789abcdef';
const REVOKED = /^the client certificate was revoked by its issuer on \d{4}-\d\d-\d\dT[\d:.]+Z \(keyCompromise\)$/;
const UNKNOWN = 'the revocation status of the client certificate could not be established: ';

function credentials(issued: IssuedCertificate, ...intermediates: { certPem: string }[]): TppCredentials {
  return { ...issued, chainPem: issued.certPem + intermediates.map((ca) => ca.certPem).join('') };
}

describe('revocation checked by the server', function revocation() {
  this.timeout(60_000);
  let bankQtsp: Qtsp;
  let sandboxQtsp: Qtsp;
  const clock = suiteClock();

  before(async () => {
    bankQtsp = await Qtsp.create('Revocation Bank QTSP');
    sandboxQtsp = await Qtsp.create('Revocation Sandbox QTSP');
  });
  after(async () => {
    await bankQtsp.close();
    await sandboxQtsp.close();
  });
  const issuers: Qtsp[] = [];
  afterEach(async () => {
    while (issuers.length) await issuers.pop()?.close();
  });

  /**
   * An issuing CA of its own under `root`, with its own responder and CRL: a test that takes them
   * down or forges them leaves the others' alone (a responder found down is remembered).
   */
  async function issuingCa(root: Qtsp, name: string): Promise<{ qtsp: Qtsp; chain: (issued: IssuedCertificate) => TppCredentials }> {
    const intermediate = await root.subordinate(name);
    const qtsp = await Qtsp.start(intermediate);
    issuers.push(qtsp);
    return { qtsp, chain: (issued) => credentials(issued, intermediate) };
  }

  /** A server trusting both QTSPs, revocation as configured (defaults unless told). */
  async function server(options: Partial<AuthorizationServerOptions> = {}): Promise<TestServer> {
    const started = await startServer({
      options: {
        now: clock.now,
        environments: {
          sandbox: { trustAnchors: sandboxQtsp.authority.certPem, requireQualifiedStatements: false, testPsus: SANDBOX_PSUS },
          bank: { trustAnchors: bankQtsp.authority.certPem, authenticator: { verifyCredentials: async () => ({ outcome: 'failed' }), verifySecondFactor: async () => ({ outcome: 'failed' }) }, accounts: { accountsOf: async () => [] } },
        },
        resourceServers: [{ id: 'psd2-api', secret: SECRET }],
        revocation: {},
        ...options,
      },
    });
    return started;
  }

  const register = (target: TestServer, tpp: TppCredentials, body: Record<string, unknown> = {}) => (
    target.request(tpp).post('/oauth2/register').send({ ...REGISTRATION, ...body })
  );
  const clientCredentials = (target: TestServer, tpp: TppCredentials, clientId: string) => (
    target.request(tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', client_id: clientId, scope: 'pisp' })
  );
  const introspect = (target: TestServer, token: string) => target.request().post('/oauth2/introspect').type('form')
    .set('Authorization', `Basic ${Buffer.from(`psd2-api:${SECRET}`).toString('base64')}`).send({ token });

  describe('with the defaults (bank hard, sandbox soft)', () => {
    let target: TestServer;
    before(async () => {
      target = await server();
    });
    after(() => target.close());
    beforeEach(() => {
      target.logs.length = 0;
    });

    it('accepts a certificate its QTSP says is good, asking the OCSP responder once', async () => {
      const tpp = credentials(await bankQtsp.issue({ roles: ['PSP_PI'], organization: 'Good Bank TPP' }));
      bankQtsp.resetCounts();
      const registered = await register(target, tpp);
      expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
      const token = await clientCredentials(target, tpp, String(registered.body.client_id));
      expect(token.status, JSON.stringify(token.body)).to.equal(200);
      expect(bankQtsp.requests).to.deep.equal({ ocsp: 1, crl: 0 });
    });

    it('refuses a certificate revoked at its OCSP responder, with its own description, and audits it', async () => {
      const issued = await bankQtsp.issue({ roles: ['PSP_AI'], organization: 'Revoked TPP' });
      await bankQtsp.revoke(issued, 'keyCompromise');
      const res = await register(target, credentials(issued));
      expect(res.status).to.equal(401);
      expect(res.body.error).to.equal('invalid_client');
      expect(res.body.error_description).to.match(REVOKED);
      expect(target.logs.find((entry) => entry.fields.event === 'certificate.rejected')?.fields).to.include({ reason: 'certificate_revoked' });
      expect(target.logs.find((entry) => entry.fields.event === 'certificate.revoked')?.fields).to.include({ source: 'ocsp', certificate: 'leaf' });
      expect(await target.auth.storage.clientIdsOf('PSDFR-NCA-REVOKEDTPP')).to.deep.equal([]);
    });

    it('refuses a certificate revoked on the CRL when it names no OCSP responder', async () => {
      const issued = await bankQtsp.issue({ roles: ['PSP_AI'], organization: 'Crl Only', ocsp: false });
      await bankQtsp.revoke(issued, 'keyCompromise');
      bankQtsp.resetCounts();
      const res = await register(target, credentials(issued));
      expect(res.status).to.equal(401);
      expect(res.body.error_description).to.match(REVOKED);
      expect(bankQtsp.requests).to.deep.equal({ ocsp: 0, crl: 1 });
    });

    it('bank: refuses a certificate whose status cannot be established (responder down, no CRL)', async () => {
      const { qtsp, chain } = await issuingCa(bankQtsp, 'Bank Issuing CA Down');
      const issued = await qtsp.issue({ roles: ['PSP_AI'], organization: 'Responder Down', crl: false });
      await qtsp.stopResponder();
      const res = await register(target, chain(issued));
      expect(res.status).to.equal(401);
      expect(res.body.error_description).to.satisfy((text: string) => text.startsWith(UNKNOWN));
      expect(res.body.error_description).to.include(qtsp.ocspUrl);
      expect(target.logs.find((entry) => entry.fields.event === 'certificate.rejected')?.fields).to.include({ reason: 'certificate_status_unknown' });
    });

    it('sandbox: accepts such a certificate, with a warning', async () => {
      const { qtsp, chain } = await issuingCa(sandboxQtsp, 'Sandbox Issuing CA Down');
      const issued = await qtsp.issue({ roles: ['PSP_AI'], organization: 'Sandbox Responder Down', crl: false });
      await qtsp.stopResponder();
      const res = await register(target, chain(issued));
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(target.logs.find((entry) => entry.fields.event === 'certificate.soft_fail')?.fields).to.include({ environment: 'sandbox', organization: 'PSDFR-NCA-SANDBOXRESPO' });
    });

    it('sandbox: still refuses a revoked certificate', async () => {
      const issued = await sandboxQtsp.issue({ roles: ['PSP_AI'], organization: 'Sandbox Revoked' });
      await sandboxQtsp.revoke(issued, 'keyCompromise');
      const res = await register(target, credentials(issued));
      expect(res.status).to.equal(401);
      expect(res.body.error_description).to.match(REVOKED);
    });

    it('bank: refuses a certificate naming neither an OCSP responder nor a CRL, saying why', async () => {
      const issued = await bankQtsp.issue({ roles: ['PSP_AI'], organization: 'No Pointers', ocsp: false, crl: false });
      const res = await register(target, credentials(issued));
      expect(res.status).to.equal(401);
      expect(res.body.error_description).to.equal(`${UNKNOWN}the certificate has neither an OCSP responder nor a CRL distribution point: not a conforming qualified certificate (ETSI EN 319 412-2)`);
    });

    it('bank: refuses a certificate whose OCSP answer is forged and whose CRL is past its nextUpdate', async () => {
      const { qtsp, chain } = await issuingCa(bankQtsp, 'Bank Issuing CA Forged');
      const issued = await qtsp.issue({ roles: ['PSP_AI'], organization: 'Forged Answer' });
      await qtsp.revoke(issued, 'keyCompromise');
      const forger = await Qtsp.create('Forger');
      issuers.push(forger);
      // A responder answering for this CA, signed by a key the CA never certified.
      await qtsp.startResponder({ signer: forger.authority });
      await qtsp.publishCrl({ lastUpdate: new Date(Date.now() - 7200_000), nextUpdate: new Date(Date.now() - 3600_000) });
      const res = await register(target, chain(issued));
      expect(res.status).to.equal(401);
      expect(res.body.error_description).to.satisfy((text: string) => text.startsWith(UNKNOWN));
      expect(res.body.error_description).to.include('nextUpdate');
    });

    it('refuses a certificate under a revoked intermediate, naming the CA', async () => {
      const { qtsp, chain } = await issuingCa(bankQtsp, 'Revoked Issuing CA');
      const issued = await qtsp.issue({ roles: ['PSP_AI'], organization: 'Under Revoked CA' });
      await bankQtsp.revoke(qtsp.authority, 'keyCompromise');
      const res = await register(target, chain(issued));
      expect(res.status).to.equal(401);
      expect(res.body.error_description).to.match(/^the client certificate's issuing CA certificate was revoked on .* \(keyCompromise\)$/);
    });
  });

  describe('a certificate revoked after registration', () => {
    let target: TestServer;
    before(async () => {
      target = await server({ revocation: { maxAge: 60, sweepInterval: 1 } });
    });
    after(() => target.close());

    it('stops working once its cached good status ages out, and its tokens turn inactive', async () => {
      const issued = await bankQtsp.issue({ roles: ['PSP_PI'], organization: 'Later Revoked' });
      const tpp = credentials(issued);
      const registered = await register(target, tpp);
      expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
      const clientId = String(registered.body.client_id);
      const token = await clientCredentials(target, tpp, clientId);
      expect(token.status).to.equal(200);
      const accessToken = String(token.body.access_token);
      expect((await introspect(target, accessToken)).body.active).to.equal(true);

      await bankQtsp.revoke(issued, 'keyCompromise');
      // Within maxAge the cached good status stands.
      expect((await clientCredentials(target, tpp, clientId)).status).to.equal(200);

      clock.offset = 61_000;
      const refused = await clientCredentials(target, tpp, clientId);
      expect(refused.status).to.equal(401);
      expect(refused.body.error_description).to.match(REVOKED);
      expect((await introspect(target, accessToken)).body).to.deep.equal({ active: false });
    });

    it('is found by the background sweep even when the TPP does not call again', async () => {
      const issued = await bankQtsp.issue({ roles: ['PSP_PI'], organization: 'Silent TPP' });
      const tpp = credentials(issued);
      const registered = await register(target, tpp);
      const token = await clientCredentials(target, tpp, String(registered.body.client_id));
      const accessToken = String(token.body.access_token);
      await bankQtsp.revoke(issued, 'keyCompromise');
      clock.offset = 61_000;
      // The sweep runs every second; introspection never looks a status up itself. The status is
      // stored before the revocation is logged.
      await target.logged((entry) => entry.fields.event === 'certificate.revoked' && String(entry.fields.subject ?? '').includes('Silent TPP'));
      const active = (await introspect(target, accessToken)).body.active as boolean;
      expect(active, 'the token should turn inactive once the sweep finds the revocation').to.equal(false);
      expect(target.logs.filter((entry) => entry.fields.event === 'certificate.revoked' && entry.fields.subject !== undefined
        && String(entry.fields.subject).includes('Silent TPP'))).to.have.length(1);
    });
  });

  describe('two instances on one Redis', () => {
    let redis: TestRedis;
    let first: TestServer;
    let second: TestServer;
    before(async () => {
      redis = await startRedis();
      const storage = () => new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, cache: false });
      first = await server({ storage: storage() });
      second = await server({ storage: storage() });
    });
    after(async () => {
      await first.close();
      await second.close();
      await redis.close();
    });

    it('share a status: the second instance asks no responder', async () => {
      const tpp = credentials(await bankQtsp.issue({ roles: ['PSP_PI'], organization: 'Shared Status' }));
      bankQtsp.resetCounts();
      const registered = await register(first, tpp);
      expect(registered.status, JSON.stringify(registered.body)).to.equal(201);
      expect(bankQtsp.requests.ocsp).to.equal(1);
      const token = await clientCredentials(second, tpp, String(registered.body.client_id));
      expect(token.status, JSON.stringify(token.body)).to.equal(200);
      expect(bankQtsp.requests).to.deep.equal({ ocsp: 1, crl: 0 });
    });

    it('share a revocation: once one instance learns it, the other refuses without asking', async () => {
      const issued = await bankQtsp.issue({ roles: ['PSP_PI'], organization: 'Shared Revocation' });
      await bankQtsp.revoke(issued, 'keyCompromise');
      bankQtsp.resetCounts();
      expect((await register(first, credentials(issued))).status).to.equal(401);
      const again = await register(second, credentials(issued));
      expect(again.status).to.equal(401);
      expect(again.body.error_description).to.match(REVOKED);
      expect(bankQtsp.requests.ocsp).to.equal(1);
    });
  });

  describe('mode off', () => {
    it('checks nothing and asks no responder', async () => {
      const target = await server({ revocation: { bank: 'off', sandbox: 'off' } });
      try {
        const issued = await bankQtsp.issue({ roles: ['PSP_AI'], organization: 'Unchecked' });
        await bankQtsp.revoke(issued, 'keyCompromise');
        bankQtsp.resetCounts();
        expect((await register(target, credentials(issued))).status).to.equal(201);
        expect(bankQtsp.requests).to.deep.equal({ ocsp: 0, crl: 0 });
      } finally {
        await target.close();
      }
    });
  });
});
