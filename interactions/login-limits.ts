import { createHash } from 'node:crypto';

import type { Storage } from '../adapters/storage.js';
import type { AttemptLimit } from '../lib/options.js';

/**
 * Failed sign-ins counted per PSU identifier and per client IP in the shared storage, so the limit
 * holds across instances. Identifiers are kept only as hashes.
 */
export class LoginLimits {
  constructor(
    private readonly storage: Storage,
    private readonly limits: { readonly perPsu: AttemptLimit; readonly perIp: AttemptLimit },
  ) {}

  /** The counter key of a customer identifier, as typed (case and surrounding spaces ignored). */
  static psuKey(login: string): string {
    return `login-failures:psu:${createHash('sha256').update(login.trim().toLowerCase()).digest('base64url')}`;
  }

  static ipKey(ip: string): string {
    return `login-failures:ip:${ip}`;
  }

  /** Whether either limit is already reached: the attempt must then be refused unchecked. */
  async blocked(psuKey: string, ip: string): Promise<boolean> {
    const [psu, address] = await Promise.all([
      this.storage.readCounter(psuKey),
      this.storage.readCounter(LoginLimits.ipKey(ip)),
    ]);
    return psu >= this.limits.perPsu.attempts || address >= this.limits.perIp.attempts;
  }

  /** Counts a failure; returns whether a limit is now reached. */
  async fail(psuKey: string, ip: string): Promise<boolean> {
    const [psu, address] = await Promise.all([
      this.storage.incrementCounter(psuKey, this.limits.perPsu.windowSeconds),
      this.storage.incrementCounter(LoginLimits.ipKey(ip), this.limits.perIp.windowSeconds),
    ]);
    return psu >= this.limits.perPsu.attempts || address >= this.limits.perIp.attempts;
  }

  /** A successful sign-in clears the PSU's failures (not the address's). */
  async succeed(psuKey: string): Promise<void> {
    await this.storage.resetCounter(psuKey);
  }
}
