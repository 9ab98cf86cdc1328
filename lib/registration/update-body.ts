import type { IncomingMessage } from 'node:http';
import { isDeepStrictEqual } from 'node:util';

import { ANSWER_FIELDS } from './answer.js';
import { CERTIFICATE_DERIVED_FIELDS } from './policy.js';

/**
 * Reads a request body whole (already bounded by the body limits) in paused mode and puts back in
 * front of the stream what `rewrite` makes of it, in the same tick as the last read: once a body
 * read to its end is left empty for a tick, the stream ends, and what is put back after that is
 * dropped (a body that had fully arrived before it was read, e.g. while the storage was asked for
 * the client, reached oidc-provider empty). When `rewrite` throws, the body goes back as sent.
 * Resolves once the body is back, or at once when there is none to read.
 */
function rewriteWhole(req: IncomingMessage, rewrite: (body: Buffer) => Buffer): Promise<void> {
  return new Promise((resolve) => process.nextTick(() => {
    if (req.destroyed || (req.complete && req.readableLength === 0)) {
      resolve();
      return;
    }
    const chunks: Buffer[] = [];
    const finish = () => {
      req.off('readable', onReadable);
      req.off('close', finish);
      req.off('error', finish);
      resolve();
    };
    const onReadable = () => {
      while (req.readableLength > 0) {
        const chunk = req.read() as Buffer | null;
        if (chunk === null) break;
        chunks.push(chunk);
      }
      if (!req.complete) return;
      const read = Buffer.concat(chunks);
      let body: Buffer = read;
      try {
        body = rewrite(read);
      } catch {
        // Run from the stream's own event, where nothing would catch it: the body goes on as sent.
      }
      if (body.length) req.unshift(body);
      finish();
    };
    req.on('readable', onReadable);
    req.once('close', finish);
    req.once('error', finish);
  }));
}

/**
 * RFC 7592 §3: fields of a read answer that only the server sets. §2.2 forbids them in an update
 * and oidc-provider refuses them; a TPP that PUTs back what it read is not refused for them.
 */
const RESPONSE_ONLY_FIELDS = ['registration_access_token', 'registration_client_uri', 'client_id_issued_at', 'client_secret_expires_at'];

/**
 * Fields of a read answer that the server derives from the certificate: sent back unchanged, they
 * are set again from the certificate presented now (a renewed certificate may have another subject);
 * a different value is left for the registration policy to refuse.
 */
const ANSWERED_DERIVED_FIELDS = CERTIFICATE_DERIVED_FIELDS.filter((field) => (ANSWER_FIELDS as readonly string[]).includes(field));

/** The update as oidc-provider and the registration policy should read it, or `undefined` to leave the body as sent. */
function preparedUpdate(parsed: unknown, clientId: string, stored: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const body: Record<string, unknown> = { ...parsed };
  // A body naming another client is left as sent, for oidc-provider to refuse.
  if (body.client_id != null && body.client_id !== clientId) return undefined;
  body.client_id = clientId;
  for (const field of RESPONSE_ONLY_FIELDS) delete body[field];
  for (const field of ANSWERED_DERIVED_FIELDS) {
    if (stored && body[field] !== undefined && isDeepStrictEqual(body[field], stored[field])) delete body[field];
  }
  return body;
}

/**
 * Readies an RFC 7592 update (PUT) before oidc-provider reads it. RFC 7592 §2.2 asks for `client_id`;
 * deployed TPP clients leave it out (DESIGN 3.5): a JSON object without it gets the one of the URL.
 * The read-only fields of a read answer are dropped (see above), `stored` being the client's stored
 * metadata. Anything else, and a body that is not a JSON object, reaches oidc-provider as sent. The
 * body is put back in front of the stream, its declared length adjusted.
 */
export async function prepareUpdateBody(req: IncomingMessage, clientId: string, stored?: Readonly<Record<string, unknown>>): Promise<void> {
  if (!/^application\/json\s*(?:;|$)/i.test(req.headers['content-type'] ?? '')) return;
  // Not JSON, or JSON nested too deep to write again: the rewrite throws and the body goes on as
  // sent, for oidc-provider to refuse as it would have.
  await rewriteWhole(req, (body) => {
    const prepared = preparedUpdate(JSON.parse(body.toString('utf8')), clientId, stored);
    if (!prepared) return body;
    const replaced = Buffer.from(JSON.stringify(prepared), 'utf8');
    if (req.headers['content-length'] !== undefined) req.headers['content-length'] = String(replaced.length);
    return replaced;
  });
}
