import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

/** An address range: the address as 16 bytes (IPv4 as IPv4-mapped IPv6) and its prefix length. */
interface Range {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function ipv4Bytes(address: string): Uint8Array {
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  address.split('.').forEach((part, index) => {
    bytes[12 + index] = Number(part);
  });
  return bytes;
}

function ipv6Bytes(address: string): Uint8Array | undefined {
  let text = address;
  // An embedded IPv4 address (`::ffff:192.0.2.1`) stands for the last two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const v4 = ipv4Bytes(dotted);
    const group = (high: number) => (((v4[high] ?? 0) << 8) | (v4[high + 1] ?? 0)).toString(16);
    text = `${text.slice(0, -dotted.length)}${group(12)}:${group(14)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const bytes = new Uint8Array(16);
  [...head, ...Array<string>(missing).fill('0'), ...tail].forEach((group, index) => {
    const value = Number.parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  });
  return bytes;
}

/** The 16 bytes of an IPv4 or IPv6 address (zone index dropped), or undefined when it is none. */
function addressBytes(address: string): Uint8Array | undefined {
  const plain = address.split('%')[0] ?? '';
  if (isIPv4(plain)) return ipv4Bytes(plain);
  if (isIPv6(plain)) return ipv6Bytes(plain);
  return undefined;
}

/** Parses `address` or `address/prefix`; throws a message saying what is wrong. */
function parseRange(entry: string): Range {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) throw new Error(`"${entry}" is not an address or CIDR range`);
  const bytes = addressBytes(address);
  if (!bytes || address.includes('%')) throw new Error(`"${entry}" is not an IPv4 or IPv6 address or CIDR range`);
  const v4 = isIPv4(address);
  const width = v4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) throw new Error(`"${entry}" has an invalid prefix length`);
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (prefix > width) throw new Error(`"${entry}" has a prefix longer than ${width} bits`);
  return { bytes, prefix: v4 ? prefix + 96 : prefix };
}

function contains(range: Range, bytes: Uint8Array): boolean {
  let bits = range.prefix;
  for (let index = 0; bits > 0; index += 1, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((range.bytes[index] ?? 0) & mask) !== ((bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** How much of X-Forwarded-For is read, from its right end (where the trusted proxies wrote). */
const MAX_FORWARDED_FOR = 2048;

/**
 * The proxies the bank named: addresses and CIDR ranges, IPv4 and IPv6. An IPv4 entry also matches
 * the same address seen as IPv4-mapped IPv6 (`::ffff:127.0.0.1`), as on a dual-stack listener.
 */
export class TrustedProxies {
  readonly #ranges: readonly Range[];

  /** Throws an Error naming the first entry that is not an address or CIDR range. */
  constructor(entries: readonly string[]) {
    this.#ranges = entries.map(parseRange);
  }

  /** Entry errors as a message, or undefined when every entry is valid (for option validation). */
  static problemWith(entries: readonly string[]): string | undefined {
    for (const entry of entries) {
      try {
        parseRange(entry);
      } catch (error) {
        return (error as Error).message;
      }
    }
    return undefined;
  }

  /** Whether `address` (as Node reports a peer) is one of the trusted proxies. */
  trusts(address: string | undefined): boolean {
    const bytes = address ? addressBytes(address) : undefined;
    return bytes !== undefined && this.#ranges.some((range) => contains(range, bytes));
  }

  /** Whether the request's TCP peer is one of the trusted proxies. */
  trustsPeerOf(req: IncomingMessage): boolean {
    return this.trusts(req.socket?.remoteAddress);
  }

  /**
   * The client's address: the TCP peer, or, when the peer is a trusted proxy, the nearest address of
   * its X-Forwarded-For that is not itself a trusted proxy. Addresses a client wrote further left
   * are never believed.
   */
  clientAddress(req: IncomingMessage): string {
    const peer = req.socket?.remoteAddress ?? '';
    if (!this.trusts(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const text = Array.isArray(header) ? header.join(',') : header;
    if (!text) return peer;
    // What a client wrote on the left may be padding of any length; the proxies append on the right.
    const hops = text.slice(-MAX_FORWARDED_FOR).split(',').map((hop) => hop.trim());
    if (text.length > MAX_FORWARDED_FOR) hops.shift();
    let address = peer;
    for (let index = hops.length - 1; index >= 0; index -= 1) {
      const hop = hops[index] ?? '';
      if (!addressBytes(hop)) return address;
      address = hop;
      if (!this.trusts(hop)) return hop;
    }
    return address;
  }
}

/** No proxy is trusted: X-Forwarded-For is never believed, the client is the TCP peer. */
export const NO_PROXIES = new TrustedProxies([]);
