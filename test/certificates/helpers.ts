/**
 * Shared helpers of the certificate tests (not a test file itself: mocha only runs *.test.ts).
 */
import { X509Certificate } from 'node:crypto';

import { expect } from 'chai';

import { CertificateRejectedError, type EnvironmentTrust } from '../../lib/certificates/identity.js';
import type { IssuedCertificate } from '../../tools/dev-pki/pki.js';
import type { TestPki } from '../support/pki.js';

export const DAY = 24 * 60 * 60 * 1000;

/** A date `days` from now, without milliseconds (certificates hold whole seconds). */
export function daysFromNow(days: number, from = Date.now()): Date {
  const date = new Date(from + days * DAY);
  date.setUTCMilliseconds(0);
  return date;
}

export function nodeCertificate(issued: IssuedCertificate): X509Certificate {
  return new X509Certificate(issued.der);
}

/**
 * The two environments as the server configures them in the tests: the sandbox trusts the sandbox
 * root (its QTSP is an intermediate) without requiring qualified statements; the bank trusts its
 * QTSP and requires them.
 */
export function testEnvironments(pki: TestPki, overrides: { sandbox?: Partial<EnvironmentTrust>; bank?: Partial<EnvironmentTrust> } = {}): EnvironmentTrust[] {
  return [
    {
      name: 'sandbox',
      anchors: [nodeCertificate(pki.sandboxRoot)],
      requireQualifiedStatements: false,
      requiredExtendedKeyUsages: [],
      ...overrides.sandbox,
    },
    {
      name: 'bank',
      anchors: [nodeCertificate(pki.bankCa)],
      requireQualifiedStatements: true,
      requiredExtendedKeyUsages: [],
      ...overrides.bank,
    },
  ];
}

/** Runs `action`, which must throw a CertificateRejectedError, and returns that error. */
export function rejectionOf(action: () => unknown): CertificateRejectedError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'expected a CertificateRejectedError to be thrown').to.be.instanceOf(CertificateRejectedError);
  return thrown as CertificateRejectedError;
}

/** Asserts the reason, the RFC error code and the exact description of a rejection. */
export function expectRejection(error: CertificateRejectedError, reason: string, description: string | RegExp): void {
  expect(error.reason).to.equal(reason);
  expect(error.error).to.equal('invalid_client');
  expect(error.status).to.equal(401);
  if (typeof description === 'string') expect(error.error_description).to.equal(description);
  else expect(error.error_description).to.match(description);
}
