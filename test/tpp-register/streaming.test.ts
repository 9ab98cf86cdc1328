import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';

import { expect } from 'chai';
import fc from 'fast-check';

import { EbaRegister } from '../../lib/index.js';
import { licenceKeyOf } from '../../lib/tpp-register/nca-ids.js';
import { EbaSnapshot } from '../../lib/tpp-register/snapshot.js';
import { readEntities } from '../../lib/tpp-register/stream-json.js';
import { ebaEntity, registerZip } from './fixtures.js';

const entity = (index: number) => ebaEntity({
  owner: 'FR_ACPR', number: String(100_000 + index), dates: index % 3 ? ['2019-03-01'] : ['2019-03-01', '2024-01-01'], services: { FR: ['PS_070', 'PS_080'], DE: 'PS_080' },
});

/** A golden copy of `count` entities, made as it is read, with the bytes made so far. */
function generatedCopy(count: number): { readonly stream: Readable; readonly produced: () => number } {
  let produced = 0;
  function* pieces(): Generator<Buffer> {
    yield Buffer.from('[[{"Disclaimer":"generated"}],[');
    for (let index = 0; index < count; index += 1) yield Buffer.from(`${index ? ',' : ''}${JSON.stringify(entity(index))}`);
    yield Buffer.from(']]');
  }
  const source = pieces();
  const stream = new Readable({
    read() {
      const next = source.next();
      if (next.done) this.push(null);
      else {
        produced += next.value.length;
        this.push(next.value);
      }
    },
  });
  return { stream, produced: () => produced };
}

describe('TPP register: streaming', function () {
  this.timeout(60_000);

  it('hands out each entity as soon as it is read: a large file is never held whole', async () => {
    const count = 40_000;
    const copy = generatedCopy(count);
    const producedAt: number[] = [];
    let seen = 0;
    await readEntities(copy.stream, () => {
      if (seen++ === 0 || seen === count / 2) producedAt.push(copy.produced());
    });
    const total = copy.produced();
    expect(seen).to.equal(count + 1);
    expect(total).to.be.greaterThan(10_000_000);
    // The first entity came while less than 1 % of the file had been made; the middle one about halfway.
    expect(producedAt[0]).to.be.lessThan(total / 100);
    expect(producedAt[1]).to.be.within(total * 0.4, total * 0.6);
  });

  it('loads a large ZIP from a file: URL, inflated and hashed as it is read', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'eba-large-'));
    try {
      const chunks: Buffer[] = [];
      const copy = generatedCopy(20_000);
      for await (const chunk of copy.stream) chunks.push(chunk as Buffer);
      const path = join(directory, 'register.zip');
      writeFileSync(path, await registerZip(Buffer.concat(chunks)));
      const snapshot = await new EbaRegister({ url: pathToFileURL(path) }).load(new AbortController().signal);
      expect(snapshot.size).to.equal(20_000);
      expect(snapshot.find(licenceKeyOf('PSDFR-ACPR-119999')!)?.authorisationDates).to.deep.equal(['2019-03-01']);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('rejects hostile text with an error, never a crash, and bounds what one entity may hold', async () => {
    await fc.assert(fc.asyncProperty(fc.oneof(fc.string(), fc.json(), fc.uint8Array().map((bytes) => Buffer.from(bytes).toString('latin1'))), async (text) => {
      const snapshot = new EbaSnapshot();
      await readEntities(Readable.from([Buffer.from(text)]), (found) => snapshot.add(found)).catch((error: unknown) => {
        expect(error).to.be.instanceOf(Error);
      });
    }), { numRuns: 300 });
    const deep = `[${'['.repeat(40)}${']'.repeat(40)}]`;
    expect(String(await readEntities(Readable.from([deep]), () => undefined).catch((error: unknown) => error))).to.match(/depth/i);
    const wide = `[{"a":[${Array.from({ length: 120_000 }, () => '1').join(',')}]}]`;
    expect(String(await readEntities(Readable.from([wide]), () => undefined).catch((error: unknown) => error))).to.match(/more than 100000 values/);
    const long = `[{"a":[${Array.from({ length: 80 }, () => JSON.stringify('x'.repeat(60_000))).join(',')}]}]`;
    expect(String(await readEntities(Readable.from([long]), () => undefined).catch((error: unknown) => error))).to.match(/more than 4194304 characters/);
  });

  it('takes any JSON object as an entity without throwing, and keys like __proto__ as data', () => {
    fc.assert(fc.property(fc.object({ withNullPrototype: true }), (value) => {
      new EbaSnapshot().add(value as Record<string, unknown>);
    }), { numRuns: 300 });
  });

  it('rejects a file that is neither ZIP nor JSON, and a truncated ZIP', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'eba-hostile-'));
    try {
      const text = join(directory, 'register.txt');
      writeFileSync(text, 'hello');
      expect(String(await new EbaRegister({ url: pathToFileURL(text) }).load(new AbortController().signal).catch((error: unknown) => error))).to.match(/neither a ZIP nor JSON/);
      const zip = await registerZip('[]');
      const truncated = join(directory, 'truncated.zip');
      writeFileSync(truncated, zip.subarray(0, zip.length - 30));
      expect(await new EbaRegister({ url: pathToFileURL(truncated) }).load(new AbortController().signal).catch((error: unknown) => error)).to.be.instanceOf(Error);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
