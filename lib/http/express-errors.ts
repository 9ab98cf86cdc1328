import type { NextFunction, Request, Response } from 'express';

import { CertificateRejectedError } from '../certificates/identity.js';
import { InvalidRequestError, OAuthError, ServerError, sendError } from '../errors.js';
import type { Logger } from '../logger.js';

export type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void> | void;

/** Runs `handler`; what it throws is answered as the RFC error it is (a 500 for anything else), and logged. */
export function guarded(handler: Handler, logger: Logger): Handler {
  return async (req, res, next) => {
    try {
      await handler(req, res, next);
    } catch (error) {
      if (error instanceof OAuthError) {
        if (error.status >= 500) logger.error({ err: error.cause ?? error }, 'request failed');
        else if (error instanceof CertificateRejectedError) {
          logger.warn({ event: 'certificate.rejected', reason: error.reason, peer: req.socket.remoteAddress, path: req.originalUrl }, error.error_description);
        }
        sendError(res, error);
        return;
      }
      logger.error({ err: error }, 'request failed');
      sendError(res, new ServerError());
    }
  };
}

/** Errors raised by Express itself (e.g. a path parameter with broken percent-encoding). */
export function expressErrors(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      sendError(res, new InvalidRequestError(
        error instanceof URIError ? 'the request path holds malformed percent-encoding' : 'the request could not be understood',
        status,
      ));
      return;
    }
    logger.error({ err: error, path: req.originalUrl }, 'request failed');
    sendError(res, new ServerError());
  };
}
