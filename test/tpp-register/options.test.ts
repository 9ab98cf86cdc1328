import { expect } from 'chai';

import { type AuthorizationServerOptions, type TppLicence, type TppRegister } from '../../lib/index.js';
import { resolveOptions } from '../../lib/options/index.js';
import { TppLicences } from '../../lib/tpp-register/licences.js';
import { configurationError } from '../support/options.js';
import { testPki } from '../support/pki.js';
import { TestBank } from '../support/psus.js';
import { testSigningKey } from '../support/server.js';

/** A bank's own register: a national list, here a map from organizationIdentifier to licence. */
class NationalRegister implements TppRegister {
  readonly name = 'national register';
  constructor(private readonly licences: ReadonlyMap<string, TppLicence>) {}
  async load() {
    const { licences } = this;
    return { size: licences.size, find: (key: { country: string; ncaId: string; number: string }) => licences.get(`PSD${key.ncaId}-${key.number}`) };
  }
}

const register = new NationalRegister(new Map([
  ['PSDFR-ACPR-1', { entityCode: '1', authorisationDates: ['2019-01-01'], services: new Map([['FR', new Set(['PS_080'])]]) }],
]));

async function options(tppRegister: unknown): Promise<AuthorizationServerOptions> {
  const pki = await testPki();
  const bank = new TestBank();
  return {
    issuer: 'https://bank.example/oauth2',
    signingKeys: { keys: [testSigningKey()] },
    cookieKeys: ['0123456789abcdef0123456789abcdef'],
    environments: { bank: { trustAnchors: pki.bankCa.certPem, authenticator: bank, accounts: bank } },
    tppRegister: tppRegister as AuthorizationServerOptions['tppRegister'],
  };
}

describe('TPP register: the tppRegister option', () => {
  it('defaults to the bank environment, a daily load and a daily sweep', async () => {
    const resolved = resolveOptions(await options({ register, country: 'FR' }));
    expect(resolved.tppRegister).to.deep.include({
      country: 'FR', environments: ['bank'], refreshInterval: 86_400, sweepInterval: 86_400, retryDelay: 60, maxShrink: 0.2, maxSuspensions: 5, maxSuspensionShare: 0.1, exemptions: [],
    });
    expect(resolveOptions(await options(undefined)).tppRegister).to.equal(undefined);
  });

  it('names the option that is wrong', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ register, country: 'France' }, 'tppRegister.country', /ISO 3166-1 alpha-2/],
      [{ register: { name: 'register' }, country: 'FR' }, 'tppRegister.register', /TppRegister interface \(load\)/],
      [{ register: { name: '', load: async () => undefined }, country: 'FR' }, 'tppRegister.register', /must have a name/],
      [{ register, country: 'FR', refreshInterval: 0 }, 'tppRegister.refreshInterval', /1/],
      [{ register, country: 'FR', environments: ['production'] }, 'tppRegister.environments[0]', /sandbox|bank/],
      [{ register, country: 'FR', everyDay: true }, 'tppRegister.everyDay', /unknown option/],
      [{ register, country: 'FR', exemptions: ['ACME'] }, 'tppRegister.exemptions[0]', /PSD2 organization identifier/],
      [{ register, country: 'FR', maxShrink: 1.5 }, 'tppRegister.maxShrink', /1/],
    ];
    for (const [value, path, message] of cases) {
      const input = await options(value);
      const error = configurationError(() => resolveOptions(input));
      expect(error.path, path).to.equal(path);
      expect(error.message).to.match(message);
    }
  });

  it('plugs in a bank\'s own register behind the TppRegister interface', async () => {
    const settings = resolveOptions(await options({ register, country: 'FR' })).tppRegister!;
    const lines: string[] = [];
    const log = (fields: Record<string, unknown>) => {
      lines.push(String(fields.event));
    };
    const licences = new TppLicences({ settings, logger: { info: log, warn: log, error: log }, now: () => new Date('2026-12-07T00:00:00Z') });
    try {
      await licences.reload();
      const subject = { organizationIdentifier: 'PSDFR-ACPR-1', environment: 'bank' as const };
      expect(licences.check(subject, ['aisp'], 'registration')).to.deep.equal({ outcome: 'authorised' });
      expect(licences.check(subject, ['pisp'], 'token')).to.deep.include({
        outcome: 'refused', description: 'the national register does not list payment initiation services (PS_070) of PSDFR-ACPR-1 in FR',
      });
      expect(licences.check({ ...subject, organizationIdentifier: 'PSDFR-ACPR-2' }, ['aisp'], 'token')).to.deep.equal({ outcome: 'unknown' });
      expect(lines).to.deep.equal(['tpp_register.loaded', 'tpp_register.refused', 'tpp_register.unknown']);
    } finally {
      await licences.close();
    }
  });
});
