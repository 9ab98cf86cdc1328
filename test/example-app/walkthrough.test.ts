import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';
import supertest from 'supertest';

const run = promisify(execFile);
const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

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

describe('the example app walk-through (README)', function walkthrough() {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess;
  let port: number;
  let startup: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dev-pki-'));
    port = await freePort();
    child = spawn(tsx, ['example-app/server.ts'], {
      env: { ...process.env, PORT: String(port), DEV_PKI_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The last line printed at start-up when the development PKI is in use.
    startup = await waitForLine(child, /mint a TPP certificate: .*\n/);
  });

  after(() => {
    child?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with no configuration, generating a development PKI and saying where', () => {
    expect(startup).to.contain(`generated the development PKI and keys in ${dir}`);
    expect(startup).to.contain('never use them in production');
    expect(startup).to.contain(`https://localhost:${port}/oauth2/.well-known/oauth-authorization-server`);
  });

  it('mints a TPP certificate and registers a client with it over mutual TLS', async () => {
    const { stdout } = await run(tsx, ['example-app/tpp-cert.ts', '--roles', 'PSP_AI,PSP_PI', '--org', 'Acme'], {
      env: { ...process.env, DEV_PKI_DIR: dir, PORT: String(port) },
    });
    expect(stdout).to.contain('organizationIdentifier: PSDFR-NCA-ACME');
    const cert = readFileSync(join(dir, 'sandbox-acme.pem'), 'utf8');
    const key = readFileSync(join(dir, 'sandbox-acme-key.pem'), 'utf8');
    const ca = readFileSync(join(dir, 'server-ca.pem'), 'utf8');

    const res = await supertest(`https://localhost:${port}`).post('/oauth2/register')
      .ca(ca).cert(cert).key(key)
      .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Acme' });
    expect(res.status).to.equal(201);
    expect(res.body.provider_legal_id).to.equal('PSDFR-NCA-ACME');
    expect(res.body.psd2_environment).to.equal('sandbox');
    expect(res.body.scope).to.equal('aisp extended_transaction_history pisp');
    expect(res.body.grant_types).to.have.members(['authorization_code', 'refresh_token', 'client_credentials']);
  });

  it('keeps serving its own routes', async () => {
    const ca = readFileSync(join(dir, 'server-ca.pem'), 'utf8');
    const res = await supertest(`https://localhost:${port}`).get('/api/health').ca(ca);
    expect(res.body).to.deep.equal({ status: 'ok' });
  });

  it('refuses bad command-line input of tpp-cert with a clear message', async () => {
    let failure: { code?: number; stderr?: string } | undefined;
    try {
      await run(tsx, ['example-app/tpp-cert.ts', '--roles', 'PSP_XX'], { env: { ...process.env, DEV_PKI_DIR: dir } });
    } catch (error) {
      failure = error as { code?: number; stderr?: string };
    }
    expect(failure?.code).to.equal(2);
    expect(failure?.stderr).to.contain('unknown role PSP_XX');
  });
});
