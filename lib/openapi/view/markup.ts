/**
 * Markup built element by element from the document: every text and attribute value is escaped
 * on the way in, so nothing the document says (descriptions, names, examples) can become markup.
 * Only a {@link Markup} made here, or the page's own stylesheet, is written as it is.
 */
export class Markup {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

export type Child = Markup | string | number | false | null | undefined | readonly Child[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

const escaped = (text: string): string => text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);

/** Elements without content or end tag. */
const VOID = new Set(['meta', 'br']);

/** Tag and attribute names come from this module's callers, never from the document: checked all the same. */
const NAME = /^[a-z][a-z0-9-]*$/;

function write(child: Child): string {
  if (child === null || child === undefined || child === false) return '';
  if (child instanceof Markup) return child.value;
  if (Array.isArray(child)) return child.map(write).join('');
  return escaped(String(child));
}

/** `<tag attributes>children</tag>`; attributes whose value is undefined are left out. */
export function h(tag: string, attributes: Readonly<Record<string, string | undefined>> | null, ...children: Child[]): Markup {
  if (!NAME.test(tag)) throw new TypeError(`not an element name: ${tag}`);
  let open = `<${tag}`;
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (!NAME.test(name)) throw new TypeError(`not an attribute name: ${name}`);
    if (value !== undefined) open += ` ${name}="${escaped(value)}"`;
  }
  return new Markup(VOID.has(tag) ? `${open}>` : `${open}>${write(children)}</${tag}>`);
}

/** Children side by side, without an element around them. */
export function fragment(...children: Child[]): Markup {
  return new Markup(write(children));
}

/** `items` separated by `separator`, e.g. a list of links joined by commas. */
export function joined(items: readonly Child[], separator: Child): Markup {
  return fragment(items.map((item, index) => (index ? [separator, item] : item)));
}
