/**
 * Hosts that lie inside the PSU's own machine or network rather than on the internet: loopback,
 * private, shared and link-local addresses, and the special-use names that never resolve
 * publicly. Hosts are read as the WHATWG URL parser gives them (`URL.hostname`): IPv4 in dotted
 * decimal however it was written (`2130706433`, `0x7f.1` are `127.0.0.1`), IPv6 in brackets.
 * A public DNS name that resolves to such an address is not caught: the server never fetches a
 * redirect URI, the PSU's browser does.
 */

interface Ipv4Range {
  readonly base: number;
  readonly bits: number;
  readonly loopback?: true;
}

const IPV4_RANGES: readonly Ipv4Range[] = [
  { base: 0x00000000, bits: 8 }, // 0.0.0.0/8, "this network" (RFC 1122): 0.0.0.0 reaches the local host
  { base: 0x0a000000, bits: 8 }, // 10.0.0.0/8, private (RFC 1918)
  { base: 0x64400000, bits: 10 }, // 100.64.0.0/10, shared address space (RFC 6598)
  { base: 0x7f000000, bits: 8, loopback: true }, // 127.0.0.0/8, loopback
  { base: 0xa9fe0000, bits: 16 }, // 169.254.0.0/16, link-local (cloud metadata services among them)
  { base: 0xac100000, bits: 12 }, // 172.16.0.0/12, private (RFC 1918)
  { base: 0xc0a80000, bits: 16 }, // 192.168.0.0/16, private (RFC 1918)
];

/** Names reserved for local use: RFC 6761 (localhost), RFC 6762 (local), RFC 8375 (home.arpa), ICANN (internal). */
const LOCAL_NAMES = ['localhost', 'local', 'home.arpa', 'internal'] as const;

function ipv4(hostname: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

/** The eight 16-bit groups of a bracketed IPv6 literal, an embedded dotted IPv4 tail included. */
function ipv6Groups(hostname: string): number[] | undefined {
  const match = /^\[([0-9a-f:.]+)\]$/i.exec(hostname);
  if (!match) return undefined;
  let text = match[1]!;
  const tail = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (tail) {
    const value = ipv4(tail[1]!);
    if (value === undefined) return undefined;
    text = `${text.slice(0, -tail[1]!.length)}${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    return groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group)) ? groups.map((group) => parseInt(group, 16)) : undefined;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  return [...head, ...Array<number>(missing).fill(0), ...rest];
}

/** The IPv4 address an IPv6 address carries: IPv4-mapped, IPv4-compatible (`::a.b.c.d`, `::1`), NAT64 `64:ff9b::/96`. */
function embeddedIpv4(groups: readonly number[]): number | undefined {
  const prefix = groups.slice(0, 6);
  const mapped = prefix.slice(0, 5).every((group) => group === 0) && (prefix[5] === 0 || prefix[5] === 0xffff);
  const nat64 = prefix[0] === 0x64 && prefix[1] === 0xff9b && prefix.slice(2).every((group) => group === 0);
  return mapped || nat64 ? groups[6]! * 0x10000 + groups[7]! : undefined;
}

function inIpv4Range(address: number, loopbackOnly: boolean): boolean {
  return IPV4_RANGES.some(({ base, bits, loopback }) => (!loopbackOnly || loopback) && Math.floor(address / 2 ** (32 - bits)) === Math.floor(base / 2 ** (32 - bits)));
}

function localName(hostname: string, names: readonly string[]): boolean {
  // One trailing dot names the same host (`localhost.`).
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return names.some((local) => name === local || name.endsWith(`.${local}`));
}

function classify(hostname: string, loopbackOnly: boolean): boolean {
  const v4 = ipv4(hostname);
  if (v4 !== undefined) return inIpv4Range(v4, loopbackOnly);
  const groups = ipv6Groups(hostname);
  if (groups) {
    const embedded = embeddedIpv4(groups);
    // ::1 reads as 0.0.0.1 (in 0.0.0.0/8 as well), but it is the IPv6 loopback.
    if (embedded !== undefined) return inIpv4Range(embedded, loopbackOnly) || groups.join(':') === '0:0:0:0:0:0:0:1';
    if (loopbackOnly) return false;
    const first = groups[0]!;
    // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local (deprecated, still local).
    return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xffc0) === 0xfec0;
  }
  return localName(hostname, loopbackOnly ? ['localhost'] : LOCAL_NAMES);
}

/** Whether `hostname` (as `URL.hostname` gives it) is a loopback, private, shared or link-local address, or a local-use name. */
export function isLocalHost(hostname: string): boolean {
  return classify(hostname, false);
}

/** Whether `hostname` is a loopback address (127.0.0.0/8, ::1) or `localhost` (and its subdomains). */
export function isLoopbackHost(hostname: string): boolean {
  return classify(hostname, true);
}
