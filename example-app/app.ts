/**
 * A bank's existing Express app, small on purpose: it has its own pages and middleware, and mounts
 * the PSD2 authorization server under /oauth2. Its demo payment API (`/api/payments`) opens
 * payment authorizations as a bank's payment API would.
 */
import express, { type NextFunction, type Request, type Response } from 'express';

import { createAuthorizationServer, type AuthorizationServer, type AuthorizationServerOptions } from '../lib/index.js';
import { DemoPaymentApi } from './payment-api.js';

export function createExampleApp(options: AuthorizationServerOptions): { app: express.Express; auth: AuthorizationServer } {
  const app = express();
  app.disable('x-powered-by');
  // X-Forwarded-For is believed from the bank's own proxies only, the ones the authorization server
  // takes the client certificate header from: req.ip is then the address they saw.
  const proxies = options.clientCertificateHeader?.trustedProxies;
  if (proxies?.length) app.set('trust proxy', [...proxies]);

  // The payment API is told each payment's outcome by the authorization server.
  const paymentApi = new DemoPaymentApi(options);
  const auth = createAuthorizationServer({
    ...options,
    payments: {
      ...options.payments,
      onOutcome: async (outcome) => {
        paymentApi.onOutcome(outcome);
        await options.payments?.onOutcome?.(outcome);
      },
    },
  });
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
  api.use('/payments', paymentApi.router(auth));
  app.use('/api', api);
  // A body the JSON parser refused, or any other failure under /api: a JSON error.
  app.use('/api', (error: { status?: unknown; expose?: unknown; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    res.status(status).json(status < 500
      ? { error: 'invalid_request', error_description: error.expose ? String(error.message) : 'the request could not be understood' }
      : { error: 'server_error', error_description: 'the request failed' });
  });
  app.get('/', (_req, res) => {
    res.type('text/plain').send(`Example Bank. OAuth 2 metadata: ${options.issuer}/.well-known/oauth-authorization-server\n`);
  });
  return { app, auth };
}
