/**
 * The example app with EU_TRUSTED_LIST_URL and EU_TRUSTED_LIST_SIGNERS: the bank environment's
 * QTSPs come from a signed LOTL and its national lists (published on a loopback server), without
 * any PEM bundle; TPPs present their certificates over real mutual TLS.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { expect } from 'chai';

import type { Authority } from '../../tools/dev-pki/pki.js';
import { euLists, type EuLists } from '../support/eu-lists.js';
import { startExampleApp, type ExampleApp } from './helpers.js';

const DAY = 86_400_000;

describe('example app: bank QTSPs from the signed EU trusted lists, over mutual TLS', function () {
  this.timeout(120_000);
  let lists: EuLists;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    lists = await euLists();
    dir = mkdtempSync(join(tmpdir(), 'eu-lists-'));
    const signers = join(dir, 'oj-signers.pem');
    writeFileSync(signers, lists.officialJournal.certPem);
    // The test CAs publish no OCSP responder or CRL: a status cannot be established for their certificates.
    env = { EU_TRUSTED_LIST_URL: lists.lotlUrl, EU_TRUSTED_LIST_SIGNERS: signers, REVOCATION_BANK: 'soft' };
  });
  after(async () => {
    await lists.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function register(example: ExampleApp, ca: Authority, notBefore = new Date(Date.now() - DAY)) {
    const tpp = await lists.tpp(ca, { organization: `TPP of ${ca.name}`, notBefore });
    return example.request('post', '/oauth2/register').cert(tpp.certPem).key(tpp.keyPem)
      .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Listed TPP' });
  }

  describe('with valid lists', () => {
    let example: ExampleApp;
    before(async () => {
      await lists.publish();
      example = await startExampleApp(env);
      await example.waitForOutput('"event":"trusted_list.verified"', 30_000);
    });
    after(() => example?.stop());

    it('prints where the bank QTSPs come from', () => {
      expect(example.startup).to.contain(`bank QTSPs: the EU trusted lists from ${lists.lotlUrl}`);
    });

    it('accepts a TPP certificate from a CA on the signed lists without any PEM bundle', async () => {
      const res = await register(example, lists.frCa);
      expect(res.status, res.text).to.equal(201);
      expect(res.body.provider_legal_id).to.match(/^PSDFR-NCA-/);
      const german = await register(example, lists.deCa);
      expect(german.status, german.text).to.equal(201);
    });

    it('refuses a certificate issued after its CA was withdrawn, and keeps one issued before', async () => {
      const late = await register(example, lists.withdrawnCa, new Date(lists.withdrawnAt.getTime() + DAY));
      expect(late.status).to.equal(401);
      expect(late.body.error).to.equal('invalid_client');
      expect(late.body.error_description).to.match(/"DE Withdrawn QWAC CA" \(DE\) was not granted when the client certificate was issued/);
      const early = await register(example, lists.withdrawnCa, new Date(lists.withdrawnAt.getTime() - 5 * DAY));
      expect(early.status, early.text).to.equal(201);
    });

    it('announces the QTSPs of the lists among the acceptable issuers of its certificate request', async () => {
      const child = promisify(execFile)('openssl', ['s_client', '-connect', `127.0.0.1:${example.port}`, '-servername', 'localhost'], { timeout: 10_000 });
      child.child.stdin?.end();
      const { stdout } = await child;
      const names = stdout.slice(stdout.indexOf('Acceptable client certificate CA names'));
      for (const ca of ['FR QWAC Issuing CA', 'DE QWAC CA', 'DE Withdrawn QWAC CA']) expect(names).to.contain(`CN = ${ca}`);
    });

    it('reports the set as ready, with its age and anchors in the metrics', async () => {
      const ready = await fetch(`${example.operations}/health/ready`);
      expect(ready.status).to.equal(200);
      const metrics = await (await fetch(`${example.operations}/metrics`)).text();
      expect(metrics).to.match(/^psd2_as_trusted_list_age_seconds \d+$/m);
      expect(metrics).to.match(/^psd2_as_trusted_list_anchors 3$/m);
      expect(metrics).to.match(/^psd2_as_trusted_list_refreshes_total\{result="verified"\} 1$/m);
    });
  });

  describe('with a tampered list of lists', () => {
    let example: ExampleApp;
    before(async () => {
      await lists.publish();
      const signed = await (await fetch(lists.lotlUrl)).text();
      lists.server.publish('/lotl.xml', signed.replace('/de.xml', '/fr.xml'));
      example = await startExampleApp(env);
      await example.waitForOutput('"event":"trusted_list.refused"', 30_000);
    });
    after(() => example?.stop());

    it('loads nothing from it: TPPs of the bank are refused with a clear reason, readiness fails', async () => {
      const output = await example.waitForOutput('trusted_list.refused');
      expect(output).to.match(/the EU list of trusted lists was not used: the list's signature does not verify/);
      const res = await register(example, lists.frCa);
      expect(res.status).to.equal(401);
      expect(res.body.error_description).to.equal('the EU trusted lists of QTSPs have not been verified yet: TPP certificates of the bank environment cannot be checked now');
      const ready = await fetch(`${example.operations}/health/ready`);
      expect(ready.status).to.equal(503);
      expect(JSON.stringify(await ready.json())).to.contain('no verified EU trusted list yet');
    });
  });
});
