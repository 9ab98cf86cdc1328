import type { ResolvedOptions } from '../options/index.js';
import { DOCUMENT_PATHS, ROUTES } from '../routes.js';

import { htmlPage, ref, text } from './responses.js';

/** What clients discover: the authorization server metadata (RFC 8414) and the signing keys. */
export function metadataPaths(options: ResolvedOptions): Record<string, unknown> {
  return {
    '/.well-known/oauth-authorization-server': {
      get: { tags: ['Metadata'], summary: 'Authorization server metadata (RFC 8414)', description: `The same document is served at the host's root, \`/.well-known/oauth-authorization-server${options.mountPath}\` (RFC 8414 §3.1), where the host mounts \`wellKnown\`.`, operationId: 'metadata', security: [], responses: { 200: { description: 'The metadata.', content: { 'application/json': { schema: ref('Metadata') } } } } },
    },
    '/.well-known/openid-configuration': {
      get: { tags: ['Metadata'], summary: 'The same metadata, at the OpenID Connect discovery path', operationId: 'metadataOpenId', security: [], responses: { 200: { description: 'The metadata.', content: { 'application/json': { schema: ref('Metadata') } } } } },
    },
    [ROUTES.jwks]: {
      get: { tags: ['Metadata'], summary: 'Public signing keys', operationId: 'jwks', security: [], responses: { 200: { description: 'A JWK Set.', content: { 'application/jwk-set+json': { schema: ref('JWKS') }, 'application/json': { schema: ref('JWKS') } } } } },
    },
  };
}

/** This document, as JSON and YAML, and its human view. */
export const OPENAPI_DOCUMENT_PATHS = {
  [DOCUMENT_PATHS.json]: { get: { tags: ['Metadata'], summary: 'This document', operationId: 'openApiJson', security: [], responses: { 200: { description: 'OpenAPI 3.1, JSON.', content: { 'application/json': { schema: { type: 'object' } } } } } } },
  [DOCUMENT_PATHS.yaml]: { get: { tags: ['Metadata'], summary: 'This document', operationId: 'openApiYaml', security: [], responses: { 200: { description: 'OpenAPI 3.1, YAML.', content: { 'application/yaml': { schema: text } } } } } },
  [DOCUMENT_PATHS.view]: { get: { tags: ['Metadata'], summary: 'This document, to read', operationId: 'openApiView', security: [], responses: { 200: htmlPage('This document as a page of its own, rendered by the server: the operations by tag with their parameters, request bodies, responses and schemas. No scripts, nothing loaded from elsewhere (works offline).') } } },
};
