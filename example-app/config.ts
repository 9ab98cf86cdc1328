/**
 * Reads the example app's configuration from the environment. Anything not set falls back to the
 * development PKI and keys, with a warning: fine on a laptop, never in production.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

import { EbaRegister, type AuthorizationServerOptions, type SandboxPsu } from '../lib/index.js';
import { DemoBank } from './demo-bank.js';
import { devPki } from '../tools/dev-pki/dev-pki.js';
import { qtspPortFrom } from '../tools/dev-pki/dev-qtsp.js';
import demoCustomers from './fixtures/demo-customers.json' with { type: 'json' };
import sandboxPsus from './fixtures/sandbox-psus.json' with { type: 'json' };
import type { Authority } from '../tools/dev-pki/pki.js';

/** Limits of the HTTPS server: how long a client may take, how many may be connected. */
export interface ServerLimits {
  /** `TLS_HANDSHAKE_TIMEOUT_MS`: milliseconds to complete the TLS handshake (Node's default: 120 s). */
  readonly handshakeTimeout: number;
  /** `HEADERS_TIMEOUT_MS`: milliseconds to send the request line and headers (Node's default: 60 s). */
  readonly headersTimeout: number;
  /** `REQUEST_TIMEOUT_MS`: milliseconds to send the whole request, body included (Node's default: 300 s). */
  readonly requestTimeout: number;
  /** `KEEP_ALIVE_TIMEOUT_MS`: milliseconds an idle connection is kept open after an answer (Node's default: 5 s). */
  readonly keepAliveTimeout: number;
  /** `MAX_CONNECTIONS`: connections open at once; more are closed as they arrive (Node's default: no limit). */
  readonly maxConnections: number;
}

export interface ExampleConfig {
  readonly port: number;
  /** `METRICS_PORT`: the operations listener's port on 127.0.0.1; undefined when not set. */
  readonly metricsPort: number | undefined;
  readonly server: ServerLimits;
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string[] };
  readonly options: AuthorizationServerOptions;
  readonly warnings: string[];
  readonly devPkiDir: string | undefined;
  /** The development QTSPs whose status services the app serves, when their anchors are in use. */
  readonly devQtsp: {
    readonly dir: string;
    /** `QTSP_PORT`; undefined when not set. */
    readonly port: number | undefined;
    readonly authorities: { readonly sandbox: Authority; readonly bank: Authority };
  } | undefined;
}

type RevocationMode = 'hard' | 'soft' | 'off';

function readFile(variable: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`${variable}=${path} cannot be read: ${(error as Error).message}`, { cause: error });
  }
}

/** `TRUSTED_PROXIES`: comma-separated IPv4/IPv6 addresses and CIDR ranges. */
function trustedProxies(value: string | undefined): string[] {
  const entries = (value ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of entries) {
    const [address = '', prefix, ...rest] = entry.split('/');
    const version = isIP(address);
    if (!version || rest.length || prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (version === 4 ? 32 : 128))) {
      throw new Error(`TRUSTED_PROXIES: "${entry}" is not an IP address or CIDR range (e.g. 10.0.0.5, 10.0.0.0/24, fd00::/8)`);
    }
  }
  return entries;
}

function revocationMode(env: NodeJS.ProcessEnv, variable: 'REVOCATION_BANK' | 'REVOCATION_SANDBOX', fallback: RevocationMode): RevocationMode {
  const value = env[variable];
  if (value === undefined || value === '') return fallback;
  if (value !== 'hard' && value !== 'soft' && value !== 'off') throw new Error(`${variable}=${value}: must be hard, soft or off`);
  return value;
}

function revocationMaxAge(value: string | undefined): number {
  if (value === undefined || value === '') return 3600;
  const seconds = Number(value);
  if (!/^\d+$/.test(value) || seconds < 1 || seconds > 86400) {
    throw new Error(`REVOCATION_MAX_AGE=${value}: must be a whole number of seconds from 1 to 86400`);
  }
  return seconds;
}

function wholeNumber(env: NodeJS.ProcessEnv, variable: string, fallback: number, min: number, max: number): number {
  const value = env[variable];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) throw new Error(`${variable}=${value}: must be a whole number from ${min} to ${max}`);
  return number;
}

/**
 * `EBA_REGISTER`: where the EBA PSD2 register is (an `https:`, `http:` or `file:` URL of its ZIP,
 * or of its JSON); `BANK_COUNTRY` (default `FR`): where TPPs must be licensed;
 * `EBA_REGISTER_REFRESH`: seconds between two loads (default a day); `EBA_REGISTER_SWEEP`: seconds
 * between two sweeps (0: none; default a day); `EBA_REGISTER_DIR`: where downloads go and the last
 * good file is kept for a restart; `EBA_REGISTER_EXEMPT`: organization identifiers, comma-separated,
 * the bank vouches for.
 */
function tppRegisterFrom(env: NodeJS.ProcessEnv): AuthorizationServerOptions['tppRegister'] {
  if (!env.EBA_REGISTER) return undefined;
  const country = env.BANK_COUNTRY || 'FR';
  if (!/^[A-Z]{2}$/.test(country)) throw new Error(`BANK_COUNTRY=${country}: must be a two-letter country code, e.g. FR`);
  let register: EbaRegister;
  try {
    register = new EbaRegister({ url: env.EBA_REGISTER, ...(env.EBA_REGISTER_DIR ? { directory: env.EBA_REGISTER_DIR } : {}) });
  } catch (error) {
    throw new Error(`EBA_REGISTER=${env.EBA_REGISTER}: must be an https:, http: or file: URL`, { cause: error });
  }
  const exemptions = (env.EBA_REGISTER_EXEMPT ?? '').split(',').map((organization) => organization.trim()).filter(Boolean);
  return {
    register,
    country,
    refreshInterval: wholeNumber(env, 'EBA_REGISTER_REFRESH', 86_400, 1, 604_800),
    sweepInterval: wholeNumber(env, 'EBA_REGISTER_SWEEP', 86_400, 0, 604_800),
    exemptions,
  };
}

/** A port number from `variable` (0: any free port), or undefined when it is not set. */
function portFrom(env: NodeJS.ProcessEnv, variable: string): number | undefined {
  const value = env[variable];
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new Error(`${variable}=${value} is not a port number`);
  return port;
}

/** The HTTPS server's limits, from the environment; defaults fit TPPs and PSU browsers alike. */
function serverLimits(env: NodeJS.ProcessEnv): ServerLimits {
  const limits = {
    handshakeTimeout: wholeNumber(env, 'TLS_HANDSHAKE_TIMEOUT_MS', 10_000, 100, 120_000),
    headersTimeout: wholeNumber(env, 'HEADERS_TIMEOUT_MS', 20_000, 100, 300_000),
    requestTimeout: wholeNumber(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    keepAliveTimeout: wholeNumber(env, 'KEEP_ALIVE_TIMEOUT_MS', 5000, 100, 600_000),
    maxConnections: wholeNumber(env, 'MAX_CONNECTIONS', 1000, 1, 1_000_000),
  };
  if (limits.headersTimeout > limits.requestTimeout) {
    throw new Error(`HEADERS_TIMEOUT_MS=${limits.headersTimeout} must not exceed REQUEST_TIMEOUT_MS=${limits.requestTimeout}: the headers are part of the request`);
  }
  return limits;
}

/**
 * `EU_TRUSTED_LIST_URL` (https, http or file URL of the EU list of trusted lists) and
 * `EU_TRUSTED_LIST_SIGNERS` (PEM file of its signing certificates as the Official Journal publishes
 * them): the bank environment's QTSPs from the signed lists. Both or neither.
 */
function euTrustedList(env: NodeJS.ProcessEnv): { url: string; signers: string } | undefined {
  const url = env.EU_TRUSTED_LIST_URL;
  const signers = env.EU_TRUSTED_LIST_SIGNERS;
  if (!url && !signers) return undefined;
  if (!url || !signers) {
    throw new Error('EU_TRUSTED_LIST_URL and EU_TRUSTED_LIST_SIGNERS go together: the list\'s location and the PEM file of the certificates '
      + 'allowed to sign it (as published in the Official Journal of the EU)');
  }
  if (!/^(https?|file):/.test(url)) throw new Error(`EU_TRUSTED_LIST_URL=${url}: must be an https, http or file URL`);
  return { url, signers: readFile('EU_TRUSTED_LIST_SIGNERS', signers) };
}

export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<ExampleConfig> {
  const warnings: string[] = [];
  const port = Number(env.PORT ?? 8443);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT=${env.PORT} is not a port number`);

  // Settings that need no file are checked before the development PKI is generated.
  const proxies = trustedProxies(env.TRUSTED_PROXIES);
  if (env.CLIENT_CERT_HEADER && !proxies.length) {
    throw new Error('CLIENT_CERT_HEADER is set but TRUSTED_PROXIES is not: set TRUSTED_PROXIES to the addresses or CIDR ranges '
      + 'of the proxies that set that header (comma-separated); a certificate header from anyone else must not be believed');
  }
  if (proxies.length && !env.CLIENT_CERT_HEADER) {
    throw new Error('TRUSTED_PROXIES is set but CLIENT_CERT_HEADER is not: TRUSTED_PROXIES names the proxies that set the '
      + 'client certificate header; set both, or neither when TLS ends at this app');
  }
  const revocation = {
    bank: revocationMode(env, 'REVOCATION_BANK', 'hard'),
    sandbox: revocationMode(env, 'REVOCATION_SANDBOX', 'soft'),
    maxAge: revocationMaxAge(env.REVOCATION_MAX_AGE),
  };
  const qtspPort = qtspPortFrom(env.QTSP_PORT);
  const metricsPort = portFrom(env, 'METRICS_PORT');
  const server = serverLimits(env);
  // Sandbox consents short enough for TPPs to test their re-consent path (60 s to 180 days).
  const sandboxConsentLifetime = env.CONSENT_LIFETIME_SANDBOX ? wholeNumber(env, 'CONSENT_LIFETIME_SANDBOX', 0, 60, 180 * 86_400) : undefined;

  const trustedList = euTrustedList(env);
  const needsDev = !env.TLS_CERT || !env.TLS_KEY || !env.SANDBOX_TRUST_ANCHORS && !env.BANK_TRUST_ANCHORS
    || !env.SIGNING_KEYS || !env.COOKIE_KEYS;
  const dev = needsDev ? await devPki(env.DEV_PKI_DIR || undefined) : undefined;
  if (dev) {
    warnings.push(`${dev.created ? 'generated' : 'using'} the development PKI and keys in ${dev.dir} for what is not configured: never use them in production`);
  }

  const anchors = (variable: 'SANDBOX_TRUST_ANCHORS' | 'BANK_TRUST_ANCHORS', fallback: string | undefined) => {
    const path = env[variable];
    if (path) return readFile(variable, path);
    return env.SANDBOX_TRUST_ANCHORS || env.BANK_TRUST_ANCHORS ? undefined : fallback;
  };
  const sandboxAnchors = anchors('SANDBOX_TRUST_ANCHORS', dev?.sandboxQtsp.certPem);
  // With the EU trusted lists, the bank trusts no development QTSP unless BANK_TRUST_ANCHORS names it.
  const bankAnchors = anchors('BANK_TRUST_ANCHORS', trustedList ? undefined : dev?.bankQtsp.certPem);

  const tls = {
    cert: env.TLS_CERT ? readFile('TLS_CERT', env.TLS_CERT) : (dev?.serverCertPem ?? ''),
    key: env.TLS_KEY ? readFile('TLS_KEY', env.TLS_KEY) : (dev?.serverKeyPem ?? ''),
    // Advertised to clients in the TLS CertificateRequest as acceptable issuers.
    ca: [sandboxAnchors, bankAnchors].filter((pem): pem is string => Boolean(pem)),
  };
  const signingKeys = env.SIGNING_KEYS
    ? JSON.parse(readFile('SIGNING_KEYS', env.SIGNING_KEYS)) as AuthorizationServerOptions['signingKeys']
    : dev?.signingKeys ?? { keys: [] };
  const testPsus = env.SANDBOX_PSUS ? JSON.parse(readFile('SANDBOX_PSUS', env.SANDBOX_PSUS)) as SandboxPsu[] : sandboxPsus;
  // The bank plugs in its own customer login and account directory here.
  const bank = new DemoBank(demoCustomers);
  const cookieKeys = env.COOKIE_KEYS ? env.COOKIE_KEYS.split(',').map((key) => key.trim()) : [dev?.cookieKey ?? ''];

  // The bank's PSD2 API instances that may introspect tokens: `id:secret`, comma-separated.
  const resourceServers = (env.RESOURCE_SERVER_CREDENTIALS ?? '').split(',').map((entry) => entry.trim()).filter(Boolean).map((entry) => {
    const colon = entry.indexOf(':');
    if (colon < 1) throw new Error('RESOURCE_SERVER_CREDENTIALS must hold id:secret pairs, comma-separated');
    return { id: entry.slice(0, colon), secret: entry.slice(colon + 1) };
  });
  const tppRegister = tppRegisterFrom(env);
  const options: AuthorizationServerOptions = {
    issuer: env.ISSUER ?? `https://localhost:${port}/oauth2`,
    signingKeys,
    cookieKeys,
    environments: {
      ...(sandboxAnchors ? { sandbox: { trustAnchors: sandboxAnchors, requireQualifiedStatements: env.SANDBOX_REQUIRE_QC_STATEMENTS === 'true', testPsus } } : {}),
      ...(bankAnchors || trustedList ? {
        bank: { ...(bankAnchors ? { trustAnchors: bankAnchors } : {}), ...(trustedList ? { trustedList } : {}), authenticator: bank, accounts: bank },
      } : {}),
    },
    ...(resourceServers.length ? { resourceServers } : {}),
    ...(sandboxConsentLifetime ? { tokens: { consentLifetime: { sandbox: sandboxConsentLifetime } } } : {}),
    ...(env.DEFAULT_LANGUAGE ? { pages: { defaultLanguage: env.DEFAULT_LANGUAGE as 'de' | 'en' | 'fr' } } : {}),
    ...(env.CLIENT_CERT_HEADER ? {
      clientCertificateHeader: {
        header: env.CLIENT_CERT_HEADER,
        ...(env.CLIENT_CERT_CHAIN_HEADER ? { chainHeader: env.CLIENT_CERT_CHAIN_HEADER } : {}),
        trustedProxies: proxies,
      },
      trustProxy: true,
    } : {}),
    // The status of each TPP certificate, from the OCSP responder and CRLs its certificate names.
    revocation,
    ...(tppRegister ? { tppRegister } : {}),
  };
  const devAnchors = dev && !env.SANDBOX_TRUST_ANCHORS && !env.BANK_TRUST_ANCHORS;
  const devQtsp = devAnchors ? { dir: dev.dir, port: qtspPort, authorities: { sandbox: dev.sandboxQtsp, bank: dev.bankQtsp } } : undefined;
  return { port, metricsPort, server, tls, options, warnings, devPkiDir: dev?.dir, devQtsp };
}
