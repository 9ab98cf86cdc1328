import type { IncomingMessage, ServerResponse } from 'node:http';

import { InvalidRequestError, type Answer, type OAuthError } from './errors.js';

export type { Answer } from './errors.js';
import { INTERACTION_PATH, ROUTES } from './routes.js';

/**
 * The largest request body each endpoint that reads one accepts, in bytes. A larger one is answered
 * `413 invalid_request` before it is read (from its `Content-Length`), or as soon as a chunked one
 * passes the limit. The other endpoints read no body: one sent to them is dropped (within
 * {@link DISCARD_LIMIT}) before they answer.
 */
export const BODY_LIMITS = {
  /**
   * `POST /register`, `PUT /register/{clientId}`: client metadata, whose `jwks` carries the TPP's
   * QSealC chain in `x5c` (20–30 KB in practice). 56 KiB is the most oidc-provider reads.
   */
  registration: 56 * 1024,
  /**
   * `POST /token`, `/revoke`, `/introspect`, and oidc-provider's `/session/end/confirm`: forms of a
   * few parameters, under 1 KB in practice.
   */
  form: 8 * 1024,
  /** The PSU pages' forms (sign-in, second factor, consent with its account list, cancel); their parser holds the same. */
  pageForm: 16 * 1024,
} as const;

/**
 * What the rest of a refused body may cost the server. It is read and dropped before the answer
 * goes out, so that a client still sending it receives the answer instead of a connection reset
 * (Java's HttpURLConnection reads the answer only once its upload is done; Node's client stops
 * sending once it holds a complete answer). Past either bound the answer goes out and the
 * connection is closed.
 */
export const DISCARD_LIMIT = { bytes: 8 * 1024 * 1024, milliseconds: 10_000 } as const;

/** oidc-provider's confirmation of the end of a browser session: a form. */
const SESSION_CONFIRMATION_PATH = '/session/end/confirm';

/** How a request's body is bounded: the limit of an endpoint that reads it; none when nothing does. */
export type BodyLimit = { readonly bytes: number; readonly page: boolean } | undefined;

/** The body limit of a request, by method and path relative to the mount path. */
export function bodyLimitOf(method: string | undefined, path: string): BodyLimit {
  // Express routes without regard to case or a trailing slash: so are the limits. The slashes are
  // counted from the end: a regular expression anchored at the end reads the path from its start.
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f /* / */) end -= 1;
  const route = (end === path.length ? path : path.slice(0, end)).toLowerCase();
  if ((method === 'POST' && route === ROUTES.registration) || (method === 'PUT' && route.startsWith(`${ROUTES.registration}/`))) {
    return { bytes: BODY_LIMITS.registration, page: false };
  }
  if (method !== 'POST') return undefined;
  if (route === ROUTES.token || route === ROUTES.revocation || route === ROUTES.introspection || route === SESSION_CONFIRMATION_PATH) {
    return { bytes: BODY_LIMITS.form, page: false };
  }
  if (route.startsWith(`${INTERACTION_PATH}/`)) return { bytes: BODY_LIMITS.pageForm, page: true };
  return undefined;
}

function tooLarge(bytes: number): OAuthError {
  return new InvalidRequestError(`the request body is larger than this endpoint accepts (${bytes / 1024} KiB)`, 413);
}

type Outcome = { readonly fits: true } | { readonly fits: false; readonly read: number } | { readonly gone: true };

/**
 * Reads a chunked body up to `limit` bytes and puts it back in front of the stream, for whatever
 * parses it next. Paused-mode reads and a synchronous `unshift` keep the stream from ending meanwhile.
 */
function readAhead(req: IncomingMessage, limit: number): Promise<Outcome> {
  // Once the packet that brought the headers is parsed: an empty body received whole is left
  // untouched, since any read would end the stream before its reader comes.
  return new Promise((resolve) => process.nextTick(() => {
    if (req.destroyed) {
      resolve({ gone: true });
      return;
    }
    if (req.complete && req.readableLength === 0) {
      resolve({ fits: true });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: Outcome) => {
      req.off('readable', onReadable);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(outcome);
    };
    const onReadable = () => {
      while (req.readableLength > 0) {
        const chunk = req.read() as Buffer | null;
        if (chunk === null) break;
        size += chunk.length;
        if (size > limit) {
          finish({ fits: false, read: size });
          return;
        }
        chunks.push(chunk);
      }
      if (!req.complete) return;
      if (size) req.unshift(Buffer.concat(chunks, size));
      finish({ fits: true });
    };
    const onClose = () => finish({ gone: true });
    req.on('readable', onReadable);
    req.once('close', onClose);
    req.once('error', onClose);
  }));
}

/** Reads and drops the rest of a body; whether it ended within {@link DISCARD_LIMIT}. */
function discard(req: IncomingMessage, read: number): Promise<boolean> {
  if (req.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    let seen = read;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DISCARD_LIMIT.bytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(false);
    const timer = setTimeout(() => finish(false), DISCARD_LIMIT.milliseconds);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.resume();
  });
}

/**
 * Answers once the rest of the body is dropped; at once when its declared length is beyond the
 * bound. Past the bound the connection is closed after the answer.
 */
function refuse(req: IncomingMessage, res: ServerResponse, answer: Answer, read: number, declared?: number): void {
  const send = (close: boolean) => {
    res.writeHead(answer.status, {
      ...answer.headers,
      'Content-Length': String(Buffer.byteLength(answer.body)),
      ...(close ? { Connection: 'close' } : {}),
    });
    res.end(answer.body);
  };
  if (declared !== undefined && declared > DISCARD_LIMIT.bytes) send(true);
  else void discard(req, read).then((ended) => send(!ended));
}

/**
 * Middleware bounding request bodies before anything reads them: `413` with `answer`'s rendering
 * of the error (a JSON error, or a page for the PSU's forms). A body sent where nothing reads one
 * is dropped before the request goes on.
 */
export function limitBodies<Req extends IncomingMessage>(
  answer: (req: Req, error: OAuthError, page: boolean) => Answer,
  limitOf: (req: Req) => BodyLimit,
): (req: Req, res: ServerResponse, next: (error?: unknown) => void) => void {
  return (req, res, next) => {
    const declared = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if ((declared === undefined || declared === '0') && !chunked) {
      next();
      return;
    }
    const limit = limitOf(req);
    if (!limit) {
      // Nothing reads it: dropped first, so that the answer reaches a client still sending it.
      if (declared !== undefined && Number(declared) > DISCARD_LIMIT.bytes) res.destroy();
      else void discard(req, 0).then((ended) => (ended ? next() : res.destroy()));
      return;
    }
    if (declared !== undefined) {
      const length = Number(declared);
      if (length <= limit.bytes) next();
      else refuse(req, res, answer(req, tooLarge(limit.bytes), limit.page), 0, length);
      return;
    }
    readAhead(req, limit.bytes).then((outcome) => {
      if ('gone' in outcome) return;
      if (outcome.fits) next();
      else refuse(req, res, answer(req, tooLarge(limit.bytes), limit.page), outcome.read);
    }, next);
  };
}
