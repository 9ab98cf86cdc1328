/**
 * The PSU side of the test servers: simulated sandbox customers, and a bank authenticator and
 * account directory whose customers sign in with a password and a one-time code.
 */
import type {
  AccountLookup,
  CredentialsAttempt,
  CredentialsResult,
  PsuAccount,
  PsuAuthenticator,
  SandboxPsu,
  SecondFactorAttempt,
  SecondFactorResult,
} from '../../lib/index.js';

export const SANDBOX_PSUS: SandboxPsu[] = [
  {
    id: 'sandbox-anna',
    name: 'Anna Schmidt',
    accounts: [
      { id: 'sb-anna-1', iban: 'DE89370400440532013000', name: 'Girokonto', currency: 'EUR' },
      { id: 'sb-anna-2', iban: 'DE02120300000000202051', name: 'Tagesgeld', currency: 'EUR' },
    ],
  },
  {
    id: 'sandbox-claire',
    name: 'Claire Martin',
    accounts: [{ id: 'sb-claire-1', iban: 'FR7610278060610001020480101', name: 'Compte courant', currency: 'EUR' }],
  },
];

export interface BankCustomer {
  readonly login: string;
  readonly password: string;
  /** When set, sign-in needs this one-time code as a second step. */
  readonly code?: string;
  readonly psuId: string;
  readonly accounts: readonly PsuAccount[];
}

export const BANK_CUSTOMERS: BankCustomer[] = [
  {
    login: 'marie',
    password: 'correct horse',
    code: '123456',
    psuId: 'psu-marie',
    accounts: [
      { id: 'bk-marie-1', iban: 'FR7630004000031234567890143', name: 'Compte courant', currency: 'EUR' },
      { id: 'bk-marie-2', iban: 'FR7630004000039876543210987', name: 'Livret', currency: 'EUR' },
    ],
  },
  {
    login: 'lukas',
    password: 'battery staple',
    psuId: 'psu-lukas',
    accounts: [{ id: 'bk-lukas-1', iban: 'DE75512108001245126199', name: 'Girokonto', currency: 'EUR' }],
  },
  { login: 'nobody', password: 'no accounts', psuId: 'psu-nobody', accounts: [] },
];

/** A bank whose calls are recorded, and which can be made to fail. */
export class TestBank implements PsuAuthenticator, AccountLookup {
  readonly credentialAttempts: CredentialsAttempt[] = [];
  readonly secondFactorAttempts: SecondFactorAttempt[] = [];
  readonly lookups: { psuId: string; scope: string; clientId: string; language: string }[] = [];
  /** Makes the next calls of a service throw. */
  failing: { authenticator?: boolean; accounts?: boolean } = {};

  constructor(readonly customers: readonly BankCustomer[] = BANK_CUSTOMERS) {}

  async verifyCredentials(attempt: CredentialsAttempt): Promise<CredentialsResult> {
    this.credentialAttempts.push(attempt);
    if (this.failing.authenticator) throw new Error('authenticator unavailable');
    const customer = this.customers.find((candidate) => candidate.login === attempt.login);
    if (!customer || customer.password !== attempt.password) return { outcome: 'failed' };
    if (!customer.code) return { outcome: 'authenticated', psuId: customer.psuId, amr: ['pwd', 'hwk'] };
    return { outcome: 'second_factor', psuId: customer.psuId, hint: '+33 6 •• •• •• 42', challenge: `challenge-of-${customer.psuId}` };
  }

  async verifySecondFactor(attempt: SecondFactorAttempt): Promise<SecondFactorResult> {
    this.secondFactorAttempts.push(attempt);
    if (this.failing.authenticator) throw new Error('authenticator unavailable');
    const customer = this.customers.find((candidate) => candidate.psuId === attempt.psuId);
    if (!customer?.code || customer.code !== attempt.code || attempt.challenge !== `challenge-of-${customer.psuId}`) return { outcome: 'failed' };
    return { outcome: 'authenticated' };
  }

  async accountsOf(psuId: string, context: { scope: string; clientId: string; language: string }): Promise<readonly PsuAccount[]> {
    this.lookups.push({ psuId, ...context });
    if (this.failing.accounts) throw new Error('account directory unavailable');
    return this.customers.find((customer) => customer.psuId === psuId)?.accounts ?? [];
  }
}
