import express, { type Router } from 'express';

import { METADATA_PATH } from './normalise.js';

/**
 * RFC 8414 §3.1 inserts the well-known segment before the issuer's path: that URL lies outside
 * the router's mount path, so the host mounts this one at its root. It hands the request to the
 * router as if it had come for the metadata under the mount path, so one document exists.
 */
export function wellKnownRouter(mountPath: string, router: Router): Router {
  const wellKnown = express.Router();
  const insertedPath = `${METADATA_PATH}${mountPath}`;
  wellKnown.use((req, res, next) => {
    if (!mountPath || (req.method !== 'GET' && req.method !== 'HEAD') || req.path !== insertedPath) {
      next();
      return;
    }
    const { url, baseUrl } = req;
    const query = url.indexOf('?');
    req.url = METADATA_PATH + (query >= 0 ? url.slice(query) : '');
    req.baseUrl = mountPath;
    router(req, res, (error?: unknown) => {
      req.url = url;
      req.baseUrl = baseUrl;
      next(error);
    });
  });
  return wellKnown;
}
