/**
 * The logging interface the server writes to: pino's, so a pino logger can be passed as is.
 * Every entry is an object of fields and a message; fields never hold secrets, tokens or whole
 * certificates.
 */
export interface Logger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/**
 * An error as its name, message, code and stack, and its causes' (three deep): its own fields are
 * left out, since some hold what a client sent (a body parser's error carries the body).
 */
function describeError(error: Error, depth = 0): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    stack: error.stack,
    ...(error.cause instanceof Error && depth < 3 ? { cause: describeError(error.cause, depth + 1) } : {}),
  };
}

const errorFields = (_key: string, value: unknown): unknown => (value instanceof Error ? describeError(value) : value);

function write(level: string, fields: object, message: string): void {
  const time = new Date().toISOString();
  let line: string;
  try {
    line = JSON.stringify({ level, time, ...fields, msg: message }, errorFields);
  } catch {
    // A field that cannot be written (a cycle, a BigInt) does not lose the entry.
    line = JSON.stringify({ level, time, msg: message, fields: 'not serializable' });
  }
  process.stderr.write(`${line}\n`);
}

/**
 * The default: `info` and up (the audit trail, warnings, errors) as JSON lines on standard error,
 * `{ level, time, ...fields, msg }`.
 */
export const stderrLogger: Logger = {
  info: (fields, message) => write('info', fields, message),
  warn: (fields, message) => write('warn', fields, message),
  error: (fields, message) => write('error', fields, message),
};
