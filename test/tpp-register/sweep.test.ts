/**
 * The sweep over a storage that fails for one organization: the others are still decided. A unit
 * test of the sweep's loop (the server tests run it over Redis and mutual TLS).
 */
import { expect } from 'chai';

import { MemoryStorage, type TppLicence, type TppRegister } from '../../lib/index.js';
import type { Storage } from '../../lib/storage.js';
import { TppLicences } from '../../lib/tpp-register/licences.js';
import { CheckedOrganizations } from '../../lib/tpp-register/organizations.js';
import { RegisterSweep } from '../../lib/tpp-register/sweep.js';
import { SETTINGS } from './fixtures.js';

const ORGANIZATIONS = ['PSDFR-ACPR-1', 'PSDFR-ACPR-2', 'PSDFR-ACPR-3'];
const withdrawn: TppLicence = { entityCode: 'x', authorisationDates: ['2019-01-01', '2025-01-01'], services: new Map([['FR', new Set(['PS_080'])]]) };

const register: TppRegister = {
  name: 'national register',
  load: async () => ({ size: ORGANIZATIONS.length, find: () => withdrawn }),
};

describe('TPP register: the sweep, one organization at a time', () => {
  it('decides the other organizations when the storage fails for one, and logs it', async () => {
    const memory = new MemoryStorage();
    for (const [index, organization] of ORGANIZATIONS.entries()) {
      await memory.adapterFor('Client').upsert(`client-${index}`, { client_id: `client-${index}`, provider_legal_id: organization, psd2_environment: 'bank', scope: 'aisp' });
    }
    const failing = async (organization: string) => {
      if (organization === 'PSDFR-ACPR-2') throw new Error('storage unavailable');
      return memory.clientIdsOf(organization);
    };
    const storage: Storage = new Proxy(memory, {
      get: (target, key) => {
        if (key === 'clientIdsOf') return failing;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const events: unknown[] = [];
    const log = (fields: Record<string, unknown>) => {
      events.push(fields.event);
    };
    const logger = { info: log, warn: log, error: log };
    const settings = { ...SETTINGS, register, maxSuspensionShare: 1 };
    const licences = new TppLicences({ settings, logger, now: () => new Date('2026-12-07T00:00:00Z') });
    const organizations = new CheckedOrganizations(memory, logger);
    for (const organization of ORGANIZATIONS) organizations.remember(organization);
    while ((await organizations.all()).length < ORGANIZATIONS.length) await new Promise(setImmediate);
    await licences.reload();
    const suspended: string[] = [];
    const sweep = new RegisterSweep({
      storage, licences, organizations, logger, limits: settings,
      suspend: async (organization) => suspended.push(organization),
      isSuspended: async () => false,
    });
    const outcome = await sweep.run();
    expect(outcome).to.deep.include({ checked: 2, failed: 1 });
    expect(suspended).to.have.members(['PSDFR-ACPR-1', 'PSDFR-ACPR-3']);
    expect(events).to.include('tpp_register.sweep_failed');
    await licences.close();
  });
});
