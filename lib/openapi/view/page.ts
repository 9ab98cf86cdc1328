import { fragment, h, joined, Markup } from './markup.js';
import { operationAnchor, operationView, responseView, type Operation } from './operation.js';
import { componentAnchor, componentLink, isObject, schemaView, type Json } from './schema.js';
import { VIEW_STYLE } from './style.js';
import { inline, prose } from './text.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Where the document itself is served, linked from the page. */
export interface DocumentLinks {
  readonly json: string;
  readonly yaml: string;
}

interface Tag {
  readonly name: string;
  readonly description?: unknown;
  readonly operations: Operation[];
}

/** The operations of the document in its order, grouped by their first tag, the document's tags first. */
function operationsByTag(document: Json): Tag[] {
  const tags = new Map<string, Tag>();
  for (const tag of Array.isArray(document.tags) ? document.tags.filter(isObject) : []) {
    tags.set(String(tag.name), { name: String(tag.name), description: tag.description, operations: [] });
  }
  for (const [path, item] of Object.entries(isObject(document.paths) ? document.paths : {})) {
    if (!isObject(item)) continue;
    const pathParameters = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const operation = item[method];
      if (!isObject(operation)) continue;
      const name = Array.isArray(operation.tags) && typeof operation.tags[0] === 'string' ? operation.tags[0] : 'Other';
      const tag = tags.get(name) ?? { name, operations: [] };
      tags.set(name, tag);
      tag.operations.push({ method, path, operation, pathParameters });
    }
  }
  return [...tags.values()].filter((tag) => tag.operations.length);
}

const tagAnchor = (name: string): string => `tag-${name.replace(/[^A-Za-z0-9_-]+/g, '-')}`;

/** The kinds of components the page shows after the operations, with their headings. */
const COMPONENTS: readonly (readonly [string, string])[] = [['responses', 'Shared responses'], ['securitySchemes', 'Authentication'], ['schemas', 'Schemas']];

function componentsOf(document: Json, kind: string): [string, unknown][] {
  const all = isObject(document.components) ? document.components[kind] : undefined;
  return isObject(all) ? Object.entries(all) : [];
}

function contents(tags: readonly Tag[], document: Json): Markup {
  const kinds = COMPONENTS.filter(([kind]) => componentsOf(document, kind).length);
  return h('nav', { 'aria-label': 'Contents' },
    h('h2', null, 'Operations'),
    tags.map((tag) => [
      h('h3', null, h('a', { href: `#${tagAnchor(tag.name)}` }, tag.name)),
      h('ul', null, tag.operations.map((operation) => h('li', null,
        h('a', { href: `#${operationAnchor(operation)}` }, h('code', null, `${operation.method.toUpperCase()} ${operation.path}`)),
        typeof operation.operation.summary === 'string' && [' ', inline(operation.operation.summary)]))),
    ]),
    kinds.length > 0 && [h('h3', null, 'Components'), h('ul', null, kinds.map(([kind, title]) => h('li', null,
      h('a', { href: `#${kind}` }, title), ': ',
      joined(componentsOf(document, kind).map(([name]) => componentLink(kind, name)), ', '))))]);
}

function securityScheme(scheme: unknown): Markup {
  if (!isObject(scheme)) return fragment();
  const kind = [scheme.type, scheme.scheme].filter((part) => typeof part === 'string').join(', ');
  return fragment(h('p', { class: 'meta' }, kind), prose(scheme.description));
}

const RENDERERS: Record<string, (value: unknown) => Markup> = { responses: responseView, securitySchemes: securityScheme, schemas: schemaView };

function componentSections(document: Json): Markup {
  return fragment(COMPONENTS.map(([kind, title]) => {
    const entries = componentsOf(document, kind);
    const render = RENDERERS[kind]!;
    return entries.length > 0 && h('section', { id: kind }, h('h2', null, title), entries.map(([name, value]) => h('div', { class: 'component', id: componentAnchor(kind, name) },
      h('h3', null, h('code', null, name)),
      render(value))));
  }));
}

function header(document: Json, links: DocumentLinks): Markup {
  const info = isObject(document.info) ? document.info : {};
  const servers = Array.isArray(document.servers) ? document.servers.filter(isObject) : [];
  return h('header', null,
    h('h1', null, String(info.title ?? 'API')),
    h('p', { class: 'meta' }, `Version ${String(info.version ?? '')} · OpenAPI ${String(document.openapi ?? '')} · the document as `,
      h('a', { href: links.json }, 'JSON'), ' or ', h('a', { href: links.yaml }, 'YAML')),
    servers.map((server) => h('p', { class: 'meta' }, 'Server: ', h('code', null, String(server.url)))),
    h('section', { id: 'about' }, prose(info.description)));
}

/**
 * The document as a page of its own: every operation by tag, with its parameters, request body
 * and responses, then the shared responses, authentication schemes and schemas that operations
 * link to. Built on the server from the same document; no script, nothing loaded from elsewhere.
 */
export function documentView(document: Json, links: DocumentLinks): string {
  const info = isObject(document.info) ? document.info : {};
  const tags = operationsByTag(document);
  const page = h('html', { lang: 'en' },
    h('head', null,
      h('meta', { charset: 'utf-8' }),
      h('meta', { name: 'viewport', content: 'width=device-width, initial-scale=1' }),
      h('title', null, String(info.title ?? 'API')),
      h('style', null, new Markup(VIEW_STYLE))),
    h('body', null,
      header(document, links),
      contents(tags, document),
      h('main', null,
        tags.map((tag) => h('section', { id: tagAnchor(tag.name) }, h('h2', null, tag.name), prose(tag.description), tag.operations.map(operationView))),
        componentSections(document))));
  return `<!DOCTYPE html>\n${page.value}\n`;
}
