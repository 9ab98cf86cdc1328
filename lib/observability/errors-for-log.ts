/**
 * An error as a log line can carry it. `JSON.stringify` writes an `Error` as `{}` (its fields are
 * not enumerable), which loses why a request failed, e.g. the Redis error behind a 503 during a
 * failover; and writing every field would leak what some errors carry (a body parser's error holds
 * the body, an HTTP client's the request headers).
 */

/** Keys never written, whatever their value: they name secrets or what carries them. */
const SECRET_KEY = /token|secret|password|passwd|authori[sz]ation|cookie|key|credential|session|signature|assertion|code_verifier/i;
/** Fields of well-known errors that hold what a client or server sent. */
const CARRIERS = new Set(['body', 'rawBody', 'headers', 'rawHeaders', 'request', 'response', 'req', 'res', 'config', 'data', 'params', 'query', 'payload', 'options', 'socket']);
/** Fields written apart, or not at all. */
const WRITTEN = new Set(['name', 'message', 'stack', 'cause', 'errors', 'code', 'status', 'statusCode']);

/** A JWT, a bearer credential or a long opaque string (43+ base64url characters, like a token id). */
const SECRET_TEXT = /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*|\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+|[A-Za-z0-9_-]{43,}/g;
const REDACTED = '[redacted]';

const MAX_TEXT = 1000;
const MAX_STACK = 4000;
const MAX_FIELDS = 20;
const MAX_ERRORS = 5;

export interface ErrorForLogOptions {
  /** Causes followed (`cause`, and an AggregateError's `errors`), default 5. */
  readonly depth?: number;
  /** Whether the stack is written (secret-looking texts redacted), default true. */
  readonly stack?: boolean;
}

/** An error as written to the log. */
export interface LoggedError {
  /** The error's class, e.g. `StorageUnavailableError` (its `name` when it sets one). */
  readonly type: string;
  readonly message: string;
  readonly code?: string | number;
  /** An HTTP status the error carries (`status` or `statusCode`). */
  readonly status?: number;
  readonly stack?: string;
  /** Other fields of the error holding a string, number or boolean, secret-looking keys left out. */
  readonly fields?: Readonly<Record<string, string | number | boolean>>;
  readonly cause?: LoggedError;
  /** An AggregateError's errors, the first five. */
  readonly errors?: readonly LoggedError[];
  /** How many more causes or errors were not written (depth, count, or a cycle). */
  readonly omitted?: string;
}

/** `text` with secret-looking parts replaced, at most {@link MAX_TEXT} characters. */
export function redactText(text: string): string {
  const redacted = text.replace(SECRET_TEXT, REDACTED);
  return redacted.length > MAX_TEXT ? `${redacted.slice(0, MAX_TEXT)}…` : redacted;
}

function typeOf(error: Error): string {
  const constructorName = Object.getPrototypeOf(error)?.constructor?.name;
  if (typeof error.name === 'string' && error.name && error.name !== 'Error') return error.name;
  return typeof constructorName === 'string' && constructorName ? constructorName : 'Error';
}

function fieldsOf(error: object): Record<string, string | number | boolean> | undefined {
  const fields: Record<string, string | number | boolean> = {};
  let count = 0;
  for (const key of Object.keys(error)) {
    if (count >= MAX_FIELDS) break;
    if (WRITTEN.has(key) || CARRIERS.has(key) || SECRET_KEY.test(key)) continue;
    const value = (error as Record<string, unknown>)[key];
    if (typeof value === 'string') fields[key] = redactText(value);
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') fields[key] = value;
    else continue;
    count += 1;
  }
  return count ? fields : undefined;
}

function read(error: object, key: string): unknown {
  try {
    return (error as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function describe(value: unknown, depth: number, seen: Set<object>, options: Required<ErrorForLogOptions>): LoggedError {
  if (!(value instanceof Error)) {
    const text = typeof value === 'string' ? value : value === null ? 'null' : typeof value === 'object' ? 'a non-Error object' : String(value);
    return { type: value === null ? 'null' : typeof value, message: redactText(text) };
  }
  seen.add(value);
  const code = read(value, 'code');
  const status = read(value, 'status') ?? read(value, 'statusCode');
  const stack = options.stack ? read(value, 'stack') : undefined;
  const fields = fieldsOf(value);
  const logged: { -readonly [K in keyof LoggedError]: LoggedError[K] } = {
    type: typeOf(value),
    message: redactText(String(read(value, 'message') ?? '')),
    ...(typeof code === 'string' || (typeof code === 'number' && Number.isFinite(code)) ? { code: typeof code === 'string' ? redactText(code) : code } : {}),
    ...(typeof status === 'number' && Number.isInteger(status) ? { status } : {}),
    ...(typeof stack === 'string' ? { stack: stack.slice(0, MAX_STACK).replace(SECRET_TEXT, REDACTED) } : {}),
    ...(fields ? { fields } : {}),
  };
  const follow = (next: unknown): LoggedError | 'cycle' | 'depth' => {
    if (typeof next === 'object' && next !== null && seen.has(next)) return 'cycle';
    if (depth >= options.depth) return 'depth';
    return describe(next, depth + 1, seen, options);
  };
  const cause = read(value, 'cause');
  if (cause !== undefined) {
    const described = follow(cause);
    if (typeof described === 'string') logged.omitted = `cause (${described === 'cycle' ? 'a cycle' : 'depth'})`;
    else logged.cause = described;
  }
  const errors = read(value, 'errors');
  if (Array.isArray(errors) && errors.length) {
    const described = errors.slice(0, MAX_ERRORS).map(follow).filter((each): each is LoggedError => typeof each !== 'string');
    if (described.length) logged.errors = described;
    if (described.length < errors.length) logged.omitted = `${errors.length - described.length} of ${errors.length} errors`;
  }
  return logged;
}

/**
 * `error` (anything thrown) as a log field: its type, message, code, HTTP status, stack and other
 * plain fields, and its causes, `depth` deep. Cycle-safe; never throws. Keys that look like
 * secrets (token, secret, password, authorization, cookie, key, …) and fields that carry requests
 * or bodies are left out; JWTs, bearer credentials and token-like strings in texts are redacted.
 */
export function errorForLog(error: unknown, options: ErrorForLogOptions = {}): LoggedError {
  const resolved = { depth: options.depth ?? 5, stack: options.stack ?? true };
  try {
    return describe(error, 0, new Set(), resolved);
  } catch {
    return { type: 'unknown', message: 'the error could not be described' };
  }
}

/**
 * A JSON.stringify replacer writing every Error met with {@link errorForLog}, even one with a
 * `toJSON` (read from its holder, before `toJSON` changed it); usable by a logger writing fields
 * as JSON: `JSON.stringify(fields, errorReplacer)`.
 */
export function errorReplacer(this: unknown, key: string, value: unknown): unknown {
  const raw = typeof this === 'object' && this !== null ? (this as Record<string, unknown>)[key] : value;
  return raw instanceof Error ? errorForLog(raw) : value;
}
