/** Starts the example app over HTTPS with client certificates requested (`npm start`). */
import { createServer } from 'node:https';

import { createExampleApp } from './app.js';
import { loadConfig } from './config.js';
import { connectRedis } from './redis.js';

const config = await loadConfig();
for (const warning of config.warnings) console.warn(`WARNING: ${warning}`);

// REDIS_URL switches from in-memory storage (lost at exit) to Redis.
const redis = process.env.REDIS_URL
  ? await connectRedis(process.env.REDIS_URL, process.env.REDIS_KEY_PREFIX || undefined, (message) => console.warn(message))
  : undefined;
if (!redis) console.warn('WARNING: in-memory storage: everything is lost when the app stops (set REDIS_URL to keep it)');

const { app } = createExampleApp({ ...config.options, ...(redis ? { storage: redis.storage } : {}) });
const server = createServer({
  cert: config.tls.cert,
  key: config.tls.key,
  ca: config.tls.ca,
  requestCert: true,
  rejectUnauthorized: false,
}, app);

server.listen(config.port, () => {
  console.log(`Example bank listening on https://localhost:${config.port}`);
  console.log(`  issuer:   ${config.options.issuer}`);
  console.log(`  metadata: ${config.options.issuer}/.well-known/oauth-authorization-server`);
  console.log(`  storage:  ${redis ? 'Redis' : 'in memory'}`);
  if (config.devPkiDir) {
    console.log(`  development PKI: ${config.devPkiDir} (server CA: server-ca.pem)`);
    console.log('  mint a TPP certificate: npm run tpp-cert -- --roles PSP_AI --org "Acme"');
  }
});

const stop = () => server.close(() => {
  void (redis?.close() ?? Promise.resolve()).finally(() => process.exit(0));
});
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
