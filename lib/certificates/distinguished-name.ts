/**
 * Distinguished names are written in many dialects: RFC 4514 (`CN=a,O=b`, most specific first),
 * OpenSSL's one-line form (`/C=FR/O=b/CN=a`), and Node's (`C=FR\nO=b\nCN=a`). Two names are the same
 * when they hold the same attributes (OID → value), so they are compared attribute by attribute.
 */

export interface DnAttribute {
  /** Dotted object identifier of the attribute type. */
  readonly oid: string;
  readonly value: string;
}

const KEYWORDS: Record<string, string> = {
  CN: '2.5.4.3',
  SN: '2.5.4.4',
  SURNAME: '2.5.4.4',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  S: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  TITLE: '2.5.4.12',
  BUSINESSCATEGORY: '2.5.4.15',
  POSTALCODE: '2.5.4.17',
  GN: '2.5.4.42',
  GIVENNAME: '2.5.4.42',
  ORGANIZATIONIDENTIFIER: '2.5.4.97',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  E: '1.2.840.113549.1.9.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
  JURISDICTIONL: '1.3.6.1.4.1.311.60.2.1.1',
  JURISDICTIONST: '1.3.6.1.4.1.311.60.2.1.2',
  JURISDICTIONC: '1.3.6.1.4.1.311.60.2.1.3',
};

/** Keywords used when writing RFC 4514 strings (IANA LDAP descriptors). */
const WRITE_KEYWORDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

export class DistinguishedNameSyntaxError extends Error {
  override readonly name = 'DistinguishedNameSyntaxError';
}

function keywordToOid(keyword: string): string {
  const trimmed = keyword.trim();
  const dotted = /^(?:OID\.)?(\d+(?:\.\d+)+)$/i.exec(trimmed);
  if (dotted?.[1]) return dotted[1];
  const oid = KEYWORDS[trimmed.toUpperCase()];
  if (!oid) throw new DistinguishedNameSyntaxError(`unknown attribute type "${trimmed}"`);
  return oid;
}

/** Splits on `separator` where it is not escaped with a backslash or inside double quotes. */
function splitUnescaped(input: string, separators: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < input.length; i += 1) {
    const char = input[i] as string;
    if (char === '\\' && i + 1 < input.length) {
      current += char + input[i + 1];
      i += 1;
    } else if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (!quoted && separators.includes(char)) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/** Removes surrounding whitespace, except a trailing space escaped with a backslash (`a\ `). */
function trimUnescaped(text: string): string {
  let end = text.length;
  while (end > 0 && /\s/.test(text[end - 1] as string)) {
    let backslashes = 0;
    while (backslashes < end - 1 && text[end - 2 - backslashes] === '\\') backslashes += 1;
    if (backslashes % 2 === 1) break;
    end -= 1;
  }
  return text.slice(0, end).trimStart();
}

/**
 * RFC 4514 §2.4: `#` and the hex of a BER-encoded value, as Java and OpenSSL write attributes typed
 * by OID (`2.5.4.97=#0C10...`). Returns undefined for anything but a well-formed string type.
 */
function decodeBerString(hex: string): string | undefined {
  const bytes = Buffer.from(hex, 'hex');
  let length = bytes[1] ?? 0;
  let offset = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count < 1 || count > 3) return undefined;
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + (bytes[offset + i] ?? 0);
    offset += count;
  }
  if (bytes.length < 2 || offset + length !== bytes.length) return undefined;
  const content = bytes.subarray(offset);
  try {
    switch (bytes[0]) {
      case 0x0c: return new TextDecoder('utf-8', { fatal: true }).decode(content); // UTF8String
      case 0x13: case 0x14: case 0x16: case 0x1a: return content.toString('latin1'); // Printable, Teletex, IA5, Visible
      case 0x1e: return new TextDecoder('utf-16be', { fatal: true }).decode(content); // BMPString
      default: return undefined;
    }
  } catch {
    return undefined;
  }
}

function unescapeValue(raw: string): string {
  let value = trimUnescaped(raw);
  if (/^#(?:[0-9a-fA-F]{2})+$/.test(value)) {
    const decoded = decodeBerString(value.slice(1));
    if (decoded !== undefined) return decoded;
  }
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    value = value.slice(1, -1);
  }
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let i = 0; i < value.length; i += 1) {
    const char = value[i] as string;
    if (char === '\\' && i + 1 < value.length) {
      const hex = value.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
        continue;
      }
      flush();
      out += value[i + 1];
      i += 1;
    } else {
      flush();
      out += char;
    }
  }
  flush();
  return out;
}

/**
 * Parses a distinguished name written in RFC 4514, OpenSSL one-line or Node's newline-separated
 * form into its attributes. Throws {@link DistinguishedNameSyntaxError} on anything else.
 */
export function parseDistinguishedName(input: string): DnAttribute[] {
  if (typeof input !== 'string' || !input.trim()) {
    throw new DistinguishedNameSyntaxError('empty distinguished name');
  }
  if (input.length > 4096) throw new DistinguishedNameSyntaxError('distinguished name too long');
  const text = trimUnescaped(input);
  let components: string[];
  if (text.includes('\n')) {
    components = text.split(/\r?\n/);
  } else if (text.startsWith('/')) {
    components = splitUnescaped(text.slice(1), '/');
  } else {
    components = splitUnescaped(text, ',;');
  }
  const attributes: DnAttribute[] = [];
  for (const component of components) {
    if (!component.trim()) throw new DistinguishedNameSyntaxError('empty name component');
    for (const pair of splitUnescaped(component, '+')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new DistinguishedNameSyntaxError(`"${pair.trim()}" is not of the form type=value`);
      attributes.push({ oid: keywordToOid(pair.slice(0, eq)), value: unescapeValue(pair.slice(eq + 1)) });
    }
  }
  return attributes;
}

function hexEscape(char: string): string {
  return Buffer.from(char, 'utf8').toString('hex').toUpperCase().replace(/../g, '\\$&');
}

/**
 * RFC 4514 §2.4 escaping. Control characters (a newline would read as Node's form) and whitespace
 * other than a space at either end (which the parser trims) are written as hex pairs.
 */
function escapeValue(value: string): string {
  const chars = Array.from(value);
  return chars.map((char, index) => {
    const edge = index === 0 || index === chars.length - 1;
    if ('\\",+;<>='.includes(char) || (char === '#' && index === 0) || (char === ' ' && edge)) return `\\${char}`;
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f || (edge && /\s/.test(char))) return hexEscape(char);
    return char;
  }).join('');
}

/** Writes attributes held in certificate order as an RFC 4514 string (most specific first). */
export function formatRfc4514(attributes: readonly DnAttribute[]): string {
  return [...attributes]
    .reverse()
    .map(({ oid, value }) => `${WRITE_KEYWORDS[oid] ?? oid}=${escapeValue(value)}`)
    .join(',');
}

function normalizeValue(value: string): string {
  return value.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
}

function canonical(attributes: readonly DnAttribute[]): string[] {
  return attributes.map(({ oid, value }) => `${oid}=${normalizeValue(value)}`).sort();
}

/** True when both names hold the same attributes, whatever their order, dialect or letter case. */
export function sameDistinguishedName(a: readonly DnAttribute[], b: readonly DnAttribute[]): boolean {
  if (a.length !== b.length) return false;
  const left = canonicalOf(a);
  const right = canonicalOf(b);
  return left.every((value, index) => value === right[index]);
}

/** Canonical forms by name: a registered name and a verified certificate's subject are compared at every request. */
const canonicalForms = new WeakMap<readonly DnAttribute[], readonly string[]>();

function canonicalOf(name: readonly DnAttribute[]): readonly string[] {
  let form = canonicalForms.get(name);
  if (!form) {
    form = canonical(name);
    canonicalForms.set(name, form);
  }
  return form;
}

/** Names parsed from text, by text: a client's registered subject DN is compared at every request. */
const parsed = new Map<string, readonly DnAttribute[] | null>();
const PARSED_NAMES = 1000;

/** Like {@link sameDistinguishedName} for a name written as text; false when the text cannot be parsed. */
export function distinguishedNameMatches(text: string, attributes: readonly DnAttribute[]): boolean {
  let name = parsed.get(text);
  if (name === undefined) {
    try {
      name = parseDistinguishedName(text);
    } catch {
      name = null;
    }
    if (parsed.size >= PARSED_NAMES) parsed.clear();
    parsed.set(text, name);
  }
  return name !== null && sameDistinguishedName(name, attributes);
}
