/**
 * The loopback, private and link-local host check of bank redirect URIs, against an independent
 * oracle (Node's BlockList) over every way the URL parser lets an address be written.
 */
import { BlockList } from 'node:net';

import { expect } from 'chai';
import fc from 'fast-check';

import { isLocalHost, isLoopbackHost } from '../../lib/registration/local-hosts.js';

const local = new BlockList();
for (const [network, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) {
  local.addSubnet(network, prefix, 'ipv4');
}
const localV6 = new BlockList();
for (const [network, prefix] of [['::1', 128], ['::', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10]] as const) localV6.addSubnet(network, prefix, 'ipv6');

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');

const hostOf = (host: string): string => new URL(`https://${host}/cb`).hostname;

const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const dotted = ([a, b, c, d]: readonly number[]): string => `${a}.${b}.${c}.${d}`;

/** Spellings of one IPv4 address that the WHATWG URL parser reads as that address. */
const spellings = (address: readonly number[]): fc.Arbitrary<string> => {
  const [a = 0, b = 0, c = 0, d = 0] = address;
  const value = ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  return fc.constantFrom(
    dotted(address),
    String(value),
    `0x${value.toString(16)}`,
    address.map((octet) => `0x${octet.toString(16)}`).join('.'),
    address.map((octet) => `0${octet.toString(8)}`).join('.'),
    `${a}.${(b << 16) + (c << 8) + d}`,
    `${a}.${b}.${(c << 8) + d}`,
    `[::ffff:${dotted(address)}]`,
    `[::ffff:${((a << 8) + b).toString(16)}:${((c << 8) + d).toString(16)}]`,
  );
};

describe('local hosts of redirect URIs', () => {
  it('property: an IPv4 address, however written, is local exactly when it lies in a local range', () => {
    fc.assert(fc.property(octets.chain((address) => spellings(address).map((spelling) => [address, spelling] as const)), ([address, spelling]) => {
      const hostname = hostOf(spelling);
      expect(isLocalHost(hostname), `${spelling} → ${hostname}`).to.equal(local.check(dotted(address), 'ipv4'));
      expect(isLoopbackHost(hostname), `${spelling} → ${hostname}`).to.equal(loopback.check(dotted(address), 'ipv4'));
    }), { numRuns: 2000 });
  });

  it('property: addresses of the local ranges themselves are always local', () => {
    const inRange = fc.oneof(
      fc.tuple(fc.constant(10), fc.nat(255), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(192), fc.constant(168), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(169), fc.constant(254), fc.nat(255), fc.nat(255)),
      fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)),
    );
    fc.assert(fc.property(inRange.chain(spellings), (spelling) => {
      expect(isLocalHost(hostOf(spelling)), spelling).to.equal(true);
    }), { numRuns: 1000 });
  });

  it('property: an IPv6 address is local exactly when it is loopback, unspecified, unique-local, link-local or site-local (or maps a local IPv4)', () => {
    const group = fc.integer({ min: 0, max: 0xffff });
    const address = fc.oneof(
      fc.array(group, { minLength: 8, maxLength: 8 }),
      fc.tuple(fc.constantFrom(0xfc00, 0xfd00, 0xfe80, 0xfebf, 0xfec0, 0xfe7f, 0xff00, 0x2001, 0), fc.array(group, { minLength: 7, maxLength: 7 })).map(([first, rest]) => [first | 0, ...rest]),
      fc.constant([0, 0, 0, 0, 0, 0, 0, 1]),
      fc.constant([0, 0, 0, 0, 0, 0, 0, 0]),
    );
    fc.assert(fc.property(address, (groups) => {
      const text = groups.map((value) => value.toString(16)).join(':');
      const hostname = hostOf(`[${text}]`);
      const mapped = groups.slice(0, 5).every((value) => value === 0) && (groups[5] === 0 || groups[5] === 0xffff);
      const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((value) => value === 0);
      const v4 = `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
      const expected = localV6.check(text, 'ipv6') || ((mapped || nat64) && local.check(v4, 'ipv4'));
      expect(isLocalHost(hostname), `${text} → ${hostname}`).to.equal(expected);
    }), { numRuns: 2000 });
  });

  it('knows the local-use names, with or without a trailing dot, in any case', () => {
    for (const name of ['localhost', 'LOCALHOST', 'api.localhost', 'printer.local', 'nas.home.arpa', 'db.internal', 'localhost.']) {
      expect(isLocalHost(hostOf(name)), name).to.equal(true);
    }
    for (const name of ['localhost.tpp.example', 'mylocalhost', 'local.tpp.example', 'internal.example', 'home.arpa.example', 'tpp.example']) {
      expect(isLocalHost(hostOf(name)), name).to.equal(false);
    }
    expect(isLoopbackHost('api.localhost')).to.equal(true);
    expect(isLoopbackHost('printer.local')).to.equal(false);
  });

  it('property: never throws on any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
      const result = isLocalHost(text);
      expect(result).to.be.a('boolean');
      expect(isLoopbackHost(text)).to.be.a('boolean');
    }), { numRuns: 2000 });
  });
});
