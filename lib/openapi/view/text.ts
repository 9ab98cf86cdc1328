import { fragment, h, type Markup } from './markup.js';

/**
 * The little Markdown the document's descriptions use: `code`, **bold**, paragraphs separated by a
 * blank line, and pipe tables. Everything else is text, escaped like any other value.
 */
const INLINE = /(`[^`]+`|\*\*[^*]+\*\*)/;

export function inline(text: string): Markup {
  return fragment(text.split(INLINE).map((part) => {
    if (part.length > 2 && part.startsWith('`') && part.endsWith('`')) return h('code', null, part.slice(1, -1));
    if (part.length > 4 && part.startsWith('**') && part.endsWith('**')) return h('strong', null, part.slice(2, -2));
    return part;
  }));
}

const cells = (row: string): string[] => row.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((cell) => cell.trim());

function table(rows: readonly string[]): Markup {
  const [head = '', , ...body] = rows;
  return h('table', { class: 'text-table' },
    h('thead', null, h('tr', null, cells(head).map((cell) => h('th', null, inline(cell))))),
    h('tbody', null, body.map((row) => h('tr', null, cells(row).map((cell) => h('td', null, inline(cell)))))));
}

/** A description as paragraphs and tables; nothing when there is none. */
export function prose(text: unknown): Markup {
  if (typeof text !== 'string' || !text.trim()) return fragment();
  const blocks = text.split(/\n\s*\n/).map((block) => block.split('\n').filter((line) => line.trim())).filter((lines) => lines.length);
  return fragment(blocks.map((lines) => (
    lines.length >= 2 && lines.every((line) => line.trim().startsWith('|'))
      ? table(lines)
      : h('p', null, inline(lines.join(' ')))
  )));
}
