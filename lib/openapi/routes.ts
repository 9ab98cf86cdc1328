import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import express, { type Router } from 'express';
import YAML from 'yaml';

import { DOCUMENT_PATHS } from '../routes.js';

/** Files of swagger-ui-dist the human view loads, served from the package: it works offline. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/** The OpenAPI document as JSON and YAML, and its human view with Swagger UI. */
export function openApiRouter(document: Record<string, unknown>, mountPath: string): Router {
  const router = express.Router();
  const json = JSON.stringify(document, null, 2);
  // Shared schema objects are written out in full: aliases would make readers count them as a YAML bomb.
  const yaml = YAML.stringify(document, { aliasDuplicateObjects: false });
  const assetDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, Buffer>();
  const init = `window.addEventListener('load', function () {
  window.SwaggerUIBundle({ url: ${JSON.stringify(`${mountPath}${DOCUMENT_PATHS.json}`)}, dom_id: '#openapi', deepLinking: true });
});\n`;
  const page = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OAuth 2 endpoints</title>
<link rel="stylesheet" href="${mountPath}${DOCUMENT_PATHS.view}/swagger-ui.css">
</head>
<body>
<div id="openapi"></div>
<script src="${mountPath}${DOCUMENT_PATHS.view}/swagger-ui-bundle.js"></script>
<script src="${mountPath}${DOCUMENT_PATHS.view}/init.js"></script>
</body>
</html>
`;
  const security = {
    'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  };

  router.get(DOCUMENT_PATHS.json, (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('application/json').send(json);
  });
  router.get(DOCUMENT_PATHS.yaml, (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('application/yaml').send(yaml);
  });
  router.get(DOCUMENT_PATHS.view, (_req, res) => {
    res.set(security).set('Cache-Control', 'no-cache').type('html').send(page);
  });
  router.get(`${DOCUMENT_PATHS.view}/:asset`, (req, res, next) => {
    const asset = String(req.params.asset);
    if (asset === 'init.js') {
      res.set(security).type('text/javascript; charset=utf-8').send(init);
      return;
    }
    const type = ASSETS[asset];
    if (!type) {
      next();
      return;
    }
    let body = assets.get(asset);
    if (!body) {
      body = readFileSync(join(assetDir, asset));
      assets.set(asset, body);
    }
    res.set(security).set('Cache-Control', 'public, max-age=86400').type(type).send(body);
  });
  return router;
}
