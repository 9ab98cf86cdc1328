/** Building blocks shared by the operations of the OpenAPI document: schemas, responses, headers. */
export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const text = { type: 'string' } as const;
export const strings = { type: 'array', items: text } as const;

/** The document's answer for any path or method it does not list. */
export const NOT_FOUND = { $ref: '#/components/responses/NotFound' } as const;

/**
 * A JSON error response whose `error` is one of `codes`, with an example of each; `base` is the
 * schema of the body (`Error`, or `TokenError` which may name the refused scope).
 */
export function errorResponse(description: string, codes: Record<string, string>, headers?: Record<string, unknown>, base = 'Error'): Schema {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: {
      'application/json': {
        schema: {
          allOf: [ref(base)],
          properties: { error: { enum: Object.keys(codes) } },
        },
        examples: Object.fromEntries(Object.entries(codes).map(([code, example]) => [code, { value: { error: code, error_description: example } }])),
      },
    },
  };
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before trying again.', required: true, schema: { type: 'integer' } } };
export const NO_STORE = { 'Cache-Control': { description: '`no-store`', required: true, schema: { type: 'string', const: 'no-store' } } };

export const unavailable = errorResponse('The token store is temporarily unavailable (RFC 6749 §4.1.2.1 `temporarily_unavailable`).', {
  temporarily_unavailable: 'the service is temporarily unavailable, try again shortly',
}, RETRY_AFTER);

/** A body larger than its endpoint accepts, refused before it is read (lib/body-limits.ts). */
export const tooLarge = (bytes: number): Schema => errorResponse(`The body is larger than ${bytes / 1024} KiB: refused before it is read.`, {
  invalid_request: `the request body is larger than this endpoint accepts (${bytes / 1024} KiB)`,
});

export const certificateRefused = (extra: Record<string, string> = {}) => errorResponse('Client authentication failed: no certificate, a certificate that is not an accepted QWAC, or a TPP the bank has suspended.', {
  invalid_client: 'a client certificate is required: present your QWAC in the TLS handshake',
  ...extra,
});

export const htmlPage = (description: string): Schema => ({ description, content: { 'text/html': { schema: text } } });

/** `303 See Other` from the PSU pages, which send no body with it. */
export const pageRedirect = (description: string): Schema => ({
  description,
  headers: { Location: { description: 'Where the browser goes next.', required: true, schema: { type: 'string', format: 'uri-reference' } } },
});

/** `303 See Other` from oidc-provider, with a line of text naming the new address. */
export const redirect = (description: string): Schema => ({
  ...pageRedirect(description),
  content: {
    'text/html': { schema: { type: 'string', description: 'A line naming the new address, for clients that do not follow redirects.' } },
    'text/plain': { schema: { type: 'string', description: 'The same line, to clients that do not accept HTML.' } },
  },
});

/** A `{name}` path parameter holding an opaque string. */
export const pathParameter = (name: string): Schema => ({ name, in: 'path', required: true, schema: text });
