import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

import type { CounterLimit, Storage } from '../lib/storage.js';
import type { AttemptLimit } from '../lib/options/index.js';

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

/** The group of every sign-in counter: one atomic step can count several of them (see Storage). */
const GROUP = '{login-attempts}';

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * Sign-in attempts counted in the shared storage, so that the limits hold across instances and
 * under concurrent requests: an attempt is counted before the bank checks it. Three counters:
 * - the client network (`perIp`), across every identifier tried from it;
 * - the identifier as typed (`perPsu`): passwords and one-time codes of sign-ins started with it;
 * - the PSU id the bank's authenticator returned (`perPsu`): one-time codes, whichever of the
 *   customer's identifiers was typed, so that aliases of one customer share one budget.
 * An attempt is counted against the address first and against the others only while the address
 * is within its limit, in one atomic step (`Storage.incrementCountersWithin`): an address over its
 * limit creates no counters, so the storage does not grow with an attacker's request rate. The
 * counters share one group, and so one Redis Cluster hash slot: a script can only count keys of
 * one slot, and sign-ins are too few to load one node. Identifiers and PSU ids are kept only as
 * hashes.
 */
export class LoginLimits {
  constructor(
    private readonly storage: Storage,
    private readonly limits: { readonly perPsu: AttemptLimit; readonly perIp: AttemptLimit },
  ) {}

  /** The counter of a customer identifier, as typed (case and surrounding spaces ignored). */
  static psuKey(login: string): string {
    return `${GROUP}:psu:${digest(login.trim().toLowerCase())}`;
  }

  /** The counter of a PSU, by the id the bank's authenticator returned. */
  static psuIdKey(psuId: string): string {
    return `${GROUP}:psu-id:${digest(psuId)}`;
  }

  static ipKey(ip: string): string {
    return `${GROUP}:ip:${clientNetwork(ip)}`;
  }

  /** The counters of an attempt, the address first. */
  #counters(psuKey: string, ip: string, psuId: string | undefined): CounterLimit[] {
    const { perPsu, perIp } = this.limits;
    return [
      { name: LoginLimits.ipKey(ip), windowSeconds: perIp.windowSeconds, limit: perIp.attempts },
      { name: psuKey, windowSeconds: perPsu.windowSeconds, limit: perPsu.attempts },
      ...(psuId === undefined ? [] : [{ name: LoginLimits.psuIdKey(psuId), windowSeconds: perPsu.windowSeconds, limit: perPsu.attempts }]),
    ];
  }

  /**
   * Counts an attempt before it is checked: a password (`psuKey` of the identifier typed), or a
   * one-time code (also `psuId`, the PSU the authenticator named). False when a limit is used up:
   * the attempt must then be refused without asking the bank, and nothing was counted.
   */
  async begin(psuKey: string, ip: string, psuId?: string): Promise<boolean> {
    return this.storage.incrementCountersWithin(this.#counters(psuKey, ip, psuId));
  }

  /** After a failed attempt (or before asking for a one-time code, with `psuId`): whether no attempt is left. */
  async exhausted(psuKey: string, ip: string, psuId?: string): Promise<boolean> {
    const counters = this.#counters(psuKey, ip, psuId);
    const values = await Promise.all(counters.map(({ name }) => this.storage.readCounter(name)));
    return counters.some(({ limit }, i) => values[i]! >= limit);
  }

  /**
   * A successful attempt gives the network its attempt back, and clears the identifier's count
   * (`psuKey`) and the PSU's (`psuId`) when given: only once the PSU is fully authenticated, so
   * that a known password does not buy new tries at the second factor.
   */
  async succeed(ip: string, psuKey?: string, psuId?: string): Promise<void> {
    await Promise.all([
      psuKey ? this.storage.resetCounter(psuKey) : undefined,
      psuId === undefined ? undefined : this.storage.resetCounter(LoginLimits.psuIdKey(psuId)),
      this.storage.incrementCounter(LoginLimits.ipKey(ip), this.limits.perIp.windowSeconds, -1),
    ]);
  }
}
