import { AssertionError } from 'chai';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';

// ajv-formats is CommonJS: under NodeNext its default import is module.exports, whose `default` is the plugin.
const addFormats = ajvFormats.default;

type Json = Record<string, unknown>;

/** What the validator reads of a response: supertest's Response, or a synthetic one in tests. */
export interface CheckedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as text, when it is text. */
  readonly text?: string | undefined;
  /** The parsed body (supertest), used when there is no text. */
  readonly body?: unknown;
}

export interface OpenApiValidator {
  /** Where the document's paths start: the router's mount path (by default the path of `servers[0].url`). */
  readonly mountPath: string;
  /**
   * Throws an AssertionError when `res`, the answer to `method pathWithQuery` (a path from the
   * host's root, e.g. `/oauth2/token?x=1`), is not what the OpenAPI document describes: an
   * undocumented status or content type, a body where none is described (or none where one is), a
   * missing required header, a header or JSON body that fails its schema. A method the path does
   * not list may only be answered with the document's `components.responses.NotFound`. Paths
   * outside the mount path, or matching no documented template, and HEAD requests are not checked.
   */
  checkResponse(method: string, pathWithQuery: string, res: CheckedResponse): void;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The document's answer to a method or path it does not list: `components.responses.NotFound`. */
const NO_ENDPOINT = 'NotFound';
const NO_ENDPOINT_STATUS = 404;

interface PathTemplate {
  readonly template: string;
  readonly pattern: RegExp;
  readonly item: Json;
  readonly parameters: number;
  readonly literalLength: number;
}

/** RFC 6901 escaping, then URI-escaping, of one JSON pointer segment of a `$ref`. */
const pointerSegment = (segment: string): string => encodeURIComponent(segment.replace(/~/g, '~0').replace(/\//g, '~1'));

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The media type of a Content-Type header, without its parameters, lower case. */
const mediaTypeOf = (contentType: string): string => contentType.split(';')[0]!.trim().toLowerCase();

const isJsonMediaType = (mediaType: string): boolean => mediaType === 'application/json' || mediaType.endsWith('+json');

function mediaTypeMatches(documented: string, actual: string): boolean {
  const [type, subtype] = mediaTypeOf(documented).split('/');
  const [actualType, actualSubtype] = actual.split('/');
  return (type === '*' || type === actualType) && (subtype === '*' || subtype === actualSubtype);
}

function headerValue(res: CheckedResponse, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(res.headers)) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value.join(', ') : value;
  }
  return undefined;
}

function decodes(segment: string): boolean {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}

function excerpt(value: string, max = 400): string {
  return value.length > max ? `${value.slice(0, max)}… (${value.length} characters)` : value;
}

function bodyText(res: CheckedResponse): string | undefined {
  if (typeof res.text === 'string') return res.text;
  if (Buffer.isBuffer(res.body)) return res.body.toString('utf8');
  if (res.body !== undefined && res.body !== null && !(isObject(res.body) && Object.keys(res.body).length === 0)) return JSON.stringify(res.body);
  return undefined;
}

function hasBody(res: CheckedResponse): boolean {
  const length = headerValue(res, 'content-length');
  if (length !== undefined) return Number(length) > 0;
  return (bodyText(res) ?? '').length > 0;
}

/**
 * Builds the validator of every response described by `document`, an OpenAPI 3.1 document, once:
 * schemas are compiled on first use and kept. `mountPath` is where the document's paths start,
 * by default the path of its first server URL.
 */
export function createOpenApiValidator(document: Json, mountPath?: string): OpenApiValidator {
  const servers = document.servers as { url: string }[] | undefined;
  mountPath = (mountPath ?? new URL(servers?.[0]?.url ?? 'http://localhost/').pathname).replace(/\/$/, '');
  const paths = (document.paths ?? {}) as Record<string, Json>;

  const templates: PathTemplate[] = Object.entries(paths).map(([template, item]) => {
    const parts = template.split(/(\{[^}]+\})/);
    const source = parts.map((part) => (/^\{[^}]+\}$/.test(part) ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('');
    return {
      template,
      pattern: new RegExp(`^${source}$`),
      item,
      parameters: parts.filter((part) => /^\{[^}]+\}$/.test(part)).length,
      literalLength: parts.filter((part) => !/^\{[^}]+\}$/.test(part)).join('').length,
    };
  });
  // OpenAPI: concrete paths match before templated ones; then the most specific template.
  templates.sort((a, b) => a.parameters - b.parameters || b.literalLength - a.literalLength);

  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi');
  // Header values are strings: `Retry-After: 30` is checked against `type: integer`.
  const headerAjv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: true });
  addFormats(headerAjv);
  headerAjv.addSchema(document, 'openapi');

  const compiled = new Map<string, ValidateFunction>();
  const validatorAt = (instance: Ajv2020, pointer: string[]): ValidateFunction => {
    const ref = `openapi#/${pointer.map(pointerSegment).join('/')}`;
    const key = `${instance === ajv ? 'body' : 'header'} ${ref}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = instance.compile({ $ref: ref });
      compiled.set(key, validate);
    }
    return validate;
  };

  /** The object at `pointer` in the document, following `$ref`s: the object and where it is. */
  const resolve = (pointer: string[]): { node: Json; pointer: string[] } | undefined => {
    let node: unknown = document;
    for (const segment of pointer) node = isObject(node) ? node[segment] : undefined;
    if (!isObject(node)) return undefined;
    const target = node.$ref;
    if (typeof target !== 'string' || !target.startsWith('#/')) return { node, pointer };
    return resolve(target.slice(2).split('/').map((segment) => decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~')));
  };

  const describeErrors = (validate: ValidateFunction): string => (validate.errors ?? [])
    .map((error) => `${error.instancePath || '(root)'} ${error.message ?? 'is invalid'}${error.params && Object.keys(error.params).length ? ` ${JSON.stringify(error.params)}` : ''}`)
    .join('; ');

  const checkResponse = (method: string, pathWithQuery: string, res: CheckedResponse): void => {
    const verb = method.toLowerCase();
    if (verb === 'head') return;
    // The path as sent: no URL parsing, which would resolve `%2e%2e` segments the server sees as is.
    const pathname = (/^[a-z][a-z0-9+.-]*:\/\/[^/]*(.*)$/i.exec(pathWithQuery)?.[1] ?? pathWithQuery).split(/[?#]/)[0]!;
    if (mountPath && pathname !== mountPath && !pathname.startsWith(`${mountPath}/`)) return;
    const relative = pathname.slice(mountPath.length) || '/';
    // A segment that does not percent-decode is no value of a path parameter: no template matches.
    const found = templates.find((template) => template.pattern.exec(relative)?.slice(1).every(decodes));
    if (!found) return;

    const where = `${method.toUpperCase()} ${excerpt(pathWithQuery, 300)} → ${res.status}`;
    const fail = (problem: string): never => {
      const text = bodyText(res);
      throw new AssertionError(`OpenAPI: ${where}: ${problem} (path ${found.template})${text ? `\n  body: ${excerpt(text)}` : ''}`);
    };

    const documentedMethods = METHODS.filter((m) => isObject(found.item[m])).join(', ').toUpperCase() || 'none';
    const operation = (METHODS as readonly string[]).includes(verb) ? resolve(['paths', found.template, verb]) : undefined;
    let located: { node: Json; pointer: string[] } | undefined;
    if (operation) {
      const responses = (operation.node.responses ?? {}) as Record<string, unknown>;
      const statusKey = [String(res.status), `${String(res.status)[0]}XX`, 'default'].find((key) => key in responses);
      if (!statusKey) fail(`status ${res.status} is not documented (documented: ${Object.keys(responses).join(', ')})`);
      located = resolve([...operation.pointer, 'responses', statusKey!]);
    } else {
      // Another method on a documented path: only the document's answer for "no such endpoint" fits.
      const noEndpoint = resolve(['components', 'responses', NO_ENDPOINT]);
      if (!noEndpoint) fail(`the method is not documented for this path (documented: ${documentedMethods})`);
      if (res.status !== NO_ENDPOINT_STATUS) fail(`the method is not documented for this path (documented: ${documentedMethods}); only the ${NO_ENDPOINT_STATUS} of components.responses.${NO_ENDPOINT} may answer it`);
      located = noEndpoint;
    }
    if (!located) fail('the response is a $ref to nothing in the document');
    const { node: response, pointer } = located!;

    const headers = (response.headers ?? {}) as Record<string, unknown>;
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'content-type') continue;
      const header = resolve([...pointer, 'headers', name]);
      if (!header) continue;
      const value = headerValue(res, name);
      if (value === undefined) {
        if (header.node.required === true) fail(`the required header ${name} is missing`);
        continue;
      }
      if (!header.node.schema) continue;
      const validate = validatorAt(headerAjv, [...header.pointer, 'schema']);
      if (!validate(value)) fail(`header ${name}: ${JSON.stringify(value)} does not match its schema: ${describeErrors(validate)}`);
    }

    const content = response.content as Record<string, Json> | undefined;
    if (!hasBody(res)) {
      if (content && Object.keys(content).length) fail(`the response has no body, the document describes one (${Object.keys(content).join(', ')})`);
      return;
    }
    const contentType = headerValue(res, 'content-type');
    if (!content || !Object.keys(content).length) fail(`the response has a body (${contentType ?? 'no Content-Type'}), the document describes none`);
    if (!contentType) fail(`the body has no Content-Type (documented: ${Object.keys(content!).join(', ')})`);
    const actual = mediaTypeOf(contentType!);
    // The exact media type first, then ranges such as text/*.
    const documented = Object.keys(content!).find((type) => mediaTypeOf(type) === actual) ?? Object.keys(content!).find((type) => mediaTypeMatches(type, actual));
    if (!documented) fail(`content type ${actual} is not documented (documented: ${Object.keys(content!).join(', ')})`);
    const media = content![documented!]!;
    if (!media.schema || !isJsonMediaType(actual)) return;
    const text = bodyText(res) ?? '';
    let body: unknown;
    try {
      body = typeof res.text === 'string' ? JSON.parse(res.text) : isObject(res.body) || Array.isArray(res.body) ? res.body : JSON.parse(text);
    } catch {
      fail(`the body is not JSON although its content type is ${actual}`);
    }
    const validate = validatorAt(ajv, [...pointer, 'content', documented!, 'schema']);
    if (!validate(body)) fail(`the body does not match the schema of ${documented}: ${describeErrors(validate)}`);
  };

  return { mountPath, checkResponse };
}
