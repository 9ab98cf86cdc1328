import type { ResolvedOptions } from '../options/index.js';
import { ROUTES } from '../routes.js';

import { errorResponse, NO_STORE, ref, text, unavailable } from './responses.js';

/** Whether the configured resource servers authenticate with HTTP Basic and with certificates. */
function resourceServerSchemes(options: ResolvedOptions): { basic: boolean; certificate: boolean } {
  return {
    basic: options.resourceServers.some((server) => server.secret !== undefined),
    certificate: options.resourceServers.some((server) => (server.certificateThumbprints?.length ?? 0) > 0),
  };
}

/**
 * How resource servers authenticate at the introspection endpoint: the schemes, never the ids of
 * the configured resource servers (their HTTP Basic user names).
 */
function introspectionAuthentication(options: ResolvedOptions): string {
  if (!options.resourceServers.length) return 'No resource server is configured: every call is refused.';
  const { basic, certificate } = resourceServerSchemes(options);
  const schemes = [
    basic ? 'HTTP Basic with a resource server\'s id and secret (`resourceServerBasic`)' : undefined,
    certificate ? 'a TLS client certificate whose SHA-256 thumbprint the bank registered (`resourceServerCertificate`)' : undefined,
  ].filter(Boolean);
  return `For the bank's resource servers, never TPPs. A resource server authenticates with ${schemes.join(', or ')}.`;
}

const INTROSPECTION_SCHEMES = {
  resourceServerBasic: { type: 'http', scheme: 'basic', description: 'A resource server\'s id and secret.' },
  resourceServerCertificate: { type: 'mutualTLS', description: 'A resource server\'s pinned TLS client certificate.' },
} as const;

/** The security schemes resource servers use here: those configured, both when none is. */
export function introspectionSchemes(options: ResolvedOptions): Partial<typeof INTROSPECTION_SCHEMES> {
  const { basic, certificate } = resourceServerSchemes(options);
  if (!basic && !certificate) return INTROSPECTION_SCHEMES;
  return {
    ...(basic ? { resourceServerBasic: INTROSPECTION_SCHEMES.resourceServerBasic } : {}),
    ...(certificate ? { resourceServerCertificate: INTROSPECTION_SCHEMES.resourceServerCertificate } : {}),
  };
}

function introspectionSecurity(options: ResolvedOptions): Record<string, string[]>[] {
  return Object.keys(introspectionSchemes(options)).map((name) => ({ [name]: [] }));
}

/** The introspection endpoint (RFC 7662), for the bank's resource servers only. */
export function introspectionPaths(options: ResolvedOptions): Record<string, unknown> {
  return {
    [ROUTES.introspection]: {
      post: {
        tags: ['Tokens'],
        summary: 'Token introspection (RFC 7662) for the bank\'s resource servers',
        description: introspectionAuthentication(options),
        operationId: 'introspect',
        security: introspectionSecurity(options),
        requestBody: { required: true, content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', required: ['token'], properties: { token: text, token_type_hint: text } } } } },
        responses: {
          200: { description: 'What the token allows.', headers: NO_STORE, content: { 'application/json': { schema: ref('IntrospectionResponse') } } },
          400: errorResponse('The request was refused, or its body could not be read.', { invalid_request: 'the token parameter is required' }),
          401: errorResponse('Not a resource server of the bank.', { invalid_client: 'token introspection is reserved to the bank\'s resource servers' }, { 'WWW-Authenticate': { description: 'The Basic scheme resource servers authenticate with.', required: true, schema: text } }),
          413: errorResponse('The body is larger than 8 KB or has more than 20 parameters.', { invalid_request: 'the request could not be understood' }),
          415: errorResponse('The body has an unsupported charset or content encoding.', { invalid_request: 'the request could not be understood' }),
          503: unavailable,
        },
      },
    },
  };
}
