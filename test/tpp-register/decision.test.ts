import { expect } from 'chai';

import { licenceDecision, licenceRefusal } from '../../lib/tpp-register/decision.js';
import { ebaListingOf } from '../../lib/tpp-register/eba-entity.js';
import { ANNEX_D_OWNER_IDS, ebaOwnerIdsOf, licenceKeyOf, NCA_ID_ALIASES, normaliseNumber, unmappedAuthorities } from '../../lib/tpp-register/nca-ids.js';
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
    expect(licenceDecision(licence(['2027-01-01'], { FR: ['PS_080'] }), { ...question, scopes: ['aisp'] })).to.deep.include({
      outcome: 'refused', reason: 'not_yet_authorised', description: 'the EBA PSD2 register shows no authorisation of PSDFR-ACPR-10001 in force yet',
    });
  });

  it('takes the services listed anywhere in the TPP\'s home country when the register lists none there', () => {
    const home = { ...licence(['2019-03-01'], { DE: ['PS_080'], AT: ['PS_070'] }), homeCountry: 'FR' };
    expect(licenceDecision(home, { ...question, scopes: ['aisp', 'pisp'] }).outcome).to.equal('authorised');
    // A home entry, when there is one, is what counts.
    expect(licenceDecision({ ...home, services: new Map([['FR', new Set(['PS_080'])], ['DE', new Set(['PS_070'])]]) }, { ...question, scopes: ['pisp'] }))
      .to.deep.include({ reason: 'missing_service' });
    expect(licenceDecision({ ...home, homeCountry: 'DE' }, { ...question, scopes: ['aisp'] })).to.deep.include({ reason: 'not_passported' });
  });

  it('reads Greece as EL or GR, in the bank\'s country and in the register\'s services', () => {
    const greek = ebaListingOf(ebaEntity({ owner: 'EL_BOG', number: '7', dates: ['2019-01-01'], services: { EL: 'PS_080' } }))!.licence;
    expect([...greek.services.keys()]).to.deep.equal(['GR']);
    expect(licenceDecision(greek, { ...question, country: 'EL', scopes: ['aisp'] }).outcome).to.equal('authorised');
    expect(licenceDecision(greek, { ...question, country: 'GR', scopes: ['aisp'] }).outcome).to.equal('authorised');
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

  it('maps every Annex D authority of the 30 EEA states to a CA_OwnerID of its own country', () => {
    const eea = ['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IS', 'IT', 'LI', 'LT', 'LU', 'LV', 'MT', 'NL', 'NO', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'];
    const countries = Object.keys(ANNEX_D_OWNER_IDS).map((nca) => nca.slice(0, 2));
    expect(countries.sort()).to.deep.equal(eea);
    for (const nca of Object.keys(ANNEX_D_OWNER_IDS)) {
      const owners = ebaOwnerIdsOf(nca);
      expect(owners.length, nca).to.be.greaterThan(0);
      for (const owner of owners) expect(owner, nca).to.match(nca.startsWith('GR') ? /^(GR|EL)_[A-Z-]+$/ : new RegExp(`^${nca.slice(0, 2)}_[A-Z-]+$`));
    }
    // The spellings the register is known to use where they differ from the certificates'.
    expect(ebaOwnerIdsOf('FI-FINFSA')).to.deep.equal(['FI_FIN-FSA']);
    expect(ebaOwnerIdsOf('LV-FCMC')).to.include('LV_LV');
    expect(ebaOwnerIdsOf('PL-PFSA')).to.deep.equal(['PL_PFSA']);
    expect(ebaOwnerIdsOf('LT-BL')).to.deep.equal(['LT_BL']);
  });

  it('resolves the aliases QTSPs write to an Annex D authority, and the bank\'s own entries first', () => {
    for (const [alias, nca] of Object.entries(NCA_ID_ALIASES)) {
      expect(ANNEX_D_OWNER_IDS, alias).to.have.property(nca);
      expect(ebaOwnerIdsOf(alias), alias).to.deep.equal(ANNEX_D_OWNER_IDS[nca]);
    }
    expect(ebaOwnerIdsOf('ES-BDE')).to.deep.equal(['ES_BE']);
    expect(ebaOwnerIdsOf('PL-KNF')).to.deep.equal(['PL_PFSA']);
    expect(ebaOwnerIdsOf('EL-BOG')).to.include('GR_BOG');
    expect(ebaOwnerIdsOf('lt-bl', { 'LT-BL': 'lt_lb' })).to.deep.equal(['LT_LB']);
    expect(ebaOwnerIdsOf('XX-NEW')).to.deep.equal(['XX_NEW']);
  });

  it('names the authorities under whose CA_OwnerIDs a register files no TPP', () => {
    const seen = new Set(Object.values(ANNEX_D_OWNER_IDS).map((owners) => owners[0]!));
    expect(unmappedAuthorities(seen)).to.deep.equal({});
    seen.delete('FI_FIN-FSA');
    expect(unmappedAuthorities(seen)).to.deep.equal({ 'FI-FINFSA': ['FI_FIN-FSA'] });
    expect(unmappedAuthorities(seen, { 'FI-FINFSA': 'FI_FINFSA', 'XX-NEW': 'XX_NEW' })).to.deep.equal({ 'FI-FINFSA': ['FI_FINFSA'], 'XX-NEW': ['XX_NEW'] });
  });

  it('finds a TPP whose certificate writes its authority\'s id in lower case in ncaOwnerIds', () => {
    const snapshot = new EbaSnapshot({ 'xx-nca': 'xx_auth' });
    snapshot.add(ebaEntity({ owner: 'XX_AUTH', number: '1', dates: ['2019-01-01'], services: { XX: 'PS_080' } }));
    expect(snapshot.find(licenceKeyOf('PSDXX-NCA-1')!)?.entityCode).to.equal('XX_AUTH!1');
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
    const odd = ebaListingOf({ ...ebaEntity(CASES.authorised), Services: [{ FR: [1, 'PS_080', null] }, 'x', { fr1: 'PS_070' }], Properties: [{ ENT_AUT: ['2019-03-01'] }, 5] });
    expect(odd?.licence.authorisationDates).to.deep.equal(['2019-03-01']);
    expect([...odd!.licence.services.keys()]).to.deep.equal(['FR']);
    expect(odd?.numbers).to.deep.equal(['10001']);
  });

  it('reads ENT_AUT by position: ISO dates and date-times; anything else makes the entry unreadable, never shifted', () => {
    const datesOf = (value: unknown) => ebaListingOf({ ...ebaEntity(CASES.authorised), Properties: [{ ENT_NAT_REF_COD: '10001' }, { ENT_AUT: value }] })!.licence;
    expect(datesOf(['2019-03-01T00:00:00Z', '2025-06-30 12:00:00.000+02:00']).authorisationDates).to.deep.equal(['2019-03-01', '2025-06-30']);
    expect(datesOf('2019-03-01').authorisationDates).to.deep.equal(['2019-03-01']);
    for (const value of [['01/03/2019', '2025-06-30'], [20190301, '2019-03-01'], ['2019-13-01'], ['2025-06-30', '2019-03-01'], [null], '']) {
      const read = datesOf(value);
      expect(read.unreadable, JSON.stringify(value)).to.be.a('string');
      // Read as not listed: accepted and audited, never "authorised since 2025-06-30".
      expect(licenceDecision(read, { ...question, scopes: ['aisp'] })).to.deep.equal({ outcome: 'unknown', unreadable: read.unreadable });
    }
    expect(datesOf(['01/03/2019', '2025-06-30']).unreadable).to.equal('ENT_AUT value 1 is not a date: "01/03/2019"');
  });
});
