/**
 * What every request goes through once its body is within bounds, before any route: published URLs
 * derive from the issuer, the RFC 8414 metadata path and the bank's entry page aliases are mapped
 * to oidc-provider's routes.
 */
import type { NextFunction, Request, Response } from 'express';

import type { Logger } from '../logger.js';
import type { ResolvedOptions } from '../options/index.js';
import { stateOf } from '../provider/request-state.js';
import { ROUTES, entryPattern, isReservedPath } from '../routes.js';

/** Path of the RFC 8414 metadata document under the issuer. */
export const METADATA_PATH = '/.well-known/oauth-authorization-server';

type NodeHandler = (req: Request, res: Response) => void;

export function normaliseRequests(options: ResolvedOptions, logger: Logger, provider: NodeHandler) {
  const { mountPath } = options;
  const issuerHost = new URL(options.issuer).host;
  const entries = [
    ...(options.sandbox ? [{ environment: 'sandbox' as const, pattern: entryPattern(options.sandbox.entryPath) }] : []),
    ...(options.bank ? [{ environment: 'bank' as const, pattern: entryPattern(options.bank.entryPath) }] : []),
  ];
  let mountChecked = false;

  /** The bank's published entry URLs are the authorization endpoint, for one environment and language. */
  const mapEntryPage = (req: Request, path: string): void => {
    // Endpoints always come first, whatever an entry path's {lang} could match.
    if (isReservedPath(path)) return;
    for (const entry of entries) {
      const match = entry.pattern.exec(path);
      if (!match) continue;
      stateOf(req).entry = { environment: entry.environment, language: match[1] };
      const query = req.url.indexOf('?');
      req.url = ROUTES.authorization + (query >= 0 ? req.url.slice(query) : '');
      return;
    }
  };

  return (req: Request, res: Response, next: NextFunction): void => {
    // No endpoint answers OPTIONS (no CORS: TPPs call from servers, PSUs through navigation);
    // oidc-provider's 404 keeps Express from answering it for the routes below.
    if (req.method === 'OPTIONS') {
      provider(req, res);
      return;
    }
    if (!mountChecked) {
      mountChecked = true;
      if (req.baseUrl !== mountPath) {
        logger.error({ event: 'configuration.mount_path', mountedAt: req.baseUrl, issuerPath: mountPath }, 'the router is mounted at another path than the issuer\'s: mount it at the issuer\'s path');
      }
    }
    // Published URLs derive from the issuer, never from what a client put in Host or X-Forwarded-*.
    req.headers.host = issuerHost;
    if (options.trustProxy) {
      req.headers['x-forwarded-host'] = issuerHost;
      req.headers['x-forwarded-proto'] = 'https';
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      // Each read of `req.path` goes through Express's URL parser (parseurl): read it once.
      const path = req.path;
      if (path === METADATA_PATH) req.url = '/.well-known/openid-configuration';
      else if (req.method === 'GET') mapEntryPage(req, path);
    }
    next();
  };
}
