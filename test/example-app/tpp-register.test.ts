/**
 * The example app with `EBA_REGISTER`: a real process over mutual TLS, its register a ZIP on disk
 * that the test rewrites as the EBA would overnight.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { expect } from 'chai';

import { CASES, ebaEntity, goldenCopy, registerZip, sha256 } from '../tpp-register/fixtures.js';
import { run, startExampleApp, startupFailure, tsx, type ExampleApp } from './helpers.js';

interface Tpp { readonly cert: string; readonly key: string }

describe('Example app: TPP licences from the EBA register (EBA_REGISTER)', function () {
  this.timeout(120_000);
  let app: ExampleApp;
  let directory: string;
  const zipPath = () => join(directory, 'register.zip');

  /** Publishes a golden copy as the register file, replacing the previous one at once. */
  async function publish(json: string): Promise<void> {
    const next = join(directory, 'next.zip');
    writeFileSync(next, await registerZip(json));
    renameSync(next, zipPath());
  }

  /** A bank QWAC of `FR-ACPR` authorisation `number`, minted with `npm run tpp-cert`. */
  async function bankTpp(number: string, roles: string): Promise<Tpp> {
    const org = `TPP ${number}`;
    await run(tsx, ['tools/dev-pki/tpp-cert.ts', '--roles', roles, '--org', org, '--env', 'bank', '--nca', 'FR-ACPR', '--number', number], {
      env: { ...process.env, DEV_PKI_DIR: app.dir, PORT: String(app.port), QTSP_PORT: String(app.qtspPort) },
    });
    const slug = `bank-tpp-${number}`;
    return { cert: readFileSync(join(app.dir, `${slug}.pem`), 'utf8'), key: readFileSync(join(app.dir, `${slug}-key.pem`), 'utf8') };
  }

  const register = (tpp: Tpp) => app.request('post', '/oauth2/register').cert(tpp.cert).key(tpp.key)
    .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Licensed TPP' });
  const token = (tpp: Tpp, clientId: string) => app.request('post', '/oauth2/token').cert(tpp.cert).key(tpp.key)
    .type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: clientId });

  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'eba-register-app-'));
    // Yesterday's register: the TPP withdrawn tonight is still authorised.
    const yesterday = goldenCopy(Object.values({ ...CASES, withdrawn: { ...CASES.withdrawn, dates: ['2019-03-01'] } }).map(ebaEntity));
    await publish(yesterday);
    // No sweep: the refusals themselves are under test, not the suspension a sweep would add.
    app = await startExampleApp({ EBA_REGISTER: pathToFileURL(zipPath()).href, BANK_COUNTRY: 'FR', EBA_REGISTER_REFRESH: '1', EBA_REGISTER_SWEEP: '0' });
    await app.waitForOutput(`"sha256":"${sha256(yesterday)}"`, 20_000);
  });
  after(() => {
    app?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('says at start-up which register it checks, for which TPPs, where', () => {
    expect(app.startup).to.include('TPP licences: the EBA PSD2 register (EBA_REGISTER), for bank TPPs in FR');
  });

  it('registers an authorised TPP, and one the register does not list (audited)', async () => {
    const authorised = await bankTpp('10001', 'PSP_AI,PSP_PI');
    const { body } = await register(authorised).expect(201);
    await token(authorised, body.client_id).expect(200);
    await register(await bankTpp('55555', 'PSP_AI')).expect(201);
    const output = await app.waitForOutput('"event":"tpp_register.unknown"');
    expect(output).to.match(/"event":"tpp_register\.unknown"[^\n]*"organization":"PSDFR-ACPR-55555"/);
  });

  it('refuses a TPP withdrawn overnight at the token endpoint and at registration, naming the register', async () => {
    const tpp = await bankTpp('10002', 'PSP_PI');
    const { body: client } = await register(tpp).expect(201);
    await token(tpp, client.client_id).expect(200);

    const tonight = goldenCopy(Object.values(CASES).map(ebaEntity));
    await publish(tonight);
    await app.waitForOutput(`"sha256":"${sha256(tonight)}"`, 20_000);

    const refused = await token(tpp, client.client_id).expect(400);
    expect(refused.body).to.deep.equal({
      error: 'unauthorized_client',
      error_description: 'the EBA PSD2 register shows the authorisation of PSDFR-ACPR-10002 withdrawn on 2025-06-30',
    });
    const again = await register(tpp).expect(400);
    expect(again.body).to.deep.equal({
      error: 'invalid_client_metadata',
      error_description: 'the EBA PSD2 register shows the authorisation of PSDFR-ACPR-10002 withdrawn on 2025-06-30',
    });
    expect(await app.waitForOutput('"event":"tpp_register.refused"')).to.match(/"event":"tpp_register\.refused"[^\n]*"organization":"PSDFR-ACPR-10002"/);
  });

  it('refuses to start with a register URL it cannot read, or a country that is not one', async () => {
    const ftp = await startupFailure({ EBA_REGISTER: 'ftp://register.example/register.zip' });
    expect(ftp.code).to.not.equal(0);
    expect(ftp.output).to.include('EBA_REGISTER=ftp://register.example/register.zip: must be an https:, http: or file: URL');
    const country = await startupFailure({ EBA_REGISTER: pathToFileURL(zipPath()).href, BANK_COUNTRY: 'France' });
    expect(country.output).to.include('BANK_COUNTRY=France: must be a two-letter country code');
  });
});
