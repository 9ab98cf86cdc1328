/**
 * A minimal DER reader: enough to walk a CRL's revoked certificates without building an object
 * per ASN.1 node (a QTSP's CRL may list tens of thousands of certificates), and to take the raw
 * bytes of a field that is hashed or compared as encoded.
 */

export class DerError extends Error {
  override readonly name = 'DerError';
}

/** One DER element in `der`: its tag, where it starts, where its content starts, where it ends. */
export interface Element {
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

export function element(der: Uint8Array, offset: number, limit = der.length): Element {
  const tag = der[offset];
  let length = der[offset + 1];
  if (tag === undefined || length === undefined || offset + 2 > limit) throw new DerError('truncated DER');
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) throw new DerError('unsupported DER length');
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + (der[contentStart + i] ?? 0);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new DerError('truncated DER');
  return { tag, start: offset, contentStart, end };
}

/** The elements inside a constructed element. */
export function children(der: Uint8Array, parent: Element): Element[] {
  const found: Element[] = [];
  for (let cursor = parent.contentStart; cursor < parent.end;) {
    const child = element(der, cursor, parent.end);
    found.push(child);
    cursor = child.end;
  }
  return found;
}

export function content(der: Uint8Array, of: Element): Uint8Array {
  return der.subarray(of.contentStart, of.end);
}

export function raw(der: Uint8Array, of: Element): Uint8Array {
  return der.subarray(of.start, of.end);
}

/** An OBJECT IDENTIFIER's dotted form. */
export function objectIdentifier(der: Uint8Array, of: Element): string {
  if (of.tag !== 0x06) throw new DerError('expected an OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let value = 0;
  for (let i = of.contentStart; i < of.end; i += 1) {
    const byte = der[i] as number;
    value = value * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      if (!arcs.length) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

/** A UTCTime (RFC 5280: years 1950–2049) or GeneralizedTime, in epoch ms. */
export function time(der: Uint8Array, of: Element): number {
  const text = Buffer.from(content(der, of)).toString('latin1');
  const match = of.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
    : of.tag === 0x18 ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text) : null;
  if (!match) throw new DerError('expected a UTCTime or GeneralizedTime');
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const year = of.tag === 0x17 ? ((y as number) < 50 ? 2000 + (y as number) : 1900 + (y as number)) : (y as number);
  return Date.UTC(year, (mo as number) - 1, d, h, mi, s);
}
