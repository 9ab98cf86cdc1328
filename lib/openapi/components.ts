import type { ResolvedOptions } from '../options/index.js';
import { DOCUMENT_PATHS, INTERACTION_PATH } from '../routes.js';

import { clientMetadataSchemas } from './client-metadata.js';
import { introspectionSchemes } from './introspection.js';
import { errorResponse, text } from './responses.js';
import { ANSWER_SCHEMAS, ERROR_SCHEMAS } from './schemas.js';

/** `components.responses.NotFound`: the answer to any path or method the document does not list. */
function notFound(options: ResolvedOptions): Record<string, unknown> {
  const json = errorResponse('', { not_found: `there is no endpoint at GET ${options.mountPath}${DOCUMENT_PATHS.view}/x` });
  return {
    description: `Any other path or method under ${options.mountPath || '/'}: there is no such endpoint. A JSON error; under ${INTERACTION_PATH}, a page in the PSU's language.`,
    content: { ...(json.content as Record<string, unknown>), 'text/html': { schema: text } },
  };
}

/** The shared responses, security schemes and schemas the operations refer to. */
export function components(options: ResolvedOptions): Record<string, unknown> {
  return {
    responses: { NotFound: notFound(options) },
    securitySchemes: {
      mutualTLS: { type: 'mutualTLS', description: 'The TPP\'s eIDAS QWAC (QcType web, PSD2 QCStatement), in the TLS handshake.' },
      registrationAccessToken: { type: 'http', scheme: 'bearer', description: 'The registration access token (RFC 7592), optional with the owner\'s certificate.' },
      ...introspectionSchemes(options),
    },
    schemas: { ...ERROR_SCHEMAS, ...clientMetadataSchemas(), ...ANSWER_SCHEMAS },
  };
}
