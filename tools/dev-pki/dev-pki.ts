/**
 * The development PKI of the example app, generated on first start and kept in a git-ignored
 * folder: a server certificate for https://localhost, one test QTSP per environment from which
 * `npm run tpp-cert` mints TPP certificates, and the signing and cookie keys. The QTSPs' register
 * of what they issued and revoked (`qtsp-register.ts`) and the URL of their OCSP responder and CRLs
 * (`dev-qtsp.ts`) are kept in the same folder. Never use it in production.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { createAuthority, issueServerCertificate, loadAuthority, type Authority } from './pki.js';

/** Default folder of the development PKI (git-ignored): `example-app/.dev-pki`. */
export const DEV_PKI_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'example-app', '.dev-pki');

/** The signing keys as a private JWK Set, the form of the `signingKeys` option (`SIGNING_KEYS=<dir>/signing-keys.json`). */
export const SIGNING_KEYS_FILE = 'signing-keys.json';
/** Where folders generated before kept their one key, a single JWK. */
const LEGACY_SIGNING_KEY_FILE = 'signing-key.jwk.json';

export interface JwkSet {
  readonly keys: Record<string, unknown>[];
}

export interface DevPki {
  readonly dir: string;
  readonly serverCaPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly sandboxQtsp: Authority;
  readonly bankQtsp: Authority;
  /** The private JWK Set of `signing-keys.json`. */
  readonly signingKeys: JwkSet;
  readonly cookieKey: string;
  /** True when this call generated the files. */
  readonly created: boolean;
}

async function generate(file: (name: string) => string, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const serverCa = await createAuthority('Example Bank Development Server CA');
  const server = await issueServerCertificate(serverCa, ['localhost', '127.0.0.1', '::1']);
  const sandbox = await createAuthority('Example Sandbox Test QTSP');
  const bank = await createAuthority('Example Bank Test QTSP');
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const files: Record<string, string> = {
    'server-ca.pem': serverCa.certPem,
    'server.pem': server.certPem,
    'server-key.pem': server.keyPem,
    'sandbox-qtsp.pem': sandbox.certPem,
    'sandbox-qtsp-key.pem': sandbox.keyPem,
    'bank-qtsp.pem': bank.certPem,
    'bank-qtsp-key.pem': bank.keyPem,
    [SIGNING_KEYS_FILE]: jwkSetFile({ ...signingKey, kid: `dev-${Date.now()}`, use: 'sig', alg: 'RS256' }),
    'cookie-key.txt': `${randomBytes(32).toString('base64url')}\n`,
  };
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(file(name), content, { mode: name.includes('key') ? 0o600 : 0o644 });
  }
}

function jwkSetFile(...keys: Record<string, unknown>[]): string {
  return `${JSON.stringify({ keys }, null, 2)}\n`;
}

/** A folder generated before the keys became a JWK Set: its single JWK is rewritten as a set of one. */
function migrateSigningKey(file: (name: string) => string): void {
  if (existsSync(file(SIGNING_KEYS_FILE)) || !existsSync(file(LEGACY_SIGNING_KEY_FILE))) return;
  const key = JSON.parse(readFileSync(file(LEGACY_SIGNING_KEY_FILE), 'utf8')) as Record<string, unknown>;
  writeFileSync(file(SIGNING_KEYS_FILE), jwkSetFile(key), { mode: 0o600 });
  rmSync(file(LEGACY_SIGNING_KEY_FILE));
}

/** Loads the development PKI from `dir`, generating it first when the folder is empty. */
export async function devPki(dir: string = DEV_PKI_DIR): Promise<DevPki> {
  const file = (name: string) => join(dir, name);
  const read = (name: string) => readFileSync(file(name), 'utf8');
  const created = !existsSync(file('cookie-key.txt'));
  if (created) await generate(file, dir);
  else migrateSigningKey(file);
  return {
    dir,
    serverCaPem: read('server-ca.pem'),
    serverCertPem: read('server.pem'),
    serverKeyPem: read('server-key.pem'),
    sandboxQtsp: await loadAuthority('sandbox', read('sandbox-qtsp.pem'), read('sandbox-qtsp-key.pem')),
    bankQtsp: await loadAuthority('bank', read('bank-qtsp.pem'), read('bank-qtsp-key.pem')),
    signingKeys: JSON.parse(read(SIGNING_KEYS_FILE)) as JwkSet,
    cookieKey: read('cookie-key.txt').trim(),
    created,
  };
}
