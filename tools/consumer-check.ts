/**
 * The package as a bank's platform team adopts it: `npm pack`, the tarball installed in a new
 * project outside the repository (`"type": "module"`, NodeNext, `strict`, `skipLibCheck: false`)
 * with express and its types, the README's "Mounting it in your app" snippet as that project's
 * app.ts, type-checked with the TypeScript this repository builds with and with TypeScript 7, then
 * compiled, started over HTTPS, and asked for its metadata. The snippet is read from README.md
 * (the block after the consumer-check marker), so the two cannot drift apart.
 *
 * Run after `npm run build` (CI does): `npx tsx tools/consumer-check.ts`. CONSUMER_CHECK_KEEP=1
 * keeps the project folder and prints where it is.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { createAuthority, issueServerCertificate } from './dev-pki/pki.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MARKER = '<!-- tools/consumer-check.ts ';
/** The current major of TypeScript, as npm publishes it. */
const NEXT_TYPESCRIPT = 'typescript@^7';

const exec = promisify(execFile);

/** The first ```ts block after the marker in README.md. */
function readmeSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const marker = readme.indexOf(MARKER);
  if (marker < 0) throw new Error(`README.md has no line starting with ${MARKER}`);
  const block = /```ts\n([\s\S]*?)\n```/.exec(readme.slice(marker));
  if (!block?.[1]) throw new Error('README.md has no ```ts block after the consumer-check marker');
  return `${block[1]}\n`;
}

/** What the snippet imports from `./bank.js`: the bank's own code, reduced to what type-checks and starts. */
const BANK_MODULE = `import express from 'express';
import type { AccountLookup, PsuAuthenticator, SandboxPsu } from 'psd2-oauth2-server';

export const sandboxCustomers: SandboxPsu[] = [
  { id: 'sandbox-psu-1', name: 'Camille Martin', accounts: [{ id: 'acc-1', iban: 'FR7630006000011234567890189', name: 'Compte courant', currency: 'EUR' }] },
];

export const bankLogin: PsuAuthenticator = {
  async verifyCredentials() {
    return { outcome: 'failed' };
  },
  async verifySecondFactor() {
    return { outcome: 'failed' };
  },
};

export const accountDirectory: AccountLookup = {
  async accountsOf() {
    return [];
  },
};

export const bankApiRouter = express.Router().get('/health', (_req, res) => {
  res.json({ status: 'ok' });
});
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'out',
    rootDir: '.',
  },
  include: ['app.ts', 'bank.ts'],
};

async function run(command: string, args: readonly string[], cwd: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` || failed.message };
  }
}

async function must(command: string, args: readonly string[], cwd: string): Promise<string> {
  const { ok, output } = await run(command, args, cwd);
  if (!ok) throw new Error(`${command} ${args.join(' ')} failed:\n${output}`);
  return output;
}

/** The keys, certificates and trust anchors the snippet reads from PSD2_CONFIG. */
async function writeConfiguration(dir: string): Promise<{ serverCa: string }> {
  mkdirSync(dir, { recursive: true });
  const serverCa = await createAuthority('Consumer Check Server CA');
  const server = await issueServerCertificate(serverCa, ['localhost', '127.0.0.1']);
  const sandbox = await createAuthority('Consumer Check Sandbox QTSP');
  const bank = await createAuthority('Consumer Check Bank QTSP');
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const files: Record<string, string> = {
    'signing-keys.json': JSON.stringify({ keys: [{ ...key, kid: 'consumer-check', use: 'sig', alg: 'RS256' }] }),
    'sandbox-qtsps.pem': sandbox.certPem,
    'eu-qtsps.pem': bank.certPem,
    'tls-key.pem': server.keyPem,
    'tls-cert.pem': server.certPem,
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content, { mode: 0o600 });
  return { serverCa: serverCa.certPem };
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function getJson(port: number, path: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, servername: 'localhost', timeout: 5000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch {
          reject(new Error(`GET ${path}: ${res.statusCode} ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Starts the compiled app and reads its metadata, at the issuer's path and through `wellKnown`. */
async function startAndFetch(project: string, config: string, ca: string): Promise<void> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['out/app.js'], {
    cwd: project,
    env: { ...process.env, PSD2_CONFIG: config, COOKIE_KEY: randomBytes(32).toString('base64url'), PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const exited = new Promise<never>((_resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`the app exited (${signal ?? code}) before answering:\n${output}`)));
  });
  try {
    const deadline = Date.now() + 30_000;
    let metadata: { status: number; body: unknown } | undefined;
    while (!metadata) {
      try {
        metadata = await Promise.race([getJson(port, '/oauth2/.well-known/oauth-authorization-server', ca), exited]);
      } catch (error) {
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    const document = metadata.body as Record<string, unknown>;
    const issuer = String(document.issuer);
    if (metadata.status !== 200 || !issuer.endsWith('/oauth2') || document.token_endpoint !== `${issuer}/token`) {
      throw new Error(`unexpected metadata (${metadata.status}): ${JSON.stringify(document).slice(0, 500)}`);
    }
    const rooted = await getJson(port, '/.well-known/oauth-authorization-server/oauth2', ca);
    if (rooted.status !== 200 || (rooted.body as Record<string, unknown>).issuer !== issuer) {
      throw new Error(`the metadata at the site root differs (${rooted.status}): ${JSON.stringify(rooted.body).slice(0, 500)}`);
    }
    console.log(`started: ${issuer} publishes its metadata at /oauth2/.well-known/oauth-authorization-server and /.well-known/oauth-authorization-server/oauth2`);
  } finally {
    child.kill();
  }
}

async function main(): Promise<boolean> {
  const snippet = readmeSnippet();
  const project = mkdtempSync(join(tmpdir(), 'psd2-consumer-'));
  const keep = process.env.CONSUMER_CHECK_KEEP === '1';
  const problems: string[] = [];
  try {
    const packed = JSON.parse(await must('npm', ['pack', '--json', '--pack-destination', project], ROOT)) as { filename: string }[];
    const tarball = packed[0]?.filename;
    if (!tarball) throw new Error('npm pack named no tarball');
    const buildTypescript = (JSON.parse(readFileSync(join(ROOT, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }).version;
    writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'psd2-consumer', private: true, type: 'module' }, null, 2)}\n`);
    writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify(TSCONFIG, null, 2)}\n`);
    writeFileSync(join(project, 'app.ts'), snippet);
    writeFileSync(join(project, 'bank.ts'), BANK_MODULE);
    // As a bank installs it; no dependency's install script runs here.
    await must('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `./${tarball}`, 'express@^5', '@types/express@^5', '@types/node@^22',
      `typescript@${buildTypescript}`, `typescript-next@npm:${NEXT_TYPESCRIPT}`], project);

    for (const [name, tsc] of [['typescript', 'node_modules/typescript/bin/tsc'], ['typescript-next', 'node_modules/typescript-next/bin/tsc']] as const) {
      const version = (JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
      const { ok, output } = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit'], project);
      console.log(`tsc --noEmit with TypeScript ${version}: ${ok ? 'no errors' : 'errors'}`);
      if (!ok) {
        console.log(output.trimEnd());
        problems.push(`TypeScript ${version} reports errors`);
      }
    }

    // Compiled as the bank's build would (emitted even where the types are refused), then started.
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], project);
    const config = join(project, 'config');
    const { serverCa } = await writeConfiguration(config);
    await startAndFetch(project, config, serverCa).catch((error: unknown) => {
      problems.push(`the app: ${(error as Error).message}`);
    });
  } finally {
    if (keep) console.log(`project kept in ${project}`);
    else rmSync(project, { recursive: true, force: true });
  }
  for (const problem of problems) console.error(`consumer check: ${problem}`);
  return problems.length === 0;
}

main().then((ok) => {
  console.log(ok ? 'consumer check passed' : 'consumer check failed');
  process.exitCode = ok ? 0 : 1;
}, (error: unknown) => {
  console.error(`consumer check failed: ${(error as Error).message}`);
  process.exitCode = 1;
});
