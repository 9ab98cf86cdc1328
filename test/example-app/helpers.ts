/**
 * The example app as a newcomer runs it: `npm start` in a child process with a fresh development
 * PKI, and `npm run tpp-cert` to mint TPP certificates.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import supertest from 'supertest';

import { createOpenApiValidator, type OpenApiValidator } from '../support/openapi.js';
import { freePort } from '../support/redis.js';

export const run = promisify(execFile);
export const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');

export interface ExampleApp {
  readonly dir: string;
  readonly port: number;
  /** Port of the development QTSPs' OCSP responder and CRLs (`QTSP_PORT`). */
  readonly qtspPort: number;
  /** The operations listener (metrics, health, statistics): `http://127.0.0.1:<METRICS_PORT>`. */
  readonly operations: string;
  readonly base: string;
  /** The development PKI's server CA. */
  readonly ca: string;
  /** What the app printed up to its last start-up line. */
  readonly startup: string;
  /** The validator of the app's own OpenAPI document. */
  readonly openApi: OpenApiValidator;
  /** Resolves with what the app printed (stdout and stderr) once it holds `text`; fails after `ms`. */
  waitForOutput(text: string, ms?: number): Promise<string>;
  /** `method path` on the app; answers under /oauth2/ are held to its OpenAPI document. */
  request(method: 'get' | 'post', path: string): supertest.Test;
  /** Mints a TPP certificate with `npm run tpp-cert`; returns its PEM files' contents. */
  tppCert(roles: string, org: string, env?: 'sandbox' | 'bank'): Promise<{ cert: string; key: string; stdout: string; certPath: string }>;
  /** Runs `npm run tpp-cert -- --revoke FILE` with `args` after it; returns what it printed. */
  revoke(certPath: string, ...args: string[]): Promise<string>;
  stop(): void;
}

/** Starts `example-app/server.ts` on free ports with a fresh development PKI. */
export async function startExampleApp(env: Record<string, string> = {}): Promise<ExampleApp> {
  const dir = mkdtempSync(join(tmpdir(), 'dev-pki-'));
  const port = await freePort();
  const qtspPort = env.QTSP_PORT ? Number(env.QTSP_PORT) : await freePort();
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : await freePort();
  const child: ChildProcess = spawn(tsx, ['example-app/server.ts'], {
    env: { ...process.env, PORT: String(port), DEV_PKI_DIR: dir, QTSP_PORT: String(qtspPort), METRICS_PORT: String(metricsPort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const stop = () => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  // The last line printed at start-up when the development PKI is in use.
  const startup = await new Promise<string>((resolve, reject) => {
    const check = () => {
      if (/mint a TPP certificate: .*\n/.test(output)) resolve(output);
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => reject(new Error(`example app exited with ${code}:\n${output}`)));
  }).catch((error: unknown) => {
    stop();
    throw error;
  });
  const base = `https://localhost:${port}`;
  const ca = readFileSync(join(dir, 'server-ca.pem'), 'utf8');
  const document = await supertest(base).get('/oauth2/openapi.json').ca(ca);
  const openApi = createOpenApiValidator(document.body as Record<string, unknown>, '/oauth2');
  return {
    dir,
    port,
    qtspPort,
    operations: `http://127.0.0.1:${metricsPort}`,
    base,
    ca,
    startup,
    openApi,
    waitForOutput: async (text, ms = 5000) => {
      for (const end = Date.now() + ms; !output.includes(text);) {
        if (Date.now() > end) throw new Error(`the example app did not print "${text}"; it printed:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return output;
    },
    request: (method, path) => {
      const test = supertest(base)[method](path).ca(ca);
      return path.startsWith('/oauth2/') ? test.expect((res) => openApi.checkResponse(method.toUpperCase(), path, res)) : test;
    },
    tppCert: async (roles, org, certEnv = 'sandbox') => {
      const { stdout } = await run(tsx, ['tools/dev-pki/tpp-cert.ts', '--roles', roles, '--org', org, '--env', certEnv], {
        env: { ...process.env, DEV_PKI_DIR: dir, PORT: String(port), QTSP_PORT: String(qtspPort) },
      });
      const slug = `${certEnv}-${org.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
      const certPath = join(dir, `${slug}.pem`);
      return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(join(dir, `${slug}-key.pem`), 'utf8'), stdout, certPath };
    },
    revoke: async (certPath, ...args) => {
      const { stdout } = await run(tsx, ['tools/dev-pki/tpp-cert.ts', '--revoke', certPath, ...args], {
        env: { ...process.env, DEV_PKI_DIR: dir, PORT: String(port), QTSP_PORT: String(qtspPort) },
      });
      return stdout;
    },
    stop,
  };
}

/**
 * Starts `example-app/server.ts` with `env` (and a fresh development PKI) expecting it to refuse to
 * start; resolves with its exit code and what it printed.
 */
export async function startupFailure(env: Record<string, string>, ms = 20_000): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'dev-pki-'));
  const child = spawn(tsx, ['example-app/server.ts'], {
    env: { ...process.env, PORT: String(await freePort()), DEV_PKI_DIR: dir, QTSP_PORT: String(await freePort()), METRICS_PORT: String(await freePort()), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGTERM');
        reject(new Error(`the example app did not refuse to start within ${ms} ms; it printed:\n${output}`));
      }, ms);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    return { code, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
