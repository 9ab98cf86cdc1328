/**
 * The PSD2 statistics through the management API (JSON and CSV for a range of UTC days, a
 * `StatisticsRangeError` saying what is wrong with a range), the metrics turned off with
 * `metrics: false`, and `expiry_days` of the signing keys, the trust anchors and the server
 * certificate the host gives; over real HTTPS with mutual TLS.
 */
import { createPrivateKey } from 'node:crypto';

import { expect } from 'chai';
import fc from 'fast-check';

import { StatisticsRangeError } from '../../lib/index.js';
import { createAuthority } from '../../tools/dev-pki/pki.js';
import { registerClient, type TestClient } from '../authorization/helpers.js';
import { testPki } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';
import { sample } from './helpers.js';

const DAY = 86_400_000;
const dayOf = (time: number) => new Date(time).toISOString().slice(0, 10);

async function clientCredentials(server: TestServer, client: TestClient) {
  const res = await server.request(client.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId });
  expect(res.status, res.text).to.equal(200);
}

describe('observability: statistics through the management API, metrics off, expiries', function management() {
  this.timeout(30_000);

  describe('management.statistics and statisticsCsv', () => {
    let server: TestServer;
    before(async () => {
      server = await startServer();
      await clientCredentials(server, await registerClient(server, { roles: ['PSP_PI'], body: { scope: 'pisp', redirect_uris: undefined } }));
    });
    after(() => server?.close());

    it('gives the day\'s figures per service as JSON, this instance\'s requests included', async () => {
      const today = dayOf(Date.now());
      const report = await server.auth.management.statistics({ from: today, to: today });
      expect(report).to.include({ from: today, to: today });
      const payments = report.days.find((day) => day.date === today && day.service === 'payment_initiation');
      expect(payments?.requests).to.be.at.least(2);
      expect(payments?.failed).to.equal(0);
    });

    it('gives the same as CSV, a line per day and service', async () => {
      const today = dayOf(Date.now());
      const yesterday = dayOf(Date.now() - DAY);
      const lines = (await server.auth.management.statisticsCsv({ from: yesterday, to: today })).trim().split('\r\n');
      expect(lines[0]).to.equal('date,service,requests,answered,failed,error_rate,mean_response_ms,p95_response_ms,downtime_seconds,period_seconds,uptime_percent');
      expect(lines).to.have.length(1 + 2 * 3);
      expect(lines.find((line) => line.startsWith(`${today},payment_initiation,`))).to.match(/^[\d-]+,payment_initiation,[2-9]\d*,/);
    });

    it('rejects a range it cannot give with a StatisticsRangeError saying why', async () => {
      const today = Date.now();
      const refused = async (range: unknown) => {
        try {
          await server.auth.management.statistics(range as { from: string; to: string });
        } catch (error) {
          expect(error).to.be.instanceOf(StatisticsRangeError).and.instanceOf(RangeError);
          return (error as Error).message;
        }
        throw new Error(`accepted ${JSON.stringify(range)}`);
      };
      expect(await refused({ from: '2026-02-30', to: '2026-03-01' })).to.match(/from/);
      expect(await refused({ from: dayOf(today), to: dayOf(today - DAY) })).to.equal('to must not be before from');
      expect(await refused({ from: dayOf(today), to: dayOf(today + DAY) })).to.match(/today|future|after/);
      expect(await refused({ from: dayOf(today - 400 * DAY), to: dayOf(today) })).to.match(/366/);
      expect(await refused({ from: '7 Dec 2026', to: dayOf(today) })).to.match(/YYYY-MM-DD/);
      expect(await refused(undefined)).to.match(/range/);
    });

    it('answers any hostile range with a StatisticsRangeError or a report, never anything else', async () => {
      await fc.assert(fc.asyncProperty(fc.anything(), fc.anything(), async (from, to) => {
        try {
          await server.auth.management.statistics({ from, to } as unknown as { from: string; to: string });
        } catch (error) {
          expect(error).to.be.instanceOf(StatisticsRangeError);
        }
      }), { numRuns: 200 });
    });
  });

  describe('metrics: false', () => {
    it('registers and counts nothing, while the server answers and keeps its PSD2 statistics', async () => {
      const server = await startServer({ options: { metrics: false } });
      try {
        expect(server.auth.metrics.enabled).to.equal(false);
        await clientCredentials(server, await registerClient(server, { roles: ['PSP_PI'], body: { scope: 'pisp', redirect_uris: undefined } }));
        expect((await server.auth.metrics.scrape()).body.trim()).to.equal('');
        const today = dayOf(Date.now());
        const report = await server.auth.management.statistics({ from: today, to: today });
        expect(report.days.find((day) => day.service === 'payment_initiation')?.requests).to.be.at.least(2);
      } finally {
        await server.close();
      }
    });

    it('refuses a metrics option that is neither false nor settings, naming it', async () => {
      let failure: unknown;
      try {
        await startServer({ options: { metrics: true as unknown as false } });
      } catch (error) {
        failure = error;
      }
      expect(String(failure)).to.match(/metrics/);
    });
  });

  describe('expiry_days', () => {
    it('counts down to the signing key\'s certificate, the earliest trust anchor and the server certificate given', async () => {
      const notAfter = new Date(Date.now() + 30 * DAY);
      const signer = await createAuthority('Signing Key', { notAfter });
      const jwk = { ...createPrivateKey(signer.keyPem).export({ format: 'jwk' }), x5c: [signer.der.toString('base64')] };
      const server = await startServer({ options: { signingKeys: { keys: [jwk] } } });
      try {
        const serverCertificate = await createAuthority('Bank TLS', { notAfter: new Date(Date.now() + 10 * DAY) });
        server.auth.metrics.setServerCertificate(serverCertificate.certPem);
        const text = (await server.auth.metrics.scrape()).body;
        const days = (kind: string) => sample(text, 'psd2_as_expiry_days', { kind });
        expect(days('signing_key')).to.be.within(29.9, 30);
        expect(days('server_certificate')).to.be.within(9.9, 10);
        const pki = await testPki();
        const anchors = [pki.sandboxRoot, pki.bankCa].map((anchor) => (Date.parse(anchor.certificate.notAfter.toISOString()) - Date.now()) / DAY);
        expect(days('trust_anchor')).to.be.closeTo(Math.min(...anchors), 0.02);
      } finally {
        await server.close();
      }
    });
  });
});
