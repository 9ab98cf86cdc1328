/**
 * The parser of the PSU pages' forms. What browsers post, a UTF-8 urlencoded body of a stated
 * length, is read and parsed here: body-parser looks up the charset's decoder, checks the media
 * type and normalises its query parser's options on every form. Anything else (another charset,
 * a compressed or chunked body) still goes through body-parser, as do its refusals.
 */
import express, { type NextFunction, type Request, type Response } from 'express';

/** The most a page's form may hold: its bytes (as the body limits say) and its fields. */
export interface FormLimits {
  readonly bytes: number;
  readonly parameters: number;
}

const PLAIN_TYPES = new Set(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'application/x-www-form-urlencoded;charset=utf-8']);

/** Fields of a urlencoded body; a repeated name gives the list of its values, as body-parser does. */
export function formFields(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (!text) return fields;
  for (const [name, value] of new URLSearchParams(text)) {
    const held = fields[name];
    fields[name] = held === undefined ? value : ([] as string[]).concat(held, value);
  }
  return fields;
}

/** Whether `text` holds more than `limit` fields, counted as body-parser counts them. */
function tooManyFields(text: string, limit: number): boolean {
  let count = 0;
  let index = -1;
  do {
    count += 1;
    if (count > limit) return true;
    index = text.indexOf('&', index + 1);
  } while (index !== -1);
  return false;
}

function refusal(status: number, message: string, type: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type });
}

export function pageForms(limits: FormLimits): (req: Request, res: Response, next: NextFunction) => void {
  const general = express.urlencoded({ extended: false, limit: limits.bytes, parameterLimit: limits.parameters });
  return (req, res, next) => {
    const { headers } = req;
    const length = Number(headers['content-length']);
    const plain = PLAIN_TYPES.has(String(headers['content-type']).toLowerCase())
      && headers['content-encoding'] === undefined && headers['transfer-encoding'] === undefined
      && Number.isSafeInteger(length) && length >= 0 && length <= limits.bytes && !req.readableEnded;
    if (!plain) {
      general(req, res, next);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    // Whichever comes first of the body's end, an error or the connection's end decides, once.
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      if (error) {
        next(error);
        return;
      }
      if (received !== length) {
        next(refusal(400, 'request size did not match content length', 'request.size.invalid'));
        return;
      }
      // A form fits in one chunk, most often: read as it came, not copied into one buffer first.
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8');
      if (tooManyFields(text, limits.parameters)) {
        next(refusal(413, 'too many parameters', 'parameters.too.many'));
        return;
      }
      req.body = formFields(text);
      next();
    };
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
    });
    req.once('error', settle);
    req.once('end', () => settle());
    // Every request closes, most after their end: the refusal (an Error, its stack) only for those that did not.
    req.once('close', () => {
      if (!settled) settle(refusal(400, 'request aborted', 'request.aborted'));
    });
  };
}
