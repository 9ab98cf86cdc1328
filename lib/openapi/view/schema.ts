import { fragment, h, joined, type Markup } from './markup.js';
import { prose } from './text.js';

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

const KINDS: Record<string, string> = { schemas: 'schema', responses: 'response', securitySchemes: 'security' };

/** The anchor of a component on the page: `schema-Name`, `response-Name`, `security-Name`. */
export function componentAnchor(kind: string, name: string): string {
  return `${KINDS[kind] ?? kind}-${name}`;
}

/** A link to where the page shows a component. */
export const componentLink = (kind: string, name: string): Markup => h('a', { href: `#${componentAnchor(kind, name)}` }, name);

/** A `$ref` to a component of the document, as a link to where the page shows it. */
export function refLink(ref: string): Markup {
  const [, kind, name] = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref) ?? [];
  return kind && name ? componentLink(kind, name) : h('code', null, ref);
}

const literal = (value: unknown): Markup => h('code', null, JSON.stringify(value));

const literals = (values: readonly unknown[]): Markup => joined(values.map(literal), ', ');

/** What a value is, in a few words: a link, a constant, a choice, or a type. */
function kind(node: Json): Markup {
  if (typeof node.$ref === 'string') return refLink(node.$ref);
  if ('const' in node) return literal(node.const);
  if (Array.isArray(node.enum)) return fragment('one of ', literals(node.enum));
  const type = Array.isArray(node.type) ? node.type.join(' or ') : typeof node.type === 'string' ? node.type : undefined;
  if (type === 'array' && isObject(node.items)) return fragment('array of ', kind(node.items));
  if (!type) return fragment();
  return fragment(h('span', { class: 'type' }, type), typeof node.format === 'string' && [' ', h('span', { class: 'format' }, `(${node.format})`)]);
}

function bounds(node: Json, unit: 'Length' | 'Items'): string | undefined {
  const min = node[`min${unit}`];
  const max = node[`max${unit}`];
  const noun = unit === 'Length' ? 'characters' : 'items';
  if (typeof min === 'number' && typeof max === 'number') return `${min}–${max} ${noun}`;
  if (typeof max === 'number') return `at most ${max} ${noun}`;
  if (typeof min === 'number') return `at least ${min} ${noun}`;
  return undefined;
}

/** The constraints a value must meet besides its type: pattern, lengths, bounds, default, examples. */
function constraints(node: Json): Markup[] {
  const facts: (Markup | string | undefined)[] = [
    typeof node.pattern === 'string' ? fragment('pattern ', h('code', null, node.pattern)) : undefined,
    bounds(node, 'Length'),
    bounds(node, 'Items'),
    typeof node.minimum === 'number' ? `at least ${node.minimum}` : undefined,
    typeof node.maximum === 'number' ? `at most ${node.maximum}` : undefined,
    'default' in node ? fragment('default ', literal(node.default)) : undefined,
    Array.isArray(node.examples) && node.examples.length ? fragment('e.g. ', literals(node.examples)) : undefined,
  ];
  return facts.filter((fact) => fact !== undefined).map((fact) => fragment(fact));
}

function properties(node: Json): Markup {
  if (!isObject(node.properties)) return fragment();
  const required = new Set(Array.isArray(node.required) ? node.required : []);
  return h('ul', { class: 'properties' },
    Object.entries(node.properties).map(([name, property]) => h('li', null,
      h('code', { class: 'name' }, name),
      required.has(name) && [' ', h('span', { class: 'required' }, 'required')],
      ' ',
      schemaView(property))),
    node.additionalProperties === false && h('li', { class: 'closed' }, 'No other properties.'));
}

const COMPOSITIONS: readonly (readonly [string, string])[] = [['allOf', 'All of'], ['oneOf', 'One of'], ['anyOf', 'Any of']];

function compositions(node: Json): Markup {
  return fragment(COMPOSITIONS.map(([key, label]) => {
    const parts = node[key];
    if (!Array.isArray(parts)) return undefined;
    return h('div', { class: 'composition' }, `${label}:`, h('ol', null, parts.map((part) => h('li', null,
      isObject(part) && typeof part.title === 'string' && [h('strong', null, part.title), ' '],
      schemaView(part)))));
  }));
}

/** Whether a schema has more than fits on one line: properties or alternatives. */
const structured = (node: unknown): node is Json => isObject(node) && (isObject(node.properties) || COMPOSITIONS.some(([key]) => Array.isArray(node[key])));

/**
 * A schema, readably: its kind and constraints on one line, its description, then its properties,
 * alternatives and the shape of its items. References link to the schema they name.
 */
export function schemaView(node: unknown): Markup {
  if (!isObject(node)) return fragment();
  const facts = constraints(node);
  return h('div', { class: 'schema' },
    h('span', { class: 'kind' }, kind(node)),
    facts.length > 0 && [' ', h('span', { class: 'constraints' }, joined(facts, '; '))],
    typeof node.description === 'string' && h('div', { class: 'description' }, prose(node.description)),
    compositions(node),
    properties(node),
    structured(node.items) && h('div', { class: 'items' }, 'Each item: ', schemaView(node.items)));
}
