/**
 * What keeps a bad night of the register from letting everyone in or shutting everyone out: files
 * refused as implausible, the metadata document's checksum and size, the copy kept on disk for a
 * restart, retries after a failed load, limits on what is read, and the warnings a load logs.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { expect } from 'chai';

import { EbaRegister } from '../../lib/index.js';
import type { Logger } from '../../lib/logger.js';
import { createMetrics } from '../../lib/observability/index.js';
import { TppLicences, type ResolvedTppRegister } from '../../lib/tpp-register/licences.js';
import { downgradeOf } from '../../lib/tpp-register/source.js';
import { CASES, ebaEntity, fileServer, goldenCopy, registerZip, SETTINGS, sha256, type FileServer } from './fixtures.js';

const ENTITIES = Object.values(CASES).map(ebaEntity);
const signal = () => new AbortController().signal;

type Fields = Record<string, unknown>;

/** A logger that keeps its lines, and resolves waiters when a line of an event is logged. */
function eventLog(): { readonly logger: Logger; readonly lines: Fields[]; next(event: string): Promise<Fields>; events(): unknown[] } {
  const lines: Fields[] = [];
  const waiters: { readonly event: string; readonly resolve: (fields: Fields) => void }[] = [];
  const record = (fields: Fields) => {
    lines.push(fields);
    for (const waiter of [...waiters]) {
      if (waiter.event === fields.event) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(fields);
      }
    }
  };
  return {
    logger: { info: record, warn: record, error: record },
    lines,
    next: (event) => new Promise((resolve) => waiters.push({ event, resolve })),
    events: () => lines.map((line) => line.event),
  };
}

describe('TPP register: safeguards of a load', function () {
  this.timeout(30_000);
  let files: FileServer;
  let directory: string;
  const open: TppLicences[] = [];
  const licencesOf = (settings: Partial<ResolvedTppRegister> & Pick<ResolvedTppRegister, 'register'>, logger: Logger, now = () => new Date('2026-12-07T01:00:00Z')) => {
    const metrics = createMetrics();
    const licences = new TppLicences({ settings: { ...SETTINGS, ...settings }, logger, now, recordLoad: (outcome) => metrics.recordTppRegisterLoad(outcome) });
    open.push(licences);
    return { licences, metrics };
  };
  const subject = (organizationIdentifier: string) => ({ organizationIdentifier, environment: 'bank' as const });

  beforeEach(async () => {
    files = await fileServer();
    directory = mkdtempSync(join(tmpdir(), 'eba-safeguards-'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((licences) => licences.close()));
    await files.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('refuses a file without any TPP, or one that lost more than maxShrink of them: the last good snapshot stays', async () => {
    const log = eventLog();
    const many = Array.from({ length: 10 }, (_, index) => ebaEntity({ ...CASES.withdrawn, number: String(20_000 + index) }));
    const { licences, metrics } = licencesOf({ register: new EbaRegister({ url: files.url('register.zip') }) }, log.logger);
    files.publish('register.zip', await registerZip(goldenCopy([...ENTITIES, ...many])));
    await licences.reload();
    expect(licences.check(subject('PSDFR-ACPR-10002'), ['aisp'], 'token')?.outcome).to.equal('refused');
    files.publish('register.zip', await registerZip(goldenCopy([])));
    await licences.reload();
    expect(log.lines.at(-1)).to.deep.include({ event: 'tpp_register.implausible', entities: 0, previousEntities: 14, reason: 'the register lists no TPP' });
    // 10 of 14 lost: far more than 20 %.
    files.publish('register.zip', await registerZip(goldenCopy(ENTITIES)));
    await licences.reload();
    expect(log.lines.at(-1)).to.deep.include({ event: 'tpp_register.implausible', entities: 4 });
    expect(licences.check(subject('PSDFR-ACPR-20003'), ['aisp'], 'token')?.outcome).to.equal('refused');
    expect((await metrics.scrape()).body).to.match(/psd2_as_tpp_register_loads_total\{outcome="refused"\} 2/);
    // A smaller loss passes.
    files.publish('register.zip', await registerZip(goldenCopy([...ENTITIES, ...many.slice(2)])));
    await licences.reload();
    expect(log.lines.filter((line) => line.event === 'tpp_register.loaded')).to.have.length(2);
  });

  it('warns of a register read over http:, of a JSON without checksum, and of authorities under which the file has no TPP', async () => {
    const log = eventLog();
    files.publish('register.zip', await registerZip(goldenCopy(ENTITIES)));
    await licencesOf({ register: new EbaRegister({ url: files.url('register.zip') }) }, log.logger).licences.reload();
    const loaded = log.lines.find((line) => line.event === 'tpp_register.loaded')!;
    expect(loaded).to.deep.include({ verified: true, sha256: sha256(goldenCopy(ENTITIES)) });
    expect(log.events()).to.include('tpp_register.insecure_source');
    const unmapped = log.lines.find((line) => line.event === 'tpp_register.unmapped_authority')!;
    expect(unmapped.authorities).to.include('AT-FMA→AT_FMA').and.not.include('FR-ACPR→FR_ACPR');

    const json = join(directory, 'register.json');
    writeFileSync(json, goldenCopy(ENTITIES));
    const local = eventLog();
    await licencesOf({ register: new EbaRegister({ url: pathToFileURL(json) }) }, local.logger).licences.reload();
    const unverified = local.lines.find((line) => line.event === 'tpp_register.loaded')!;
    expect(unverified).to.deep.include({ verified: false, unverifiedSha256: sha256(goldenCopy(ENTITIES)) });
    expect(unverified).to.not.have.property('sha256');
    expect(local.events()).to.include('tpp_register.unverified').and.not.include('tpp_register.insecure_source');
  });

  it('checks the ZIP against the SHA-256 and size its metadata document announces', async () => {
    const zip = await registerZip(goldenCopy(ENTITIES));
    files.publish('golden.zip', zip);
    const metadata = (fields: Fields) => JSON.stringify({ golden_copy_path_context: files.url(''), latest_version_relative_zip_path: 'golden.zip', ...fields });
    files.publish('right', metadata({ sha256_hash: sha256(zip), latest_version_relative_zip_size: String(zip.length) }));
    files.publish('wrong-hash', metadata({ sha256_hash: sha256('another file') }));
    files.publish('too-small', metadata({ latest_version_relative_zip_size: String(zip.length - 1) }));
    const load = (name: string) => new EbaRegister({ url: files.url(name) }).load(signal()).catch((error: unknown) => error);
    expect(await load('right')).to.have.property('size', 4);
    expect(String(await load('wrong-hash'))).to.match(/does not match the SHA-256 its metadata document announces/);
    expect(String(await load('too-small'))).to.match(/larger than/);
  });

  it('bounds the download and the inflated copy separately', async () => {
    files.publish('register.zip', await registerZip(goldenCopy(ENTITIES)));
    const load = (options: Fields) => new EbaRegister({ url: files.url('register.zip'), ...options }).load(signal()).catch((error: unknown) => error);
    expect(String(await load({ maxDownloadBytes: 100 }))).to.match(/download is larger than 100 bytes/);
    expect(String(await load({ maxInflatedBytes: 100 }))).to.match(/inflates to \d+ bytes, more than 100/);
    expect(String(await load({ maxEntities: 2 }))).to.match(/more than 2 entities/);
  });

  it('keeps the last file that loaded on disk, and reads it at start-up when the register cannot be reached', async () => {
    files.publish('register.zip', await registerZip(goldenCopy(ENTITIES)));
    const first = licencesOf({ register: new EbaRegister({ url: files.url('register.zip'), directory }) }, eventLog().logger);
    await first.licences.reload();
    const keptAt = statSync(join(directory, 'eba-register-last-good')).mtime.getTime();
    // A file refused as implausible is not kept.
    files.publish('register.zip', await registerZip(goldenCopy([])));
    await first.licences.reload();
    expect(statSync(join(directory, 'eba-register-last-good')).mtime.getTime()).to.equal(keptAt);

    // Restarted during the register's outage.
    files.publish('register.zip', undefined);
    const log = eventLog();
    const { licences } = licencesOf({ register: new EbaRegister({ url: files.url('register.zip'), directory }) }, log.logger, () => new Date(keptAt + 3_600_000));
    await licences.reload();
    expect(log.events()).to.include.ordered.members(['tpp_register.load_failed', 'tpp_register.loaded', 'tpp_register.saved_copy']);
    expect(licences.check(subject('PSDFR-ACPR-10002'), ['aisp'], 'token')?.outcome).to.equal('refused');
    expect(licences.ageSeconds()).to.equal(3600);
  });

  it('tries a failed load again after retryDelay seconds, before the next refresh', async () => {
    const log = eventLog();
    const { licences } = licencesOf({ register: new EbaRegister({ url: files.url('register.zip') }), retryDelay: 1 }, log.logger);
    const failed = log.next('tpp_register.load_failed');
    licences.start();
    await failed;
    const loaded = log.next('tpp_register.loaded');
    files.publish('register.zip', await registerZip(goldenCopy(ENTITIES)));
    await loaded;
    expect(licences.ageSeconds()).to.be.a('number');
  });

  it('refuses a download that a redirect takes from https: to http:', () => {
    const register = new URL('https://register.example/PSD2.zip');
    expect(downgradeOf(register, new URL('http://mirror.example/PSD2.zip'))).to.equal('https://register.example/PSD2.zip redirected to http: (refused: a download started over https: stays on https:)');
    expect(downgradeOf(register, new URL('https://mirror.example/PSD2.zip'))).to.equal(undefined);
    expect(downgradeOf(new URL('http://register.example/PSD2.zip'), new URL('http://mirror.example/PSD2.zip'))).to.equal(undefined);
  });
});
