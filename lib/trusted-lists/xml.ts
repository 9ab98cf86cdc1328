/**
 * XML of the trusted lists (ETSI TS 119 612): parsed by @xmldom/xmldom, refusing document type
 * declarations (a list has none; entities are how XML parsers are attacked), and read by namespace
 * and local name only.
 */
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';

export const TSL_NS = 'http://uri.etsi.org/02231/v2#';
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const XADES_NS = 'http://uri.etsi.org/01903/v1.3.2#';

/** A list that cannot be used: unreadable, unsigned, signed by the wrong key, stale. */
export class TrustedListError extends Error {
  override readonly name = 'TrustedListError';
}

/** The document of `text`; throws {@link TrustedListError} unless it is well-formed XML without a DTD. */
export function parseXml(text: string): Document {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new TrustedListError('the list holds a document type declaration');
  let problem: string | undefined;
  const parser = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') problem ??= message;
    },
  });
  let document: Document;
  try {
    document = parser.parseFromString(text, 'application/xml');
  } catch (error) {
    throw new TrustedListError(`the list is not well-formed XML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (problem || !document.documentElement) throw new TrustedListError(`the list is not well-formed XML: ${(problem ?? 'no root element').split('\n')[0]}`);
  return document;
}

/** The child elements of `parent` named `name` in `namespace`. */
export function childrenOf(parent: Element | undefined, namespace: string, name: string): Element[] {
  if (!parent) return [];
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === node.ELEMENT_NODE) {
      const element = node as Element;
      if (element.namespaceURI === namespace && element.localName === name) found.push(element);
    }
  }
  return found;
}

/** The element at the end of `path` (names in the TSL namespace), first of each step. */
export function pathOf(parent: Element | undefined, ...path: string[]): Element | undefined {
  let current = parent;
  for (const name of path) current = childrenOf(current, TSL_NS, name)[0];
  return current;
}

/** Every element at the end of `path` (names in the TSL namespace), all of each step. */
export function allOf(parent: Element | undefined, ...path: string[]): Element[] {
  let current: Element[] = parent ? [parent] : [];
  for (const name of path) current = current.flatMap((element) => childrenOf(element, TSL_NS, name));
  return current;
}

/** The trimmed text of an element; empty when there is none. */
export function textOf(element: Element | undefined): string {
  return (element?.textContent ?? '').trim();
}

/** The descendants of `root` named `name` in any namespace (extension contents use several). */
export function descendantsNamed(root: Element | undefined, name: string): Element[] {
  if (!root) return [];
  return Array.from(root.getElementsByTagNameNS('*', name));
}

const DATE_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}:\d{2})?$/;

/** A date of the list (xsd:dateTime, UTC when it names no zone); throws when it is not one. */
export function dateOf(element: Element | undefined, what: string): Date {
  const match = DATE_TIME.exec(textOf(element));
  const date = match ? new Date(`${match[1]}${match[2] ?? 'Z'}`) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new TrustedListError(`the list's ${what} is not an xsd:dateTime`);
  return date;
}

/** Bounds on a list's size, checked before it is parsed. */
export interface XmlCaps {
  readonly maxElements: number;
  readonly maxDepth: number;
}

/**
 * Counts the elements and nesting of `text` by its tags alone (a cheap bound, not a parse), so that
 * a list padded with elements is refused before the parser spends its time on it.
 */
export function checkCaps(text: string, caps: XmlCaps): void {
  let elements = 0;
  let depth = 0;
  for (let at = text.indexOf('<'); at !== -1; at = text.indexOf('<', at + 1)) {
    const next = text.charCodeAt(at + 1);
    if (next === 0x2f /* / */) depth -= 1;
    else if (next !== 0x3f /* ? */ && next !== 0x21 /* ! */) {
      const end = text.indexOf('>', at);
      elements += 1;
      if (end === -1 || text.charCodeAt(end - 1) !== 0x2f) depth += 1;
      if (elements > caps.maxElements) throw new TrustedListError(`the list holds more than ${caps.maxElements} elements`);
      if (depth > caps.maxDepth) throw new TrustedListError(`the list nests elements deeper than ${caps.maxDepth}`);
    }
  }
}
