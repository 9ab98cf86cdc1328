/**
 * The example app on Redis survives its own restart: a client registered and a token issued before
 * it stops are still there when it starts again with the same configuration.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';
import supertest from 'supertest';

import { isRecordOf } from '../../adapters/redis/keys.js';
import { freePort, startRedis, type TestRedis } from '../support/redis.js';
import { createOpenApiValidator } from '../support/openapi.js';

const run = promisify(execFile);
const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const API_ID = 'psd2-api';
const API_SECRET = 'restart-api-secret-0123456789abcdefghij';

/** The output of `child` until `pattern` shows up in it; fails if the child exits before. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) resolve(output);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`example app exited with ${code}:\n${output}`)));
  });
}

/** Stops `child` with SIGTERM and waits for its exit code, failing after `ms`. */
function terminate(child: ChildProcess, ms: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example app did not exit within ${ms} ms of SIGTERM`)), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

describe('the example app on Redis, restarted', function restart() {
  this.timeout(40_000);
  let redis: TestRedis;
  let dir: string;
  let port: number;
  let env: NodeJS.ProcessEnv;
  let child: ChildProcess | undefined;
  const keyPrefix = `restart-${randomBytes(4).toString('hex')}:`;

  async function startApp(): Promise<string> {
    child = spawn(tsx, ['example-app/server.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    return waitForLine(child, /mint a TPP certificate: .*\n/);
  }

  before(async function setUp() {
    redis = await startRedis();
    if (redis.kind !== 'single') this.skip();
    dir = mkdtempSync(join(tmpdir(), 'dev-pki-restart-'));
    port = await freePort();
    env = {
      ...process.env,
      PORT: String(port),
      DEV_PKI_DIR: dir,
      REDIS_URL: redis.processes[0]!.url,
      REDIS_KEY_PREFIX: keyPrefix,
      RESOURCE_SERVER_CREDENTIALS: `${API_ID}:${API_SECRET}`,
    };
  });

  after(async () => {
    if (child) await terminate(child, 5000).catch(() => child?.kill('SIGKILL'));
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the registered client and its token across a restart, and issues new tokens after it', async () => {
    const startup = await startApp();
    expect(startup).to.match(/storage: +Redis/);
    await run(tsx, ['tools/dev-pki/tpp-cert.ts', '--roles', 'PSP_PI', '--org', 'Restart Pay'], { env });
    const cert = readFileSync(join(dir, 'sandbox-restart-pay.pem'), 'utf8');
    const key = readFileSync(join(dir, 'sandbox-restart-pay-key.pem'), 'utf8');
    const ca = readFileSync(join(dir, 'server-ca.pem'), 'utf8');
    const base = `https://localhost:${port}`;
    // Every answer is held to the app's own OpenAPI document.
    const openApi = createOpenApiValidator((await supertest(base).get('/oauth2/openapi.json').ca(ca)).body as Record<string, unknown>, '/oauth2');
    const checked = (method: 'GET' | 'POST', path: string, test: supertest.Test) => test.expect((res) => openApi.checkResponse(method, path, res));
    const tpp = {
      get: (path: string) => checked('GET', path, supertest(base).get(path).ca(ca).cert(cert).key(key)),
      post: (path: string) => checked('POST', path, supertest(base).post(path).ca(ca).cert(cert).key(key)),
    };
    const introspect = (token: string) => checked('POST', '/oauth2/introspect', supertest(base).post('/oauth2/introspect').ca(ca).type('form'))
      .set('Authorization', `Basic ${Buffer.from(`${API_ID}:${API_SECRET}`).toString('base64')}`).send({ token });

    const registered = await tpp.post('/oauth2/register').send({ client_name: 'Restart Pay', scope: 'pisp' });
    expect(registered.status, registered.text).to.equal(201);
    const clientId = String(registered.body.client_id);
    const managementPath = new URL(String(registered.body.registration_client_uri)).pathname;
    const issue = () => tpp.post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: clientId });
    const token = await issue();
    expect(token.status, token.text).to.equal(200);
    const accessToken = String(token.body.access_token);
    const before = await introspect(accessToken);
    expect(before.status, before.text).to.equal(200);
    expect(before.body).to.include({ active: true, client_id: clientId });

    // The records are in Redis, under the configured prefix.
    const { stdout } = await run('redis-cli', ['-p', String(redis.processes[0]!.port), '--scan', '--pattern', `${keyPrefix}*`]);
    expect(stdout.split('\n').some((line) => isRecordOf(line, 'Client', clientId)), stdout).to.equal(true);

    expect(await terminate(child!, 10_000), 'exit code after SIGTERM').to.equal(0);
    child = undefined;
    const again = await startApp();
    expect(again).to.match(/storage: +Redis/);
    expect(again).to.contain(`using the development PKI and keys in ${dir}`);

    const read = await tpp.get(managementPath);
    expect(read.status, read.text).to.equal(200);
    expect(read.body).to.include({ client_id: clientId, client_name: 'Restart Pay', provider_legal_id: 'PSDFR-NCA-RESTARTPAY' });
    const after = await introspect(accessToken);
    expect(after.status, after.text).to.equal(200);
    expect(after.body).to.include({ active: true, client_id: clientId, scope: 'pisp' });
    const next = await issue();
    expect(next.status, next.text).to.equal(200);
    expect(next.body.access_token).to.be.a('string').and.not.equal(accessToken);
    expect((await introspect(String(next.body.access_token))).body).to.include({ active: true, client_id: clientId });
  });
});
