import { ConfigurationError, type AuthorizationServerOptions, type BankEnvironmentOptions } from '../../lib/index.js';
import { testPki } from './pki.js';
import { SANDBOX_PSUS } from './psus.js';
import { testSigningKey } from './server.js';

/** The ConfigurationError `build` throws; fails when it throws none. */
export function configurationError(build: () => unknown): ConfigurationError {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}

/**
 * Server options with both environments: the sandbox on the test PKI's sandbox root with the test
 * PSUs (and `sandbox` added), the bank environment exactly as `bank` says.
 */
export async function optionsWithEnvironments(bank: object, sandbox: object = {}): Promise<AuthorizationServerOptions> {
  const pki = await testPki();
  return {
    issuer: 'https://bank.example/oauth2',
    signingKeys: { keys: [testSigningKey()] },
    cookieKeys: ['0123456789abcdef0123456789abcdef'],
    environments: {
      sandbox: { trustAnchors: pki.sandboxRoot.certPem, testPsus: SANDBOX_PSUS, ...sandbox },
      bank: bank as BankEnvironmentOptions,
    },
  };
}
