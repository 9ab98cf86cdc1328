/**
 * The HTTP of status lookups: plain GET of a CRL and POST of an OCSP request (RFC 6960 Appendix A),
 * over http or https only, bounded in time and size. Redirects are followed for GET only, a few
 * times, and only to http or https URLs.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body?: Uint8Array;
  readonly contentType?: string;
  readonly accept: string;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: Buffer;
}

export interface HttpLimits {
  /** Milliseconds for the whole exchange, redirects included. */
  readonly timeout: number;
  readonly maxBytes: number;
}

/** Sends one request; rejects with an {@link HttpFailure} when no usable answer came. */
export type HttpClient = (request: HttpRequest, limits: HttpLimits) => Promise<HttpAnswer>;

export type HttpFailureKind = 'timeout' | 'unreachable' | 'status' | 'too_large' | 'url';

/** Why no answer came; the message completes "the OCSP responder <url> …" (e.g. "did not answer within 5000 ms"). */
export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';

  constructor(readonly kind: HttpFailureKind, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

const MAX_REDIRECTS = 3;

/** The URL when it is http or https; undefined otherwise. */
export function httpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function once(url: URL, request: HttpRequest, limits: HttpLimits, deadline: number): Promise<{ status: number; location?: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const left = deadline - performance.now();
    if (left <= 0) return reject(new HttpFailure('timeout', `did not answer within ${limits.timeout} ms`));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = { accept: request.accept };
    if (request.body) {
      headers['content-type'] = request.contentType ?? 'application/octet-stream';
      headers['content-length'] = request.body.length;
    }
    let settled = false;
    const fail = (error: HttpFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outgoing.destroy();
      reject(error);
    };
    // agent: false: one connection per lookup, closed after it; lookups are rare thanks to the cache.
    const outgoing = send(url, { method: request.method, headers, agent: false }, (answer: IncomingMessage) => {
      const status = answer.statusCode ?? 0;
      const declared = Number(answer.headers['content-length']);
      if (Number.isFinite(declared) && declared > limits.maxBytes) {
        return fail(new HttpFailure('too_large', `announced ${declared} bytes, more than the ${limits.maxBytes} accepted`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      answer.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxBytes) return fail(new HttpFailure('too_large', `sent more than the ${limits.maxBytes} bytes accepted`));
        chunks.push(chunk);
      });
      answer.on('error', (cause) => fail(new HttpFailure('unreachable', `could not be read to the end (${cause.message})`, { cause })));
      answer.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const location = answer.headers.location;
        resolve({ status, body: Buffer.concat(chunks), ...(location ? { location } : {}) });
      });
    });
    const timer = setTimeout(() => fail(new HttpFailure('timeout', `did not answer within ${limits.timeout} ms`)), left);
    outgoing.on('error', (cause: NodeJS.ErrnoException) => {
      fail(new HttpFailure('unreachable', `could not be reached (${cause.code ?? cause.message})`, { cause }));
    });
    outgoing.end(request.body);
  });
}

/** The default {@link HttpClient}: node:http and node:https. */
export const nodeHttpClient: HttpClient = async (request, limits) => {
  const deadline = performance.now() + limits.timeout;
  let url = httpUrl(request.url);
  if (!url) throw new HttpFailure('url', 'is not an http or https URL');
  for (let redirects = 0; ; redirects += 1) {
    const answer = await once(url, request, limits, deadline);
    const redirected = answer.status >= 300 && answer.status < 400 && answer.location !== undefined;
    if (!redirected) {
      if (answer.status !== 200) throw new HttpFailure('status', `answered HTTP ${answer.status}`);
      return { status: answer.status, body: answer.body };
    }
    if (request.method !== 'GET' || redirects >= MAX_REDIRECTS) throw new HttpFailure('status', `answered HTTP ${answer.status} (a redirect, not followed)`);
    let next: URL | undefined;
    try {
      next = httpUrl(new URL(answer.location as string, url).href);
    } catch {
      next = undefined;
    }
    if (!next) throw new HttpFailure('url', 'redirected to a URL that is not http or https');
    // The URL came from a QTSP's certificate; a redirect (possibly forged on plain HTTP) must not
    // send the server anywhere else, such as the bank's own network.
    if (next.hostname !== url.hostname) throw new HttpFailure('status', `answered HTTP ${answer.status} (a redirect to another host, not followed)`);
    url = next;
  }
};

/**
 * `http`, remembering for `ttl` ms each URL that did not answer usefully (timeout, connection
 * failure, an error status, a body too large) and failing at once for it meanwhile: an outage
 * costs one timeout per URL, not one per certificate.
 */
export function rememberingOutages(http: HttpClient, ttl: number, now: () => number, maxEntries = 1000): HttpClient {
  const outages = new Map<string, { readonly until: number; readonly failure: HttpFailure }>();
  return async (request, limits) => {
    const outage = outages.get(request.url);
    if (outage && outage.until > now()) throw outage.failure;
    outages.delete(request.url);
    try {
      return await http(request, limits);
    } catch (error) {
      if (error instanceof HttpFailure && error.kind !== 'url') {
        if (outages.size >= maxEntries) outages.delete(outages.keys().next().value as string);
        outages.set(request.url, { until: now() + ttl, failure: error });
      }
      throw error;
    }
  };
}
