/** Starts the example app over HTTPS with client certificates requested (`npm start`). */
import { createServer } from 'node:https';

import { createExampleApp } from './app.js';
import { loadConfig } from './config.js';

const config = await loadConfig();
for (const warning of config.warnings) console.warn(`WARNING: ${warning}`);

const { app } = createExampleApp(config.options);
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
  if (config.devPkiDir) {
    console.log(`  development PKI: ${config.devPkiDir} (server CA: server-ca.pem)`);
    console.log('  mint a TPP certificate: npm run tpp-cert -- --roles PSP_AI --org "Acme"');
  }
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
