/** Starts the example app over HTTPS with client certificates requested (`npm start`). */
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:https';
import { join } from 'node:path';

import { stderrLogger } from '../lib/logger.js';
import { createExampleApp } from './app.js';
import { loadConfig, type ExampleConfig } from './config.js';
import { createDevQtspServer, DEFAULT_QTSP_PORT, QTSP_URL_FILE, qtspBaseUrl } from '../tools/dev-pki/dev-qtsp.js';
import { listenAt } from './loopback.js';
import { startOperations } from './operations.js';
import { connectRedis, type ExampleRedis } from './redis.js';

function refuse(error: unknown): never {
  console.error(`The example app cannot start: ${(error as Error).message}`);
  process.exit(1);
}

/**
 * Serves the development QTSPs' OCSP responder and CRLs on loopback, and records their base URL
 * in the PKI folder for `npm run tpp-cert`.
 */
async function startDevQtsp(devQtsp: NonNullable<ExampleConfig['devQtsp']>): Promise<{ server: Server; base: string }> {
  const server = createDevQtspServer(devQtsp.dir, devQtsp.authorities);
  const port = await listenAt(server, {
    what: 'the development QTSPs',
    variable: 'QTSP_PORT',
    port: devQtsp.port,
    fallback: DEFAULT_QTSP_PORT,
    moved: (other) => `the development QTSPs answer on port ${other} instead; certificates minted earlier name the port they were minted with (set QTSP_PORT to keep one)`,
  }, (message) => console.warn(`WARNING: ${message}`));
  const base = qtspBaseUrl(port);
  writeFileSync(join(devQtsp.dir, QTSP_URL_FILE), `${base}\n`);
  return { server, base };
}

const config = await loadConfig().catch(refuse);
for (const warning of config.warnings) console.warn(`WARNING: ${warning}`);
const qtsp = config.devQtsp ? await startDevQtsp(config.devQtsp).catch(refuse) : undefined;

// REDIS_URL switches from in-memory storage (lost at exit) to Redis.
const redis: ExampleRedis | undefined = process.env.REDIS_URL
  ? await connectRedis(process.env.REDIS_URL, process.env.REDIS_KEY_PREFIX || undefined, stderrLogger)
  : undefined;
if (!redis) console.warn('WARNING: in-memory storage: everything is lost when the app stops (set REDIS_URL to keep it)');

let example;
try {
  example = createExampleApp({ ...config.options, ...(redis ? { storage: redis.storage } : {}) });
} catch (error) {
  qtsp?.server.close();
  await redis?.close();
  refuse(error);
}
const { app, auth } = example;
// expiry_days{kind="server_certificate"}: the server never sees the TLS certificate it is served with.
auth.metrics.setServerCertificate(config.tls.cert);
// Metrics, health and the PSD2 statistics on a private listener (METRICS_PORT, 127.0.0.1 only).
const operations = await startOperations(auth, config.metricsPort, (message) => console.warn(`WARNING: ${message}`)).catch(async (error: unknown) => {
  qtsp?.server.close();
  await auth.close();
  await redis?.close();
  return refuse(error);
});
const limits = config.server;
const server = createServer({
  cert: config.tls.cert,
  key: config.tls.key,
  ca: config.tls.ca,
  requestCert: true,
  rejectUnauthorized: false,
  // A client that connects and then stalls holds a socket (and a TLS handshake's memory): each step
  // has its deadline, and the connections held at once are bounded.
  handshakeTimeout: limits.handshakeTimeout,
  headersTimeout: limits.headersTimeout,
  requestTimeout: limits.requestTimeout,
  keepAliveTimeout: limits.keepAliveTimeout,
  // How often those deadlines are checked (Node's default: every 30 s).
  connectionsCheckingInterval: Math.min(1000, limits.headersTimeout),
}, app);
server.maxConnections = limits.maxConnections;
// The issuers the listener announces in its certificate request include the QTSPs of the EU trusted
// lists in use: some clients send only a certificate from an announced issuer.
auth.trustedLists?.onChange((anchors) => {
  server.setSecureContext({ cert: config.tls.cert, key: config.tls.key, ca: [...config.tls.ca, ...anchors.map((anchor) => anchor.toString())] });
});

server.listen(config.port, () => {
  const { revocation, clientCertificateHeader } = config.options;
  console.log(`Example bank listening on https://localhost:${config.port}`);
  console.log(`  issuer:   ${config.options.issuer}`);
  console.log(`  metadata: ${config.options.issuer}/.well-known/oauth-authorization-server`);
  console.log(`  storage:  ${redis ? 'Redis' : 'in memory'}`);
  console.log(`  operations: ${operations.base}/metrics, /health/live, /health/ready, /statistics?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]`);
  console.log('  log:      JSON lines on standard error, info and up (the audit trail)');
  console.log(`  limits:   TLS handshake ${limits.handshakeTimeout} ms, headers ${limits.headersTimeout} ms, request ${limits.requestTimeout} ms, `
    + `keep-alive ${limits.keepAliveTimeout} ms, ${limits.maxConnections} connections`);
  if (revocation) {
    console.log(`  certificate status: bank ${revocation.bank}, sandbox ${revocation.sandbox}; a good status is kept ${revocation.maxAge} s`);
  }
  if (config.options.tppRegister) {
    const { register, country, environments = ['bank'] } = config.options.tppRegister;
    console.log(`  TPP licences: the ${register.name} (EBA_REGISTER), for ${environments.join(' and ')} TPPs in ${country}`);
  }
  const trustedList = config.options.environments.bank?.trustedList;
  if (trustedList) console.log(`  bank QTSPs: the EU trusted lists from ${trustedList.url}`);
  if (clientCertificateHeader) {
    console.log(`  client certificates: from the ${clientCertificateHeader.header} header of ${clientCertificateHeader.trustedProxies.join(', ')}`);
  }
  if (qtsp) {
    console.log(`  development QTSPs: ${['sandbox', 'bank'].map((name) => `${qtsp.base}/${name}/ocsp, ${qtsp.base}/${name}/crl`).join(', ')}`);
    console.log('  revoke a TPP certificate: npm run tpp-cert -- --revoke FILE');
  }
  if (config.devPkiDir) {
    console.log(`  development PKI: ${config.devPkiDir} (server CA: server-ca.pem)`);
    console.log('  mint a TPP certificate: npm run tpp-cert -- --roles PSP_AI --org "Acme"');
  }
});

const stop = () => server.close(() => {
  qtsp?.server.close();
  void operations.close();
  void auth.close()
    .then(() => redis?.close())
    .finally(() => process.exit(0));
});
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
