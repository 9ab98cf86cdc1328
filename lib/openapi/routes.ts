import express, { type Router } from 'express';
import YAML from 'yaml';

import { DOCUMENT_PATHS } from '../routes.js';

import { documentView } from './view/page.js';
import { viewSecurityHeaders } from './view/style.js';

/** The OpenAPI document as JSON and YAML, and as a page to read, all built once from the same document. */
export function openApiRouter(document: Record<string, unknown>, mountPath: string): Router {
  const router = express.Router();
  const json = JSON.stringify(document, null, 2);
  // Shared schema objects are written out in full: aliases would make readers count them as a YAML bomb.
  const yaml = YAML.stringify(document, { aliasDuplicateObjects: false });
  const page = documentView(document, { json: `${mountPath}${DOCUMENT_PATHS.json}`, yaml: `${mountPath}${DOCUMENT_PATHS.yaml}` });
  const security = viewSecurityHeaders();

  router.get(DOCUMENT_PATHS.json, (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('application/json').send(json);
  });
  router.get(DOCUMENT_PATHS.yaml, (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('application/yaml').send(yaml);
  });
  router.get(DOCUMENT_PATHS.view, (_req, res) => {
    res.set(security).set('Cache-Control', 'no-cache').type('html').send(page);
  });
  return router;
}
