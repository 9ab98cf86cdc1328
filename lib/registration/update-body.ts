import type { IncomingMessage } from 'node:http';

/** Reads a request body whole (already bounded by the body limits) in paused mode, leaving the stream readable. */
function readWhole(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve) => process.nextTick(() => {
    if (req.destroyed || (req.complete && req.readableLength === 0)) {
      resolve(undefined);
      return;
    }
    const chunks: Buffer[] = [];
    const finish = (body: Buffer | undefined) => {
      req.off('readable', onReadable);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(body);
    };
    const onReadable = () => {
      while (req.readableLength > 0) {
        const chunk = req.read() as Buffer | null;
        if (chunk === null) break;
        chunks.push(chunk);
      }
      if (req.complete) finish(Buffer.concat(chunks));
    };
    const onClose = () => finish(undefined);
    req.on('readable', onReadable);
    req.once('close', onClose);
    req.once('error', onClose);
  }));
}

/**
 * RFC 7592 §2.2 asks for `client_id` in an update; deployed TPP clients leave it out (DESIGN 3.5).
 * A JSON object without `client_id` gets the one of the URL before oidc-provider reads it; a body
 * naming another client is left as sent, for oidc-provider to refuse. The body is put back in
 * front of the stream, its declared length adjusted.
 */
export async function addClientIdToUpdate(req: IncomingMessage, clientId: string): Promise<void> {
  if (!/^application\/json\s*(?:;|$)/i.test(req.headers['content-type'] ?? '')) return;
  const body = await readWhole(req);
  if (!body) return;
  let replaced = body;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && (parsed as Record<string, unknown>).client_id == null) {
      replaced = Buffer.from(JSON.stringify({ ...parsed, client_id: clientId }), 'utf8');
    }
  } catch {
    // Not JSON: oidc-provider refuses it as it would have.
  }
  if (replaced !== body && req.headers['content-length'] !== undefined) req.headers['content-length'] = String(replaced.length);
  if (replaced.length) req.unshift(replaced);
}
