/**
 * Errors carrying an RFC error code, rendered as `{ error, error_description }` JSON with their
 * HTTP status. Internal causes stay on the object for the log; only the description is sent.
 */
export class OAuthError extends Error {
  constructor(
    /** The RFC error code, e.g. `invalid_client_metadata`. */
    readonly error: string,
    /** Human-readable explanation sent to the caller as `error_description`. */
    readonly error_description: string,
    /** HTTP status of the response. */
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(error_description, options);
    this.name = 'OAuthError';
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.error_description };
  }
}

/** RFC 6749 §5.2: client authentication failed. */
export class InvalidClientError extends OAuthError {
  constructor(description: string, options?: ErrorOptions) {
    super('invalid_client', description, 401, options);
  }
}

/** RFC 6749 §5.2 / §4.1.2.1: the request is missing a parameter or is otherwise malformed. */
export class InvalidRequestError extends OAuthError {
  constructor(description: string, status = 400, options?: ErrorOptions) {
    super('invalid_request', description, status, options);
  }
}

/** RFC 7591 §3.2.2: a client metadata value is invalid. */
export class InvalidClientMetadataError extends OAuthError {
  constructor(description: string, options?: ErrorOptions) {
    super('invalid_client_metadata', description, 400, options);
  }
}

/** RFC 7591 §3.2.2: a redirection URI is invalid. */
export class InvalidRedirectUriError extends OAuthError {
  constructor(description: string, options?: ErrorOptions) {
    super('invalid_redirect_uri', description, 400, options);
  }
}

/** RFC 6750 §3.1 / RFC 7592 §2: the access token presented is not valid for this request. */
export class InvalidTokenError extends OAuthError {
  constructor(description: string, options?: ErrorOptions) {
    super('invalid_token', description, 401, options);
  }
}

/** No such endpoint under the mount path. */
export class NotFoundError extends OAuthError {
  constructor(description: string) {
    super('not_found', description, 404);
  }
}

/** RFC 6749 §4.1.2.1: an unexpected condition; details are logged, not sent. */
export class ServerError extends OAuthError {
  constructor(options?: ErrorOptions) {
    super('server_error', 'the authorization server encountered an unexpected condition', 500, options);
  }
}

/** RFC 7009 §2.2.1: the token is of a type this server does not revoke. */
export class UnsupportedTokenTypeError extends OAuthError {
  constructor(description: string) {
    super('unsupported_token_type', description, 400);
  }
}

/** Raised at start-up when an option is missing or wrong; `path` names the option. */
export class ConfigurationError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(path ? `invalid option ${path}: ${message}` : `invalid options: ${message}`);
    this.name = 'ConfigurationError';
  }
}

/**
 * RFC 6749 §4.1.2.1 `temporarily_unavailable`: the storage did not answer in time or is not
 * connected. API endpoints answer 503; PSUs see a page asking them to try again.
 */
export class StorageUnavailableError extends OAuthError {
  constructor(reason: string, options?: ErrorOptions) {
    super('temporarily_unavailable', 'the service is temporarily unavailable, try again shortly', 503, options);
    this.name = 'StorageUnavailableError';
    this.reason = reason;
  }

  /** For the log, never sent. */
  readonly reason: string;
}

/** Whether an error, or what caused it, is the storage being unavailable. */
export function isUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    if (current instanceof StorageUnavailableError) return true;
  }
  return false;
}

/** Seconds a client is told to wait (`Retry-After`) when the service is temporarily unavailable. */
export const RETRY_AFTER_SECONDS = 30;

/** An answer as it goes out: status, headers and body. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The headers of every error answer: JSON, never cached, and when to come back after a 503. */
export function errorHeaders(error: OAuthError): Record<string, string> {
  return {
    ...(error.status === 503 ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {}),
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  };
}

/** The one rendering of an error for API callers: its status and `{ error, error_description }`. */
export function errorAnswer(error: OAuthError): Answer {
  return { status: error.status, headers: errorHeaders(error), body: JSON.stringify(error) };
}

/** Sends `error` on a Node response. */
export function sendError(res: { statusCode: number; setHeader(name: string, value: string): unknown; end(body: string): unknown }, error: OAuthError): void {
  const answer = errorAnswer(error);
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.end(answer.body);
}

/** Makes `error` the answer of a Koa context (oidc-provider's). */
export function answerWithError(ctx: { status: number; body: unknown; set(field: string, value: string): void }, error: OAuthError): void {
  ctx.status = error.status;
  for (const [name, value] of Object.entries(errorHeaders(error))) ctx.set(name, value);
  ctx.body = error.toJSON();
}
