/**
 * The example app's operations listener (METRICS_PORT, 127.0.0.1): the metrics, liveness,
 * readiness and PSD2 statistics of the running app over plain HTTP, as a monitoring agent on the
 * bank's host scrapes them; refused at start-up when its port is taken, closed on shutdown.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';

import { expect } from 'chai';

import { sample } from '../observability/helpers.js';
import { freePort } from '../support/redis.js';
import { startExampleApp, startupFailure, type ExampleApp } from './helpers.js';

const today = () => new Date().toISOString().slice(0, 10);

describe('the example app\'s operations listener', function operations() {
  this.timeout(60_000);
  let example: ExampleApp;

  before(async () => {
    example = await startExampleApp();
    // A PISP takes a client_credentials token: what the listener shows below.
    const { cert, key } = await example.tppCert('PSP_PI', 'Ops Pay');
    const registered = await example.request('post', '/oauth2/register').cert(cert).key(key)
      .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Ops Pay', scope: 'pisp' });
    expect(registered.status, registered.text).to.equal(201);
    const token = await example.request('post', '/oauth2/token').cert(cert).key(key).type('form')
      .send({ grant_type: 'client_credentials', scope: 'pisp', client_id: String(registered.body.client_id) });
    expect(token.status, token.text).to.equal(200);
  });

  after(() => {
    example?.stop();
  });

  it('says at start-up where it answers, on the loopback address', () => {
    expect(example.startup).to.contain(`operations: ${example.operations}/metrics, /health/live, /health/ready, /statistics`);
    expect(example.operations).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('GET /metrics: the Prometheus text format, with the token endpoint request and the token issued', async () => {
    const res = await fetch(`${example.operations}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(sample(text, 'psd2_as_http_requests_total', { endpoint: 'token', status: '2xx', grant_type: 'client_credentials' })).to.equal(1);
    expect(sample(text, 'psd2_as_http_requests_total', { endpoint: 'registration', status: '2xx' })).to.equal(1);
    expect(sample(text, 'psd2_as_tokens_issued_total', { grant_type: 'client_credentials', scope: 'pisp' })).to.equal(1);
    expect(sample(text, 'psd2_as_registrations_total', { action: 'created', environment: 'sandbox' })).to.equal(1);
    expect(text).to.match(/^psd2_as_http_request_duration_seconds_bucket\{le="0\.005",endpoint="token"\} \d+$/m);
    // The TLS certificate the app serves, which it hands to the metrics.
    expect(sample(text, 'psd2_as_expiry_days', { kind: 'server_certificate' })).to.be.above(1);
    expect(sample(text, 'psd2_as_expiry_days', { kind: 'trust_anchor' })).to.be.above(1);
    expect(sample(text, 'psd2_as_storage_up')).to.equal(1);
  });

  it('GET /health/live and /health/ready: 200 while the storage answers', async () => {
    const live = await fetch(`${example.operations}/health/live`);
    expect(live.status).to.equal(200);
    expect(await live.json()).to.include({ status: 'ok' });
    const ready = await fetch(`${example.operations}/health/ready`);
    expect(ready.status).to.equal(200);
    const body = await ready.json() as { status: string; checks: Record<string, { status: string }> };
    expect(body.status).to.equal('ok');
    expect(body.checks.storage).to.include({ status: 'ok' });
  });

  it('GET /statistics: today\'s figures as JSON, and as CSV with format=csv', async () => {
    const day = today();
    const json = await fetch(`${example.operations}/statistics?from=${day}&to=${day}`);
    expect(json.status).to.equal(200);
    expect(json.headers.get('content-type')).to.match(/^application\/json/);
    const report = await json.json() as { from: string; to: string; days: { service: string; requests: number; failed: number }[] };
    expect(report).to.include({ from: day, to: day });
    expect(report.days.map((figures) => figures.service)).to.deep.equal(['account_information', 'payment_initiation', 'funds_confirmation']);
    // The registration and the token request of the PISP, from its certificate's role.
    const payments = report.days.find((figures) => figures.service === 'payment_initiation')!;
    expect(payments.requests).to.be.at.least(2);
    expect(payments.failed).to.equal(0);

    const csv = await fetch(`${example.operations}/statistics?from=${day}&to=${day}&format=csv`);
    expect(csv.status).to.equal(200);
    expect(csv.headers.get('content-type')).to.equal('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).to.equal(`attachment; filename="psd2-statistics-${day}-${day}.csv"`);
    const lines = (await csv.text()).split('\r\n');
    expect(lines[0]).to.equal('date,service,requests,answered,failed,error_rate,mean_response_ms,p95_response_ms,downtime_seconds,period_seconds,uptime_percent');
    expect(lines[2]).to.match(new RegExp(`^${day},payment_initiation,${payments.requests},${payments.requests},0,0,`));
  });

  it('GET /statistics: 400 invalid_request for a range it cannot give', async () => {
    for (const query of ['from=2026-02-30&to=2026-03-01', `from=${today()}&to=2020-01-01`, 'from=2020-01-01&to=2022-01-01', '', `from=${today()}&to=${today()}&format=xml`]) {
      const res = await fetch(`${example.operations}/statistics?${query}`);
      expect(res.status, query).to.equal(400);
      expect(await res.json(), query).to.include({ error: 'invalid_request' });
    }
  });

  it('answers nothing but its own paths', async () => {
    expect((await fetch(`${example.operations}/oauth2/token`)).status).to.equal(404);
    expect((await fetch(`${example.operations}/metrics`, { method: 'POST' })).status).to.equal(405);
  });
});

describe('the example app\'s operations port', function port() {
  this.timeout(60_000);

  it('refuses to start when METRICS_PORT is taken, naming it', async () => {
    const taken = createServer();
    taken.listen(await freePort(), '127.0.0.1');
    await once(taken, 'listening');
    try {
      const { port: held } = taken.address() as { port: number };
      const { code, output } = await startupFailure({ METRICS_PORT: String(held) });
      expect(code).to.equal(1);
      expect(output).to.contain(`The example app cannot start: the operations listener cannot listen on 127.0.0.1:${held} (METRICS_PORT)`);
    } finally {
      taken.close();
    }
  });

  it('refuses a METRICS_PORT that is not a port', async () => {
    const { code, output } = await startupFailure({ METRICS_PORT: '70000' });
    expect(code).to.equal(1);
    expect(output).to.contain('METRICS_PORT=70000 is not a port number');
  });

  it('closes the listener when the app stops', async () => {
    const example = await startExampleApp();
    expect((await fetch(`${example.operations}/health/live`)).status).to.equal(200);
    example.stop();
    for (const end = Date.now() + 10_000; ;) {
      const refused = await fetch(`${example.operations}/health/live`).then(() => false, () => true);
      if (refused) break;
      expect(Date.now(), 'the listener still answers after SIGTERM').to.be.below(end);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
