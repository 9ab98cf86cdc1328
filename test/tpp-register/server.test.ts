import { expect } from 'chai';

import { sandboxTpp, type TppCredentials } from '../support/pki.js';
import { goldenCopy, registerZip, sha256 } from './fixtures.js';
import { copyOf, REDIRECT_URI, registerSuite, tppOf } from './suite.js';

describe('TPP register: registration, token and sweep over mutual TLS', function () {
  this.timeout(30_000);
  const setup = registerSuite(0);

  const register = (tpp: TppCredentials, body: Record<string, unknown> = {}) => setup.server.request(tpp).post('/oauth2/register')
    .send({ redirect_uris: [REDIRECT_URI], client_name: 'Licensed TPP', ...body });
  const clientCredentials = (tpp: TppCredentials, clientId: string) => setup.server.request(tpp).post('/oauth2/token')
    .type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: clientId });

  it('registers an authorised TPP and one the register does not list (audited), for the scopes the register allows', async () => {
    const authorised = await register(await tppOf('FR', 'FR-ACPR', '10001', ['PSP_AI', 'PSP_PI'])).expect(201);
    expect(authorised.body.scope).to.equal('aisp extended_transaction_history pisp');
    await register(await tppOf('FR', 'FR-ACPR', '55555', ['PSP_AI'])).expect(201);
    const unknown = await setup.server.logged((entry) => entry.fields.event === 'tpp_register.unknown' && entry.fields.organization === 'PSDFR-ACPR-55555');
    expect(unknown.fields).to.deep.include({ register: 'EBA PSD2 register', at: 'registration' });
    const aisOnly = await tppOf('FR', 'FR-ACPR', '10004', ['PSP_AI', 'PSP_PI']);
    await register(aisOnly, { scope: 'aisp' }).expect(201);
    const refused = await register(aisOnly, { scope: 'aisp pisp' }).expect(400);
    expect(refused.body).to.deep.equal({
      error: 'invalid_client_metadata',
      error_description: 'the EBA PSD2 register does not list payment initiation services (PS_070) of PSDFR-ACPR-10004 in FR',
    });
  });

  it('refuses a TPP not passported to the bank\'s country; the sandbox is not checked', async () => {
    const refused = await register(await tppOf('DE', 'DE-BAFIN', '10003', ['PSP_AI'])).expect(400);
    expect(refused.body.error_description).to.equal('the EBA PSD2 register lists no payment services of PSDDE-BAFIN-10003 in FR');
    await register(await sandboxTpp({ roles: ['PSP_AI'], country: 'DE', ncaId: 'DE-BAFIN', authorisationNumber: '10003' })).expect(201);
  });

  it('refuses the token requests and registrations of a TPP withdrawn overnight, then the sweep suspends it', async () => {
    const tpp = await tppOf('FR', 'FR-ACPR', '10002', ['PSP_PI']);
    const { body: client } = await register(tpp).expect(201);
    await clientCredentials(tpp, client.client_id).expect(200);

    setup.files.publish('register.zip', await registerZip(copyOf()));
    await setup.server.auth.tppRegister!.reload();
    const refused = await clientCredentials(tpp, client.client_id).expect(400);
    expect(refused.body).to.deep.equal({
      error: 'unauthorized_client',
      error_description: 'the EBA PSD2 register shows the authorisation of PSDFR-ACPR-10002 withdrawn on 2025-06-30',
    });
    expect((await register(tpp).expect(400)).body.error_description).to.match(/EBA PSD2 register shows the authorisation of PSDFR-ACPR-10002 withdrawn/);

    const outcome = await setup.server.auth.tppRegister!.sweep();
    expect(outcome.suspended).to.deep.equal(['PSDFR-ACPR-10002']);
    expect(await setup.server.auth.management.isSuspended('PSDFR-ACPR-10002')).to.equal(true);
    const audited = await setup.server.logged((entry) => entry.fields.event === 'tpp_register.suspended');
    expect(audited.fields).to.deep.include({ organization: 'PSDFR-ACPR-10002', reason: 'withdrawn', register: 'EBA PSD2 register' });
    await setup.server.logged((entry) => entry.fields.event === 'organization.suspended' && entry.fields.organization === 'PSDFR-ACPR-10002');
    // The organizations still licensed, and the unknown one, are left alone.
    expect(await setup.server.auth.management.isSuspended('PSDFR-ACPR-10001')).to.equal(false);
    expect(await setup.server.auth.management.isSuspended('PSDFR-ACPR-55555')).to.equal(false);
    expect((await setup.server.auth.tppRegister!.sweep()).suspended).to.deep.equal([]);
  });

  it('keeps the last good snapshot when tonight\'s file is corrupt: nobody is let in or shut out by it', async () => {
    setup.files.publish('register.zip', await registerZip(goldenCopy([]), sha256('not this one')));
    await setup.server.auth.tppRegister!.reload();
    const failed = await setup.server.logged((entry) => entry.fields.event === 'tpp_register.load_failed');
    expect(String(failed.fields.error)).to.match(/does not match its SHA-256/);
    const tpp = await tppOf('FR', 'FR-ACPR', '10001', ['PSP_PI']);
    const { body: client } = await register(tpp).expect(201);
    await clientCredentials(tpp, client.client_id).expect(200);
    await register(await tppOf('DE', 'DE-BAFIN', '10003', ['PSP_AI'])).expect(400);
    setup.files.publish('register.zip', undefined);
    await setup.server.auth.tppRegister!.reload();
    await register(await tppOf('DE', 'DE-BAFIN', '10003', ['PSP_AI'])).expect(400);
    expect(setup.server.auth.tppRegister!.ageSeconds()).to.be.a('number');
  });
});

describe('TPP register: the scheduled sweep', function () {
  this.timeout(30_000);
  const setup = registerSuite(1);

  it('suspends, on its own schedule, an organization withdrawn since it registered', async () => {
    const { server, files } = setup;
    const tpp = await tppOf('FR', 'FR-ACPR', '10002', ['PSP_AI']);
    await server.request(tpp).post('/oauth2/register').send({ redirect_uris: [REDIRECT_URI], client_name: 'Soon withdrawn' }).expect(201);
    files.publish('register.zip', await registerZip(copyOf()));
    await server.auth.tppRegister!.reload();
    const audited = await server.logged((entry) => entry.fields.event === 'tpp_register.suspended');
    expect(audited.fields).to.deep.include({ organization: 'PSDFR-ACPR-10002', reason: 'withdrawn' });
    expect(await server.auth.management.isSuspended('PSDFR-ACPR-10002')).to.equal(true);
  });
});
