/**
 * The bank's word over the register's, and the sweep's limits: a server on Redis, TPPs over mutual
 * TLS, the register served over HTTP.
 */
import { expect } from 'chai';

import { authorizationUrl, redirectParams, requestParams } from '../authorization/helpers.js';
import type { TppCredentials } from '../support/pki.js';
import { registerZip } from './fixtures.js';
import { copyOf, REDIRECT_URI, registerSuite, tppOf, type RegisterSetup } from './suite.js';

const register = (setup: RegisterSetup, tpp: TppCredentials) => setup.server.request(tpp).post('/oauth2/register')
  .send({ redirect_uris: [REDIRECT_URI], client_name: 'Licensed TPP' });
const clientCredentials = (setup: RegisterSetup, tpp: TppCredentials, clientId: string) => setup.server.request(tpp).post('/oauth2/token')
  .type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: clientId });

describe('TPP register: the bank\'s exemptions', function () {
  this.timeout(30_000);
  const setup = registerSuite(0, { exemptions: ['PSDFR-ACPR-10002'] });

  it('never refuses nor suspends an organization of the exemptions option, and audits it', async () => {
    setup.files.publish('register.zip', await registerZip(copyOf()));
    await setup.server.auth.tppRegister!.reload();
    const tpp = await tppOf('FR', 'FR-ACPR', '10002', ['PSP_PI']);
    const { body: client } = await register(setup, tpp).expect(201);
    await clientCredentials(setup, tpp, client.client_id).expect(200);
    const audited = await setup.server.logged((entry) => entry.fields.event === 'tpp_register.exempt');
    expect(audited.fields).to.deep.include({ organization: 'PSDFR-ACPR-10002', at: 'registration' });
    expect(await setup.server.auth.tppRegister!.sweep()).to.deep.include({ suspended: [] });
  });

  it('exempts an organization for good at run time (tppRegister.exempt)', async () => {
    const tpp = await tppOf('DE', 'DE-BAFIN', '10003', ['PSP_AI']);
    await register(setup, tpp).expect(400);
    await setup.server.auth.tppRegister!.exempt('PSDDE-BAFIN-10003');
    await register(setup, tpp).expect(201);
  });
});

describe('TPP register: a reinstatement by the bank', function () {
  this.timeout(30_000);
  const setup = registerSuite(0);

  it('holds against the register until the organization\'s entry changes', async () => {
    const { server, files } = setup;
    const tpp = await tppOf('FR', 'FR-ACPR', '10002', ['PSP_PI']);
    const { body: client } = await register(setup, tpp).expect(201);
    files.publish('register.zip', await registerZip(copyOf()));
    await server.auth.tppRegister!.reload();
    expect((await server.auth.tppRegister!.sweep()).suspended).to.deep.equal(['PSDFR-ACPR-10002']);

    await server.auth.management.reinstateOrganization('PSDFR-ACPR-10002');
    await server.logged((entry) => entry.fields.event === 'tpp_register.exempted' && entry.fields.organization === 'PSDFR-ACPR-10002');
    await clientCredentials(setup, tpp, client.client_id).expect(200);
    expect((await server.auth.tppRegister!.sweep()).suspended).to.deep.equal([]);
    expect(await server.auth.management.isSuspended('PSDFR-ACPR-10002')).to.equal(false);
    // The same file again changes nothing.
    await server.auth.tppRegister!.reload();
    expect((await server.auth.tppRegister!.sweep()).suspended).to.deep.equal([]);

    // Re-authorised, then withdrawn again: the register's entry changed, and it decides again.
    files.publish('register.zip', await registerZip(copyOf({ withdrawn: { dates: ['2019-03-01', '2025-06-30', '2025-09-01', '2026-06-01'] } })));
    await server.auth.tppRegister!.reload();
    await clientCredentials(setup, tpp, client.client_id).expect(400);
    expect((await server.auth.tppRegister!.sweep()).suspended).to.deep.equal(['PSDFR-ACPR-10002']);
  });
});

describe('TPP register: the sweep\'s limits', function () {
  this.timeout(30_000);
  const setup = registerSuite(0);

  it('suspends none, and logs an error, when the register would have it suspend more than allowed', async () => {
    const { server, files } = setup;
    for (const number of ['10001', '10002', '10004']) await register(setup, await tppOf('FR', 'FR-ACPR', number, ['PSP_AI'])).expect(201);
    // A file that shows every licence withdrawn on the same day: more likely an error than the truth.
    const withdrawn = { dates: ['2019-03-01', '2026-12-01'] };
    files.publish('register.zip', await registerZip(copyOf({ authorised: withdrawn, withdrawn, aisOnly: withdrawn })));
    await server.auth.tppRegister!.reload();
    const outcome = await server.auth.tppRegister!.sweep();
    expect(outcome).to.deep.include({ suspended: [] });
    expect(outcome.halted).to.have.members(['PSDFR-ACPR-10001', 'PSDFR-ACPR-10002', 'PSDFR-ACPR-10004']);
    const halted = await server.logged((entry) => entry.fields.event === 'tpp_register.sweep_halted');
    expect(halted.level).to.equal('error');
    for (const organization of outcome.halted!) expect(await server.auth.management.isSuspended(organization)).to.equal(false);
  });
});

describe('TPP register: the sweep after a load', function () {
  this.timeout(30_000);
  const setup = registerSuite(86_400);

  it('sweeps as soon as a load brings a new snapshot, without waiting a whole interval', async () => {
    const { server, files } = setup;
    await register(setup, await tppOf('FR', 'FR-ACPR', '10002', ['PSP_AI'])).expect(201);
    files.publish('register.zip', await registerZip(copyOf()));
    await server.auth.tppRegister!.reload();
    const audited = await server.logged((entry) => entry.fields.event === 'tpp_register.suspended');
    expect(audited.fields).to.deep.include({ organization: 'PSDFR-ACPR-10002', reason: 'withdrawn' });
  });
});

describe('TPP register: the authorization endpoint', function () {
  this.timeout(30_000);
  const setup = registerSuite(0);

  it('sends the PSU of a TPP the register refuses back to it before any SCA, naming the register', async () => {
    const { server, files } = setup;
    const tpp = await tppOf('FR', 'FR-ACPR', '10002', ['PSP_AI']);
    const { body: client } = await register(setup, tpp).expect(201);
    const params = requestParams({ clientId: client.client_id, tpp, environment: 'bank' });
    const url = new URL(authorizationUrl(server, params));
    const before = await server.request().get(url.pathname + url.search);
    expect(before.status).to.equal(303);
    expect(before.headers.location).to.match(/\/interaction\//);

    files.publish('register.zip', await registerZip(copyOf()));
    await server.auth.tppRegister!.reload();
    const refused = await server.request().get(url.pathname + url.search);
    const answer = redirectParams(refused.headers.location);
    expect(Object.fromEntries(answer)).to.deep.include({
      error: 'unauthorized_client',
      error_description: 'the EBA PSD2 register shows the authorisation of PSDFR-ACPR-10002 withdrawn on 2025-06-30',
      state: params.state,
    });
    const audited = await server.logged((entry) => entry.fields.event === 'tpp_register.refused' && entry.fields.at === 'authorization');
    expect(audited.fields).to.deep.include({ organization: 'PSDFR-ACPR-10002', scope: 'aisp' });
  });
});
