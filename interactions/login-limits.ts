import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

import type { Storage } from '../adapters/storage.js';
import type { AttemptLimit } from '../lib/options.js';

/** The eight 16-bit groups of an IPv6 address, or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((group) => Number.parseInt(group, 16));
}

/**
 * The network a client address stands for: an IPv4 address (also when written as an IPv4-mapped
 * IPv6 address), or the /64 of an IPv6 address, the block one subscriber usually holds.
 */
export function clientNetwork(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped && isIPv4(mapped)) return mapped;
  if (isIPv6(ip)) {
    const groups = ipv6Groups(ip);
    if (groups) return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
  }
  return ip;
}

/**
 * Sign-in attempts counted per PSU identifier and per client network in the shared storage, so the
 * limits hold across instances and under concurrent requests: an attempt is counted before the
 * bank checks it. Identifiers are kept only as hashes.
 */
export class LoginLimits {
  constructor(
    private readonly storage: Storage,
    private readonly limits: { readonly perPsu: AttemptLimit; readonly perIp: AttemptLimit },
  ) {}

  /** The counter key of a customer identifier, as typed (case and surrounding spaces ignored). */
  static psuKey(login: string): string {
    return `login-attempts:psu:${createHash('sha256').update(login.trim().toLowerCase()).digest('base64url')}`;
  }

  static ipKey(ip: string): string {
    return `login-attempts:ip:${clientNetwork(ip)}`;
  }

  /**
   * Counts an attempt before it is checked. False when a limit is used up: the attempt must then be
   * refused without asking the bank.
   */
  async begin(psuKey: string, ip: string): Promise<boolean> {
    const [psu, address] = await Promise.all([
      this.storage.incrementCounter(psuKey, this.limits.perPsu.windowSeconds),
      this.storage.incrementCounter(LoginLimits.ipKey(ip), this.limits.perIp.windowSeconds),
    ]);
    return psu <= this.limits.perPsu.attempts && address <= this.limits.perIp.attempts;
  }

  /** After a failed attempt: whether no attempt is left. */
  async exhausted(psuKey: string, ip: string): Promise<boolean> {
    const [psu, address] = await Promise.all([
      this.storage.readCounter(psuKey),
      this.storage.readCounter(LoginLimits.ipKey(ip)),
    ]);
    return psu >= this.limits.perPsu.attempts || address >= this.limits.perIp.attempts;
  }

  /**
   * A successful attempt gives the network its attempt back, and clears the PSU's count when
   * `psuKey` is given: only once the PSU is fully authenticated, so that a known password does not
   * buy new tries at the second factor.
   */
  async succeed(ip: string, psuKey?: string): Promise<void> {
    await Promise.all([
      psuKey ? this.storage.resetCounter(psuKey) : undefined,
      this.storage.incrementCounter(LoginLimits.ipKey(ip), this.limits.perIp.windowSeconds, -1),
    ]);
  }
}
