import { fragment, h, joined, type Markup } from './markup.js';
import { componentLink, isObject, refLink, schemaView, type Json } from './schema.js';
import { inline, prose } from './text.js';

/** One operation of the document: a method on a path, with the path's own parameters. */
export interface Operation {
  readonly method: string;
  readonly path: string;
  readonly operation: Json;
  readonly pathParameters: readonly unknown[];
}

/** The anchor of an operation on the page: its operationId, or its method and path. */
export function operationAnchor(operation: Operation): string {
  const id = typeof operation.operation.operationId === 'string' ? operation.operation.operationId : `${operation.method}${operation.path}`;
  return `op-${id.replace(/[^A-Za-z0-9_-]+/g, '-')}`;
}

function security(requirements: unknown): Markup {
  if (!Array.isArray(requirements)) return fragment();
  const alternatives = requirements.filter(isObject).filter((requirement) => Object.keys(requirement).length);
  if (!alternatives.length) return h('p', { class: 'security' }, 'Authentication: none.');
  const each = alternatives.map((requirement) => joined(Object.keys(requirement).map((name) => componentLink('securitySchemes', name)), ' and '));
  return h('p', { class: 'security' }, 'Authentication: ', joined(each, ', or '), '.');
}

const yesNo = (value: unknown): string => (value === true ? 'yes' : 'no');

function parameters(list: readonly unknown[]): Markup {
  const rows = list.filter(isObject);
  if (!rows.length) return fragment();
  return fragment(h('h4', null, 'Parameters'), h('table', { class: 'parameters' },
    h('thead', null, h('tr', null, ['name', 'in', 'required', 'value'].map((title) => h('th', null, title)))),
    h('tbody', null, rows.map((parameter) => (typeof parameter.$ref === 'string'
      ? h('tr', null, h('td', { colspan: '4' }, refLink(parameter.$ref)))
      : h('tr', null,
        h('td', null, h('code', null, String(parameter.name))),
        h('td', null, String(parameter.in)),
        h('td', null, yesNo(parameter.required)),
        h('td', null, schemaView(parameter.schema), prose(parameter.description))))))));
}

function examples(media: Json): Markup {
  const named = isObject(media.examples) ? Object.entries(media.examples).map(([name, example]) => [name, isObject(example) ? example.value : undefined] as const) : [];
  const all = 'example' in media ? [['example', media.example] as const, ...named] : named;
  if (!all.length) return fragment();
  return h('details', { class: 'examples' }, h('summary', null, 'Examples'),
    h('dl', null, all.map(([name, value]) => [h('dt', null, name), h('dd', null, h('pre', null, JSON.stringify(value, null, 2)))])));
}

/** The media types of a body, each with its schema and examples. */
function content(media: unknown): Markup {
  if (!isObject(media) || !Object.keys(media).length) return fragment();
  return h('dl', { class: 'content' }, Object.entries(media).map(([type, entry]) => [
    h('dt', null, h('code', null, type)),
    h('dd', null, isObject(entry) && [schemaView(entry.schema), examples(entry)]),
  ]));
}

function headers(list: unknown): Markup {
  if (!isObject(list) || !Object.keys(list).length) return fragment();
  return h('table', { class: 'headers' },
    h('thead', null, h('tr', null, ['header', 'required', 'value'].map((title) => h('th', null, title)))),
    h('tbody', null, Object.entries(list).map(([name, header]) => isObject(header) && h('tr', null,
      h('td', null, h('code', null, name)),
      h('td', null, yesNo(header.required)),
      h('td', null, schemaView(header.schema), prose(header.description))))));
}

/** One response: its description, headers and bodies; a reference links to the shared response. */
export function responseView(response: unknown): Markup {
  if (!isObject(response)) return fragment();
  if (typeof response.$ref === 'string') return h('p', null, 'See ', refLink(response.$ref), '.');
  return fragment(prose(response.description), headers(response.headers), content(response.content));
}

function requestBody(body: unknown): Markup {
  if (!isObject(body)) return fragment();
  if (typeof body.$ref === 'string') return fragment(h('h4', null, 'Request body'), h('p', null, 'See ', refLink(body.$ref), '.'));
  return fragment(
    h('h4', null, 'Request body', body.required === true && [' ', h('span', { class: 'required' }, 'required')]),
    prose(body.description),
    content(body.content),
  );
}

function responses(list: unknown): Markup {
  if (!isObject(list)) return fragment();
  return fragment(h('h4', null, 'Responses'), Object.entries(list).map(([status, response]) => h('div', { class: 'response' },
    h('h5', null, h('span', { class: `status status-${status.slice(0, 1)}` }, status)),
    responseView(response))));
}

/** An operation: method, path, summary, description, authentication, parameters, body, responses. */
export function operationView(operation: Operation): Markup {
  const { method, path, operation: op } = operation;
  return h('article', { class: 'operation', id: operationAnchor(operation) },
    h('h3', null, h('span', { class: `method method-${method}` }, method.toUpperCase()), ' ', h('code', { class: 'path' }, path)),
    typeof op.summary === 'string' && h('p', { class: 'summary' }, inline(op.summary)),
    prose(op.description),
    security(op.security),
    parameters([...operation.pathParameters, ...(Array.isArray(op.parameters) ? op.parameters : [])]),
    requestBody(op.requestBody),
    responses(op.responses));
}
