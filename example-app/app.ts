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
  const paymentApi = new DemoPaymentApi();
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
  // RFC 8414 §3.1 metadata URL of the issuer, at the site root: /.well-known/oauth-authorization-server/oauth2.
  app.use(auth.wellKnown);

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
  app.get('/', (_req, res) => {
    res.type('text/plain').send(`Example Bank. OAuth 2 metadata: ${options.issuer}/.well-known/oauth-authorization-server\n`);
  });

  // Last: whatever no route answered, and whatever failed, gets a JSON error, never Express's HTML
  // page with a stack trace. A refused body stays out of the answer and out of the log.
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', error_description: 'there is no such resource' });
  });
  app.use((error: HttpError, req: Request, res: Response, next: NextFunction) => {
    // The answer has begun: Express's own handler ends the connection.
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) {
      console.error(JSON.stringify({
        level: 'error',
        time: new Date().toISOString(),
        event: 'request.failed',
        method: req.method,
        path: req.path,
        err: { type: error.name, message: error.message, stack: error.stack },
        msg: 'request failed',
      }));
    }
    res.status(status).set('Cache-Control', 'no-store').json(status < 500
      ? { error: 'invalid_request', error_description: REFUSED_BODIES[String(error.type)] ?? 'the request could not be understood' }
      : { error: 'server_error', error_description: 'the request failed' });
  });
  return { app, auth };
}

/** What Express's body parsers throw: an HTTP status, and a `type` naming the refusal. */
type HttpError = Error & { status?: unknown; type?: unknown };

/** Descriptions of the body parsers' refusals, by `type`: fixed texts, never the parser's message (it quotes the body). */
const REFUSED_BODIES: Record<string, string> = {
  'entity.parse.failed': 'the request body is not valid JSON',
  'entity.too.large': 'the request body is too large',
  'entity.verify.failed': 'the request body could not be verified',
  'charset.unsupported': 'the request body has an unsupported charset',
  'encoding.unsupported': 'the request body has an unsupported content encoding',
  'request.size.invalid': 'the request body does not match its Content-Length',
  'request.aborted': 'the request was aborted',
};
