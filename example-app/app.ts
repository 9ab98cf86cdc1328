/**
 * A bank's existing Express app, small on purpose: it has its own pages and middleware, and mounts
 * the PSD2 authorization server under /oauth2.
 */
import express from 'express';

import { createAuthorizationServer, type AuthorizationServer, type AuthorizationServerOptions } from '../lib/index.js';

export function createExampleApp(options: AuthorizationServerOptions): { app: express.Express; auth: AuthorizationServer } {
  const app = express();
  app.disable('x-powered-by');
  // One proxy in front: req.ip is the address it saw, which clients cannot choose.
  if (options.trustProxy) app.set('trust proxy', 1);

  const auth = createAuthorizationServer(options);
  app.use('/oauth2', auth.router);

  // The bank's own routes and middleware, untouched by the authorization server.
  app.use(express.json());
  const api = express.Router();
  api.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  api.post('/echo', (req, res) => {
    res.json({ received: req.body as unknown });
  });
  app.use('/api', api);
  app.get('/', (_req, res) => {
    res.type('text/plain').send(`Example Bank. OAuth 2 metadata: ${options.issuer}/.well-known/oauth-authorization-server\n`);
  });
  return { app, auth };
}
