import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { expect } from 'chai';

import { EbaRegister } from '../../lib/index.js';
import type { Logger } from '../../lib/logger.js';
import { createMetrics } from '../../lib/observability/index.js';
import { TppLicences } from '../../lib/tpp-register/licences.js';
import { licenceKeyOf } from '../../lib/tpp-register/nca-ids.js';
import { CASES, ebaEntity, fileServer, goldenCopy, registerZip, SETTINGS, sha256, zipOf, type FileServer } from './fixtures.js';

const signal = () => new AbortController().signal;
const key = (organization: string) => licenceKeyOf(organization)!;
const ENTITIES = Object.values(CASES).map(ebaEntity);

interface Line { readonly level: 'info' | 'warn' | 'error'; readonly fields: Record<string, unknown> }
function recordingLogger(lines: Line[]): Logger {
  const record = (level: Line['level']) => (fields: Record<string, unknown>) => {
    lines.push({ level, fields });
  };
  return { info: record('info'), warn: record('warn'), error: record('error') };
}

describe('TPP register: the EBA golden copy', () => {
  let files: FileServer;
  let directory: string;
  before(async () => {
    files = await fileServer();
    directory = mkdtempSync(join(tmpdir(), 'eba-register-'));
  });
  after(async () => {
    await files.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('loads the ZIP over HTTP, checks its SHA-256 and finds each case', async () => {
    const json = goldenCopy(ENTITIES);
    files.publish('register.zip', await registerZip(json));
    const snapshot = await new EbaRegister({ url: files.url('register.zip'), directory }).load(signal());
    expect(snapshot.size).to.equal(4);
    expect(snapshot.digest).to.equal(sha256(json));
    expect(snapshot.find(key('PSDFR-ACPR-10001'))?.authorisationDates).to.deep.equal(['2019-03-01']);
    expect(snapshot.find(key('PSDFR-ACPR-10002'))?.authorisationDates).to.deep.equal(['2019-03-01', '2025-06-30']);
    expect([...snapshot.find(key('PSDDE-BAFIN-10003'))!.services.keys()]).to.deep.equal(['DE', 'AT']);
    expect(snapshot.find(key('PSDFR-ACPR-99999'))).to.equal(undefined);
  });

  it('refuses a golden copy that does not match its SHA-256', async () => {
    files.publish('tampered.zip', await registerZip(goldenCopy(ENTITIES), sha256('something else')));
    const error = await new EbaRegister({ url: files.url('tampered.zip'), directory }).load(signal()).catch((caught: unknown) => caught);
    expect(String(error)).to.match(/does not match its SHA-256/);
  });

  it('refuses an archive without a checksum, and a server error', async () => {
    files.publish('bare.zip', await zipOf({ 'register.json': goldenCopy(ENTITIES) }));
    files.publish('two.zip', await zipOf({ 'a.json': goldenCopy(ENTITIES), 'b.json': '[]', 'a.json.sha256': sha256('[]') }));
    expect(String(await new EbaRegister({ url: files.url('bare.zip'), directory }).load(signal()).catch((caught: unknown) => caught))).to.match(/no SHA-256/);
    expect(String(await new EbaRegister({ url: files.url('absent.zip'), directory }).load(signal()).catch((caught: unknown) => caught))).to.match(/answered 503/);
    expect(String(await new EbaRegister({ url: files.url('two.zip'), directory }).load(signal()).catch((caught: unknown) => caught))).to.match(/2 JSON files/);
  });

  it('follows the metadata document to the ZIP it announces, and reads a file: URL of the JSON', async () => {
    files.publish('golden.zip', await registerZip(goldenCopy(ENTITIES)));
    files.publish('filemetadata', JSON.stringify({ golden_copy_path_context: files.url(''), latest_version_relative_zip_path: 'golden.zip' }));
    expect((await new EbaRegister({ url: files.url('filemetadata'), directory }).load(signal())).size).to.equal(4);
    const path = join(directory, 'register.json');
    writeFileSync(path, goldenCopy(ENTITIES));
    const local = await new EbaRegister({ url: pathToFileURL(path) }).load(signal());
    expect(local.find(key('PSDFR-ACPR-10004'))?.entityType).to.equal('PSD_AISP');
  });

  it('refuses a remote metadata document that announces a local file', async () => {
    files.publish('evil-metadata', JSON.stringify({ latest_version_relative_zip_path: 'file:///etc/passwd' }));
    const error = await new EbaRegister({ url: files.url('evil-metadata'), directory }).load(signal()).catch((caught: unknown) => caught);
    expect(String(error)).to.match(/announces a file: URL/);
  });

  it('keeps the last good snapshot when a load fails, audits each load and exposes the snapshot\'s age', async () => {
    let now = new Date('2026-12-07T01:00:00Z');
    const lines: Line[] = [];
    const metrics = createMetrics();
    const licences = new TppLicences({
      settings: { ...SETTINGS, register: new EbaRegister({ url: files.url('current.zip'), directory }) },
      logger: recordingLogger(lines),
      now: () => now,
      recordLoad: (outcome) => metrics.recordTppRegisterLoad(outcome),
    });
    metrics.watchTppRegister(() => licences.ageSeconds());
    const subject = { organizationIdentifier: 'PSDFR-ACPR-10002', environment: 'bank' as const };
    try {
      expect(licences.check(subject, ['aisp'], 'token')).to.deep.equal({ outcome: 'unknown' });
      files.publish('current.zip', await registerZip(goldenCopy(ENTITIES)));
      await licences.reload();
      expect(licences.check(subject, ['aisp'], 'token')?.outcome).to.equal('refused');
      // Tonight's file is corrupt: yesterday's snapshot stays in use.
      files.publish('current.zip', await registerZip(goldenCopy([]), sha256('x')));
      now = new Date('2026-12-08T01:00:00Z');
      await licences.reload();
      expect(licences.check(subject, ['aisp'], 'token')?.outcome).to.equal('refused');
      expect(licences.ageSeconds()).to.equal(86_400);
      expect(lines.map((line) => line.fields.event)).to.include.members(['tpp_register.loaded', 'tpp_register.load_failed', 'tpp_register.refused', 'tpp_register.unknown']);
      const failed = lines.find((line) => line.fields.event === 'tpp_register.load_failed')!;
      expect(failed.fields).to.deep.include({ register: 'EBA PSD2 register', snapshotAgeSeconds: 86_400 });
      const scraped = (await metrics.scrape()).body;
      expect(scraped).to.match(/psd2_as_tpp_register_snapshot_age_seconds 86400/);
      expect(scraped).to.match(/psd2_as_tpp_register_loads_total\{outcome="failed"\} 1/);
      expect(scraped).to.match(/psd2_as_tpp_register_loads_total\{outcome="loaded"\} 1/);
      // The sandbox is not checked by default.
      expect(licences.check({ ...subject, environment: 'sandbox' }, ['aisp'], 'token')).to.equal(undefined);
    } finally {
      await licences.close();
    }
  });
});
