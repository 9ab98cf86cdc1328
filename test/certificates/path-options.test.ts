import { expect } from 'chai';

import { ConfigurationError } from '../../lib/errors.js';
import { resolveOptions, type AuthorizationServerOptions } from '../../lib/options/index.js';
import { configurationError as configurationErrorOf, optionsWithEnvironments } from '../support/options.js';
import { testPki } from '../support/pki.js';
import { TestBank } from '../support/psus.js';

const bank = new TestBank();

async function options(sandbox: Record<string, unknown> = {}, bankSide: Record<string, unknown> = {}): Promise<AuthorizationServerOptions> {
  const pki = await testPki();
  return optionsWithEnvironments({ trustAnchors: pki.bankCa.certPem, authenticator: bank, accounts: bank, ...bankSide }, sandbox);
}

function configurationError(input: unknown): ConfigurationError {
  return configurationErrorOf(() => resolveOptions(input));
}

describe('path validation options', () => {
  it('default to RSA 2048, the NIST curves and EdDSA, SHA-2 of 256 bits or more, and CAs that allow clientAuth', async () => {
    const resolved = resolveOptions(await options());
    for (const environment of resolved.environments) {
      expect(environment.minimumRsaKeySize, environment.name).to.equal(2048);
      expect(environment.ellipticCurves).to.deep.equal(['P-256', 'P-384', 'P-521', 'Ed25519', 'Ed448']);
      expect(environment.signatureHashes).to.deep.equal(['SHA-256', 'SHA-384', 'SHA-512']);
      expect(environment.acceptServerAuthOnlyCAs).to.equal(false);
    }
  });

  it('are set per environment', async () => {
    const resolved = resolveOptions(await options({ acceptServerAuthOnlyCAs: true }, { minimumRsaKeySize: 3072, ellipticCurves: ['P-384'], signatureHashes: ['SHA-384', 'SHA-512'] }));
    const [sandbox, bankEnvironment] = resolved.environments;
    expect(sandbox).to.include({ name: 'sandbox', minimumRsaKeySize: 2048, acceptServerAuthOnlyCAs: true });
    expect(bankEnvironment).to.include({ name: 'bank', minimumRsaKeySize: 3072, acceptServerAuthOnlyCAs: false });
    expect(bankEnvironment?.ellipticCurves).to.deep.equal(['P-384']);
    expect(bankEnvironment?.signatureHashes).to.deep.equal(['SHA-384', 'SHA-512']);
  });

  it('refuse an RSA minimum below 2048 bits, naming the option', async () => {
    const error = configurationError(await options({}, { minimumRsaKeySize: 1024 }));
    expect(error.path).to.equal('environments.bank.minimumRsaKeySize');
    expect(error.message).to.equal('invalid option environments.bank.minimumRsaKeySize: must be at least 2048: shorter RSA keys are within reach of factoring');
  });

  it('refuse an RSA minimum that is not a whole number of bits', async () => {
    expect(configurationError(await options({ minimumRsaKeySize: 2048.5 })).path).to.equal('environments.sandbox.minimumRsaKeySize');
  });

  it('refuse a curve they do not know', async () => {
    const error = configurationError(await options({ ellipticCurves: ['P-256', 'secp256k1'] }));
    expect(error.path).to.equal('environments.sandbox.ellipticCurves[1]');
  });

  it('refuse SHA-1 among the signature hashes', async () => {
    expect(configurationError(await options({}, { signatureHashes: ['SHA-1', 'SHA-256'] })).path).to.equal('environments.bank.signatureHashes[0]');
  });

  it('refuse empty lists of curves and hashes', async () => {
    expect(configurationError(await options({ ellipticCurves: [] })).message).to.equal('invalid option environments.sandbox.ellipticCurves: must hold at least one curve');
    expect(configurationError(await options({ signatureHashes: [] })).message).to.equal('invalid option environments.sandbox.signatureHashes: must hold at least one hash');
  });

  it('refuse acceptServerAuthOnlyCAs that is not a boolean', async () => {
    expect(configurationError(await options({}, { acceptServerAuthOnlyCAs: 'yes' })).path).to.equal('environments.bank.acceptServerAuthOnlyCAs');
  });
});
