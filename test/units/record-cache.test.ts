import { expect } from 'chai';
import fc from 'fast-check';

import { RecordCache } from '../../adapters/record-cache.js';

describe('record cache', () => {
  let now = 1_000_000;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('keeps a record until its own expiry or maxAge, whichever comes first', () => {
    const cache = new RecordCache(10, 60_000, clock);
    cache.set('a', '{"a":1}', now + 5_000);
    cache.set('b', '{"b":1}');
    expect(cache.get('a')).to.equal('{"a":1}');
    now += 5_000;
    expect(cache.get('a'), 'past its own expiry').to.equal(undefined);
    expect(cache.get('b')).to.equal('{"b":1}');
    now += 55_000;
    expect(cache.get('b'), 'past maxAge').to.equal(undefined);
    expect(cache.size).to.equal(0);
  });

  it('does not keep a record that has already expired', () => {
    const cache = new RecordCache(10, 60_000, clock);
    cache.set('a', '{}', now - 1);
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.size).to.equal(0);
  });

  it('drops the least recently used records beyond maxEntries', () => {
    const cache = new RecordCache(3, 60_000, clock);
    for (const key of ['a', 'b', 'c']) cache.set(key, key);
    expect(cache.get('a')).to.equal('a');
    cache.set('d', 'd');
    expect(cache.get('b'), 'least recently used').to.equal(undefined);
    expect([cache.get('a'), cache.get('c'), cache.get('d')]).to.deep.equal(['a', 'c', 'd']);
    expect(cache.size).to.equal(3);
  });

  it('tells a revision of a kept record: the same until it is set again, forgotten, cleared or expired', () => {
    const cache = new RecordCache(10, 60_000, clock);
    expect(cache.revision('a')).to.equal(undefined);
    cache.set('a', 'a', now + 5_000);
    const first = cache.revision('a');
    expect(first).to.be.an('object');
    expect(Object.isFrozen(first), 'handed out: nothing kept can be changed through it').to.equal(true);
    expect(cache.get('a')).to.equal('a');
    expect(cache.revision('a'), 'read, not changed').to.equal(first);
    cache.set('a', 'a', now + 5_000);
    const second = cache.revision('a');
    expect(second, 'set again to the same JSON').to.be.an('object').and.not.equal(first);
    now += 5_000;
    expect(cache.revision('a'), 'expired').to.equal(undefined);
    cache.set('b', 'b');
    cache.invalidate('b');
    expect(cache.revision('b'), 'forgotten').to.equal(undefined);
    cache.set('c', 'c');
    cache.clear();
    expect(cache.revision('c'), 'cleared').to.equal(undefined);
  });

  it('counts a revision asked for as a use: the record is not the least recently used', () => {
    const cache = new RecordCache(2, 60_000, clock);
    cache.set('a', 'a');
    cache.set('b', 'b');
    const kept = cache.revision('a');
    cache.set('c', 'c');
    expect(cache.revision('a')).to.equal(kept);
    expect(cache.get('b'), 'least recently used').to.equal(undefined);
  });

  it('forgets a record that changed, and everything when cleared', () => {
    const cache = new RecordCache(10, 60_000, clock);
    cache.set('a', 'a');
    cache.set('b', 'b');
    cache.invalidate('a');
    expect(cache.get('a')).to.equal(undefined);
    expect(cache.get('b')).to.equal('b');
    cache.clear();
    expect(cache.get('b')).to.equal(undefined);
  });

  it('keeps what a read brings back, unless the record changed or the cache was cleared meanwhile', () => {
    const cache = new RecordCache(10, 60_000, clock);
    const plain = cache.beginRead('a');
    plain('one');
    expect(cache.get('a')).to.equal('one');

    const changed = cache.beginRead('b');
    cache.invalidate('b');
    changed('stale');
    expect(cache.get('b'), 'changed during the read').to.equal(undefined);

    const cleared = cache.beginRead('c');
    cache.clear();
    cleared('stale');
    expect(cache.get('c'), 'cleared during the read').to.equal(undefined);

    const other = cache.beginRead('d');
    cache.invalidate('e');
    other('fresh');
    expect(cache.get('d'), 'another record changed').to.equal('fresh');

    const missing = cache.beginRead('f');
    missing(undefined);
    expect(cache.get('f')).to.equal(undefined);
  });

  it('keeps a read that started after the change, while an older one is still under way', () => {
    const cache = new RecordCache(10, 60_000, clock);
    const older = cache.beginRead('a');
    cache.invalidate('a');
    const newer = cache.beginRead('a');
    newer('new');
    older('old');
    expect(cache.get('a'), 'the older read does not replace the newer one').to.equal('new');
  });

  it('never holds more than maxEntries, nor a value changed after its read began (random operations)', () => {
    type Op = { kind: 'set' | 'invalidate' | 'start' | 'finish' | 'clear' | 'tick'; key: number; value: number };
    const op = fc.record({
      kind: fc.constantFrom<Op['kind']>('set', 'invalidate', 'start', 'finish', 'clear', 'tick'),
      key: fc.integer({ min: 0, max: 5 }),
      value: fc.integer({ min: 0, max: 1_000 }),
    });
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 80 }), (maxEntries, ops) => {
      now = 0;
      const cache = new RecordCache(maxEntries, 1_000, clock);
      // The truth: each key's current value; reads under way remember what they saw.
      const truth = new Map<string, string>();
      const reads: { key: string; seen: string | undefined; done: ReturnType<RecordCache['beginRead']> }[] = [];
      for (const { kind, key: n, value } of ops) {
        const key = `k${n}`;
        if (kind === 'set') {
          truth.set(key, String(value));
          cache.invalidate(key);
          cache.set(key, String(value));
        } else if (kind === 'invalidate') {
          truth.set(key, `changed-${value}`);
          cache.invalidate(key);
        } else if (kind === 'start') {
          reads.push({ key, seen: truth.get(key), done: cache.beginRead(key) });
        } else if (kind === 'finish') {
          const read = reads.shift();
          read?.done(read.seen);
        } else if (kind === 'clear') {
          cache.clear();
        } else {
          now += value;
        }
        expect(cache.size).to.be.at.most(maxEntries);
        for (const [k, v] of truth) {
          const kept = cache.get(k);
          if (kept !== undefined) expect(kept, k).to.equal(v);
        }
      }
    }));
  });
});
