/**
 * The development signing keys: written as a private JWK Set, the form of the `signingKeys` option,
 * so that the same file serves as SIGNING_KEYS; a folder from before, holding one bare JWK, is
 * rewritten as a set of one.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';

import { createExampleApp } from '../../example-app/app.js';
import { loadConfig } from '../../example-app/config.js';
import { SIGNING_KEYS_FILE } from '../../tools/dev-pki/dev-pki.js';

describe('the example app\'s development signing keys', function signingKeys() {
  this.timeout(60_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dev-pki-keys-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a private JWK Set that SIGNING_KEYS takes as it is', async () => {
    const generated = await loadConfig({ DEV_PKI_DIR: dir });
    const file = join(dir, SIGNING_KEYS_FILE);
    const set = JSON.parse(readFileSync(file, 'utf8')) as { keys: Record<string, unknown>[] };
    expect(set.keys).to.have.length(1);
    expect(set.keys[0]).to.include({ kty: 'RSA', use: 'sig', alg: 'RS256' });
    expect(set.keys[0]).to.have.property('d').that.is.a('string');
    expect(set.keys[0]).to.have.property('kid').that.matches(/^dev-\d+$/);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(generated.options.signingKeys).to.deep.equal(set);

    const configured = await loadConfig({ DEV_PKI_DIR: dir, SIGNING_KEYS: file });
    expect(configured.options.signingKeys).to.deep.equal(set);
    const { auth } = createExampleApp(configured.options);
    await auth.close();
  });

  it('rewrites the single JWK of a folder generated before as a set of one', async () => {
    await loadConfig({ DEV_PKI_DIR: dir });
    const [key] = (JSON.parse(readFileSync(join(dir, SIGNING_KEYS_FILE), 'utf8')) as { keys: Record<string, unknown>[] }).keys;
    rmSync(join(dir, SIGNING_KEYS_FILE));
    writeFileSync(join(dir, 'signing-key.jwk.json'), `${JSON.stringify(key)}\n`, { mode: 0o600 });

    const config = await loadConfig({ DEV_PKI_DIR: dir });
    expect(config.options.signingKeys).to.deep.equal({ keys: [key] });
    expect(JSON.parse(readFileSync(join(dir, SIGNING_KEYS_FILE), 'utf8'))).to.deep.equal({ keys: [key] });
    expect(existsSync(join(dir, 'signing-key.jwk.json'))).to.equal(false);
  });
});
