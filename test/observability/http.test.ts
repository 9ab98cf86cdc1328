/**
 * The parts over real HTTP: `x-fapi-interaction-id` and the request observer in an Express app,
 * and the operations listener (`/metrics`, `/health/live`, `/health/ready`, `/statistics`) scraped
 * as a monitoring system would.
 */
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';
import express from 'express';

import { MemoryStorage } from '../../adapters/memory.js';
import {
  createHealth, createMetrics, createStatistics, currentInteractionId, endpointClassifier, interactionIdFrom,
  interactionIdMiddleware, isInteractionId, noteRequest, operationsListener, requestObserver, servicesOf, withInteractionId,
  INTERACTION_ID_HEADER,
} from '../../lib/observability/index.js';
import { keepingLogger, sample } from './helpers.js';

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const UUID = '3f0e8f8a-2b7c-4d1e-9a6b-5c4d3e2f1a0b';
const today = () => new Date().toISOString().slice(0, 10);

describe('observability: over HTTP', () => {
  describe('x-fapi-interaction-id', () => {
    it('accepts RFC 4122 UUIDs only', () => {
      for (const valid of [UUID, UUID.toUpperCase(), '00000000-0000-1000-8000-000000000000', crypto.randomUUID()]) expect(isInteractionId(valid), valid).to.equal(true);
      for (const invalid of ['', 'abc', `${UUID} `, `${UUID}, ${UUID}`, '3f0e8f8a2b7c4d1e9a6b5c4d3e2f1a0b', '3f0e8f8a-2b7c-0d1e-9a6b-5c4d3e2f1a0b', '3f0e8f8a-2b7c-4d1e-7a6b-5c4d3e2f1a0b', `{${UUID}}`, 'x'.repeat(36)]) {
        expect(isInteractionId(invalid), invalid).to.equal(false);
      }
      expect(interactionIdFrom(UUID)).to.deep.equal({ id: UUID, source: 'tpp', replaced: false });
      expect(interactionIdFrom(undefined, () => 'new')).to.deep.equal({ id: 'new', source: 'generated', replaced: false });
      expect(interactionIdFrom('<script>', () => 'new')).to.deep.equal({ id: 'new', source: 'generated', replaced: true });
      expect(interactionIdFrom([UUID, UUID], () => 'new')).to.deep.equal({ id: 'new', source: 'generated', replaced: true });
    });
  });

  describe('an Express app with the interaction id and the request observer', () => {
    const metrics = createMetrics();
    const storage = new MemoryStorage();
    const statistics = createStatistics({ storage, timer: false });
    const logger = keepingLogger();
    const logged = withInteractionId(logger);
    const server = createServer();
    let base: string;

    before(async () => {
      const app = express();
      const observer = requestObserver({ classify: endpointClassifier({ mountPath: '/oauth2', entryPaths: ['/{lang}/sandbox/signin.html'] }), metrics, statistics });
      app.use(interactionIdMiddleware());
      app.use(observer);
      const inner = express.Router();
      inner.use(interactionIdMiddleware(), observer);
      inner.get('/jwks', (_req, res) => {
        res.json({ keys: [] });
      });
      app.use('/oauth2', inner);
      app.post('/oauth2/token', async (req, res) => {
        noteRequest(req, { services: servicesOf({ roles: ['PSP_AI'] }), grantType: 'refresh_token' });
        await new Promise((resolve) => setImmediate(resolve));
        logged.info({ event: 'token.refused' }, 'request refused');
        noteRequest(req, { error: 'invalid_grant' });
        res.status(400).json({ error: 'invalid_grant', error_description: 'Invalid refresh token' });
      });
      app.get('/oauth2/register/:id', (req, res) => {
        noteRequest(req, { services: ['payment_initiation'], cause: 'storage' });
        res.status(503).json({ error: 'temporarily_unavailable' });
      });
      app.get('/oauth2/en/sandbox/signin.html', (_req, res) => {
        res.type('html').send(`<p>${currentInteractionId()?.id ?? ''}</p>`);
      });
      app.get('/oauth2/slow', () => { /* never answers: the client gives up */ });
      server.on('request', app);
      base = await listen(server);
    });
    after(async () => {
      server.closeAllConnections();
      server.close();
      await statistics.close();
    });

    it("echoes a TPP's id, generates one when none or an invalid one came, and logs it with the request's lines", async () => {
      const echoed = await fetch(`${base}/oauth2/token`, { method: 'POST', headers: { [INTERACTION_ID_HEADER]: UUID } });
      expect(echoed.headers.get(INTERACTION_ID_HEADER)).to.equal(UUID);
      const generated = await fetch(`${base}/oauth2/token`, { method: 'POST' });
      expect(isInteractionId(generated.headers.get(INTERACTION_ID_HEADER))).to.equal(true);
      const replaced = await fetch(`${base}/oauth2/token`, { method: 'POST', headers: { [INTERACTION_ID_HEADER]: 'eyJhbGciOiJub25lIn0.e30.' } });
      const replacement = replaced.headers.get(INTERACTION_ID_HEADER)!;
      expect(isInteractionId(replacement)).to.equal(true);
      expect(logger.lines.map((line) => line.fields)).to.deep.equal([
        { interactionId: UUID, event: 'token.refused' },
        { interactionId: generated.headers.get(INTERACTION_ID_HEADER), event: 'token.refused' },
        { interactionId: replacement, interactionIdReplaced: true, event: 'token.refused' },
      ]);
      const page = await fetch(`${base}/oauth2/en/sandbox/signin.html?scope=aisp`);
      expect(await page.text()).to.equal(`<p>${page.headers.get(INTERACTION_ID_HEADER)}</p>`);
    });

    it('counts each request by endpoint, status, grant type and error, and in the statistics by service', async () => {
      await fetch(`${base}/oauth2/register/client-1`);
      const jwks = await fetch(`${base}/oauth2/jwks`, { headers: { [INTERACTION_ID_HEADER]: UUID } });
      expect(jwks.headers.get(INTERACTION_ID_HEADER)).to.equal(UUID);
      await fetch(`${base}/oauth2/nowhere/eyJhbGciOiJub25lIn0.e30.`);
      const aborted = new AbortController();
      const slow = fetch(`${base}/oauth2/slow`, { signal: aborted.signal }).catch(() => 'aborted');
      await new Promise((resolve) => setTimeout(resolve, 50));
      aborted.abort();
      expect(await slow).to.equal('aborted');
      const { body } = await metrics.scrape();
      const deadline = Date.now() + 2000;
      let text = body;
      while (sample(text, 'psd2_as_http_requests_total', { endpoint: 'other', status: '4xx' }) !== 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        text = (await metrics.scrape()).body;
      }
      expect(sample(text, 'psd2_as_http_requests_total', { endpoint: 'token', status: '4xx', grant_type: 'refresh_token', error: 'invalid_grant' })).to.equal(3);
      expect(sample(text, 'psd2_as_http_requests_total', { endpoint: 'management', status: '5xx' })).to.equal(1);
      expect(sample(text, 'psd2_as_http_requests_total', { endpoint: 'authorization', status: '2xx' })).to.equal(1);
      // Through two routers with the middleware, counted once.
      expect(sample(text, 'psd2_as_http_requests_total', { endpoint: 'jwks', status: '2xx' })).to.equal(1);
      // The unknown path (404) and the abandoned request (499, client closed).
      expect(sample(text, 'psd2_as_http_requests_total', { endpoint: 'other', status: '4xx' })).to.equal(2);
      expect(text).not.to.include('eyJhbGci');

      const report = await statistics.report(today(), today());
      const figures = Object.fromEntries(report.days.map((day) => [day.service, day]));
      expect(figures.account_information).to.include({ requests: 4, failed: 0 });
      expect(figures.payment_initiation).to.include({ requests: 1, failed: 1 });
      expect(figures.funds_confirmation).to.include({ requests: 0 });
    });
  });

  describe('the operations listener', () => {
    const storage = new MemoryStorage();
    const metrics = createMetrics();
    const statistics = createStatistics({ storage, timer: false });
    let anchors = true;
    const health = createHealth({ storage, metrics, checks: { 'trust-anchors': () => anchors } });
    const server = createServer(operationsListener({ metrics, health, statistics }));
    let base: string;
    before(async () => {
      base = await listen(server);
      metrics.recordJourney('consent_granted');
      statistics.record({ services: 'funds_confirmation', status: 200, durationSeconds: 0.03 });
    });
    after(async () => {
      server.close();
      await statistics.close();
    });

    it('serves the metrics in the Prometheus text format', async () => {
      const answer = await fetch(`${base}/metrics`);
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
      expect(sample(await answer.text(), 'psd2_as_psu_journey_total', { step: 'consent_granted' })).to.equal(1);
    });

    it('serves liveness and readiness with their HTTP status', async () => {
      const live = await fetch(`${base}/health/live`);
      expect(live.status).to.equal(200);
      expect(await live.json()).to.deep.equal({ status: 'ok', checks: { process: { status: 'ok' } } });
      expect((await fetch(`${base}/health/ready`)).status).to.equal(200);
      anchors = false;
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).to.equal(503);
      expect(ready.headers.get('cache-control')).to.equal('no-store');
      expect(await ready.json()).to.have.nested.property('checks.trust-anchors.status', 'unavailable');
      anchors = true;
    });

    it('serves the statistics as JSON and CSV, and says what is wrong with a range', async () => {
      const json = await fetch(`${base}/statistics?from=${today()}&to=${today()}`);
      expect(json.status).to.equal(200);
      const report = await json.json() as { days: { service: string; requests: number }[] };
      expect(report.days.find((day) => day.service === 'funds_confirmation')).to.include({ requests: 1 });
      const csv = await fetch(`${base}/statistics?from=${today()}&to=${today()}&format=csv`);
      expect(csv.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
      expect(csv.headers.get('content-disposition')).to.equal(`attachment; filename="psd2-statistics-${today()}-${today()}.csv"`);
      expect((await csv.text()).split('\r\n')[3]).to.match(new RegExp(`^${today()},funds_confirmation,1,1,0,0,30,50,0,`));
      const bad = await fetch(`${base}/statistics?from=2026-13-01&to=${today()}`);
      expect(bad.status).to.equal(400);
      expect(await bad.json()).to.deep.equal({ error: 'invalid_request', error_description: 'from is not a day of the calendar: 2026-13-01' });
      expect((await fetch(`${base}/statistics?from=${today()}&to=${today()}&format=xml`)).status).to.equal(400);
    });

    it('answers 404 elsewhere, 405 to other methods, and HEAD without a body', async () => {
      expect((await fetch(`${base}/metrics/x`)).status).to.equal(404);
      const post = await fetch(`${base}/metrics`, { method: 'POST' });
      expect(post.status).to.equal(405);
      expect(post.headers.get('allow')).to.equal('GET, HEAD');
      const head = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const sent = httpRequest(`${base}/health/live`, { method: 'HEAD' }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => { body += chunk.toString(); });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        sent.on('error', reject);
        sent.end();
      });
      expect(head).to.deep.equal({ status: 200, body: '' });
    });
  });
});
