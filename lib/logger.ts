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

function write(level: string, fields: object, message: string): void {
  process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), ...fields, msg: message })}\n`);
}

/** The default: warnings and errors as JSON lines on standard error. */
export const stderrLogger: Logger = {
  info: () => {},
  warn: (fields, message) => write('warn', fields, message),
  error: (fields, message) => write('error', fields, message),
};
