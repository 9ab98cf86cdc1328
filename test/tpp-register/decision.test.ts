import { expect } from 'chai';

import { licenceDecision, licenceRefusal } from '../../lib/tpp-register/decision.js';
import { ebaListingOf } from '../../lib/tpp-register/eba-entity.js';
import { EBA_OWNER_IDS, ebaOwnerIdOf, licenceKeyOf, normaliseNumber } from '../../lib/tpp-register/nca-ids.js';
import { EbaSnapshot } from '../../lib/tpp-register/snapshot.js';
import type { TppLicence } from '../../lib/tpp-register/types.js';
import { CASES, ebaEntity } from './fixtures.js';

const question = { organization: 'PSDFR-ACPR-10001', country: 'FR', today: '2026-12-07', register: 'EBA PSD2 register' };
const licence = (dates: string[], services: Record<string, string[]>): TppLicence => ({
  entityCode: 'FR_ACPR!10001',
  authorisationDates: dates,
  services: new Map(Object.entries(services).map(([country, codes]) => [country, new Set(codes)])),
});

describe('TPP register: decisions', () => {
  it('authorises a TPP in force with the services its scopes need in the bank\'s country', () => {
    const listed = licence(['2019-03-01'], { FR: ['PS_070', 'PS_080'] });
    expect(licenceDecision(listed, { ...question, scopes: ['aisp', 'extended_transaction_history', 'pisp'] })).to.deep.equal({ outcome: 'authorised' });
  });

  it('refuses a withdrawn authorisation, naming the register and the day', () => {
    const decision = licenceDecision(licence(['2019-03-01', '2025-06-30'], { FR: ['PS_080'] }), { ...question, scopes: ['aisp'] });
    expect(decision).to.deep.include({ outcome: 'refused', reason: 'withdrawn' });
    expect(licenceRefusal(decision)).to.deep.equal({
      error: 'unauthorized_client',
      description: 'the EBA PSD2 register shows the authorisation of PSDFR-ACPR-10001 withdrawn on 2025-06-30',
    });
  });

  it('reads ENT_AUT by parity at today\'s date: re-authorised is in force, a withdrawal to come is not yet', () => {
    expect(licenceDecision(licence(['2019-03-01', '2020-01-01', '2021-05-05'], { FR: ['PS_080'] }), { ...question, scopes: ['aisp'] }).outcome).to.equal('authorised');
    expect(licenceDecision(licence(['2019-03-01', '2027-01-01'], { FR: ['PS_080'] }), { ...question, scopes: ['aisp'] }).outcome).to.equal('authorised');
    expect(licenceDecision(licence(['2027-01-01'], { FR: ['PS_080'] }), { ...question, scopes: ['aisp'] })).to.deep.include({ outcome: 'refused', reason: 'withdrawn' });
  });

  it('refuses a TPP not passported to the bank\'s country', () => {
    const decision = licenceDecision(licence(['2019-03-01'], { DE: ['PS_080'], AT: ['PS_080'] }), { ...question, scopes: ['aisp'] });
    expect(decision).to.deep.include({ outcome: 'refused', reason: 'not_passported' });
    expect(licenceRefusal(decision)?.description).to.equal('the EBA PSD2 register lists no payment services of PSDFR-ACPR-10001 in FR');
  });

  it('refuses a TPP that lacks the service a scope needs, naming it', () => {
    const decision = licenceDecision(licence(['2019-03-01'], { FR: ['PS_080'] }), { ...question, scopes: ['pisp'] });
    expect(decision).to.deep.include({ outcome: 'refused', reason: 'missing_service' });
    expect(licenceRefusal(decision)?.description).to.equal('the EBA PSD2 register does not list payment initiation services (PS_070) of PSDFR-ACPR-10001 in FR');
  });

  it('takes a TPP the register does not list as unknown, not unauthorised', () => {
    expect(licenceDecision(undefined, { ...question, scopes: ['aisp'] })).to.deep.equal({ outcome: 'unknown' });
    expect(licenceRefusal({ outcome: 'unknown' })).to.equal(undefined);
  });

  it('asks no service for scopes that need none (cbpii)', () => {
    expect(licenceDecision(licence(['2019-03-01'], {}), { ...question, scopes: ['cbpii'] }).outcome).to.equal('authorised');
  });
});

describe('TPP register: QWAC authorities and register ids', () => {
  it('reads the licence key of an organizationIdentifier', () => {
    expect(licenceKeyOf('PSDFR-ACPR-12345')).to.deep.equal({ country: 'FR', ncaId: 'FR-ACPR', number: '12345' });
    expect(licenceKeyOf('PSDFI-FINFSA-0111027-9')).to.deep.equal({ country: 'FI', ncaId: 'FI-FINFSA', number: '0111027-9' });
    expect(licenceKeyOf('VATFR-12345')).to.equal(undefined);
    expect(licenceKeyOf('PSDfr-ACPR-1')).to.equal(undefined);
  });

  it('maps each authority to its CA_OwnerID: the exceptions listed, the rest by rule, the bank\'s own first', () => {
    expect(ebaOwnerIdOf('FR-ACPR')).to.equal('FR_ACPR');
    expect(ebaOwnerIdOf('DE-BAFIN')).to.equal('DE_BAFIN');
    expect(ebaOwnerIdOf('ES-BDE')).to.equal('ES_BE');
    expect(ebaOwnerIdOf('FI-FINFSA')).to.equal('FI_FIN-FSA');
    expect(ebaOwnerIdOf('LT-BL', { 'LT-BL': 'LT_LB' })).to.equal('LT_LB');
    for (const [nca, owner] of Object.entries(EBA_OWNER_IDS)) expect(ebaOwnerIdOf(nca)).to.equal(owner);
  });

  it('compares authorisation numbers without their punctuation', () => {
    expect(normaliseNumber('0111027-9')).to.equal(normaliseNumber('01110279'));
    expect(normaliseNumber(' ab 12.34/5 ')).to.equal('AB12345');
  });

  it('finds a Spanish and a Finnish TPP by their certificates\' authority names', () => {
    const snapshot = new EbaSnapshot();
    snapshot.add(ebaEntity({ owner: 'ES_BE', number: '6950', dates: ['2019-01-01'], services: { ES: 'PS_080' } }));
    snapshot.add(ebaEntity({ owner: 'FI_FIN-FSA', number: '01110279', dates: ['2019-01-01'], services: { FI: 'PS_080' } }));
    expect(snapshot.find(licenceKeyOf('PSDES-BDE-6950')!)?.entityCode).to.equal('ES_BE!6950');
    expect(snapshot.find(licenceKeyOf('PSDFI-FINFSA-0111027-9')!)?.entityCode).to.equal('FI_FIN-FSA!01110279');
    expect(snapshot.find(licenceKeyOf('PSDFR-ACPR-6950')!)).to.equal(undefined);
  });
});

describe('TPP register: the EBA entity shapes', () => {
  it('reads properties and services given as a string or as a list', () => {
    const listing = ebaListingOf(ebaEntity(CASES.notPassported));
    expect(listing?.ownerId).to.equal('DE_BAFIN');
    expect(listing?.numbers).to.deep.equal(['10003']);
    expect([...listing!.licence.services.get('DE')!]).to.deep.equal(['PS_080']);
    const list = ebaListingOf({
      CA_OwnerID: 'CZ_CNB', EntityCode: 'CZ_CNB!03570967', EntityType: 'PSD_EMI',
      Properties: [{ ENT_NAM: ['Název', 'Name'] }, { ENT_AUT: '2015-03-27' }],
      Services: [{ CZ: ['PS_070', 'PS_080'] }],
    });
    expect(list?.licence).to.deep.include({ name: 'Name', authorisationDates: ['2015-03-27'] });
    expect(list?.numbers).to.deep.equal(['03570967']);
  });

  it('skips agents, branches and entities without ids, and values of other types', () => {
    expect(ebaListingOf({ ...ebaEntity(CASES.authorised), EntityType: 'PSD_AG' })).to.equal(undefined);
    expect(ebaListingOf({ ...ebaEntity(CASES.authorised), CA_OwnerID: 7 })).to.equal(undefined);
    const odd = ebaListingOf({ ...ebaEntity(CASES.authorised), Services: [{ FR: [1, 'PS_080', null] }, 'x', { fr1: 'PS_070' }], Properties: [{ ENT_AUT: [20190301, 'not a date', '2019-03-01'] }, 5] });
    expect(odd?.licence.authorisationDates).to.deep.equal(['2019-03-01']);
    expect([...odd!.licence.services.keys()]).to.deep.equal(['FR']);
    expect(odd?.numbers).to.deep.equal(['10001']);
  });
});
