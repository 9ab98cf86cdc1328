/**
 * The example bank's customer login and account directory: a stand-in for the bank's real ones,
 * with a password step and a one-time code as the second factor of strong customer authentication.
 * The demo customers and their codes are in fixtures/demo-customers.json (see the README).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import type {
  AccountLookup,
  CredentialsAttempt,
  CredentialsResult,
  PsuAccount,
  PsuAuthenticator,
  SecondFactorAttempt,
  SecondFactorResult,
} from '../lib/index.js';

export interface DemoCustomer {
  readonly login: string;
  readonly password: string;
  /** The code the demo "sends" by text message. */
  readonly oneTimeCode: string;
  /** The masked phone number shown on the code page. */
  readonly phone: string;
  readonly psuId: string;
  readonly accounts: readonly PsuAccount[];
}

function same(a: string, b: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export class DemoBank implements PsuAuthenticator, AccountLookup {
  constructor(private readonly customers: readonly DemoCustomer[]) {}

  async verifyCredentials(attempt: CredentialsAttempt): Promise<CredentialsResult> {
    const customer = this.customers.find((candidate) => candidate.login === attempt.login.trim().toLowerCase());
    if (!customer || !same(customer.password, attempt.password)) return { outcome: 'failed' };
    return { outcome: 'second_factor', psuId: customer.psuId, hint: customer.phone };
  }

  async verifySecondFactor(attempt: SecondFactorAttempt): Promise<SecondFactorResult> {
    const customer = this.customers.find((candidate) => candidate.psuId === attempt.psuId);
    if (!customer || !same(customer.oneTimeCode, attempt.code.replace(/\s/g, ''))) return { outcome: 'failed' };
    return { outcome: 'authenticated', amr: ['pwd', 'sms', 'mfa'] };
  }

  async accountsOf(psuId: string): Promise<readonly PsuAccount[]> {
    return this.customers.find((customer) => customer.psuId === psuId)?.accounts ?? [];
  }
}
