/**
 * MemoryStorage's expiry: each write deletes the records and counters that are due (those whose
 * second of expiry has ended), with their index entries, without reading them and without visiting
 * the others; a read never returns an expired record. Time moves by the `now` option.
 */
import { expect } from 'chai';

import { ExpiryQueue } from '../../adapters/memory/expiry.js';
import { MemoryStorage } from '../../adapters/memory.js';

describe('MemoryStorage expiry', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_800_000_000_000;
  });

  it('deletes the records due at the next write, with their index entries, leaving the others', async () => {
    const storage = new MemoryStorage({ now });
    const lasting = storage.adapterFor('Grant');
    for (let i = 0; i < 1500; i += 1) await lasting.upsert(`grant-${i}`, { accountId: `psu-${i}`, clientId: 'tpp' }, undefined);
    const before = storage.counts.indexEntries;
    await storage.adapterFor('Session').upsert('session', { uid: 'session-uid', accountId: 'psu-0' }, 30);
    await storage.adapterFor('AuthorizationCode').upsert('code', { grantId: 'grant-0', clientId: 'tpp' }, 10);
    await storage.adapterFor('DeviceCode').upsert('device', { userCode: 'USER-1', clientId: 'tpp' }, 10);
    expect(storage.size).to.equal(1503);
    expect(storage.counts.indexEntries, 'uid, grant, user code and client (twice)').to.equal(before + 5);

    clock += 10_000;
    await lasting.upsert('grant-new', { accountId: 'psu-new' }, undefined);
    expect(storage.size, 'the two records due at 10 s deleted by one write').to.equal(1502);
    expect(storage.counts).to.deep.include({ indexEntries: before + 2, expiring: 1 });

    clock += 20_000;
    await storage.incrementCounter('another-write', 60);
    expect(storage.size).to.equal(1501);
    expect(storage.counts).to.deep.include({ indexEntries: before + 1, expiring: 1 });
    expect(await storage.adapterFor('Session').findByUid('session-uid')).to.equal(undefined);
    expect(await storage.grantIdsOf('psu-0')).to.deep.equal(['grant-0']);
  });

  it('deletes a record at its expiry to the millisecond, not before, also between writes when read', async () => {
    const storage = new MemoryStorage({ now });
    const adapter = storage.adapterFor('AccessToken');
    await adapter.upsert('token', { grantId: 'g' }, 1.5);
    clock += 1499;
    await adapter.upsert('other', {}, 600);
    expect(await adapter.find('token')).to.deep.equal({ grantId: 'g' });
    clock += 1;
    expect(await adapter.find('token')).to.equal(undefined);
    expect(storage.counts).to.deep.include({ indexEntries: 0, expiring: 1 });
  });

  it('moves a record rewritten with another expiry: it is deleted at the new one only', async () => {
    const storage = new MemoryStorage({ now });
    const adapter = storage.adapterFor('Session');
    await adapter.upsert('session', { uid: 'u' }, 10);
    await adapter.upsert('session', { uid: 'u' }, 100);
    clock += 50_000;
    await adapter.upsert('other', {}, 600);
    expect(await adapter.findByUid('u')).to.deep.equal({ uid: 'u' });
    await adapter.upsert('session', { uid: 'u' }, undefined);
    clock += 100_000;
    await adapter.upsert('other', {}, 600);
    expect(await adapter.findByUid('u')).to.deep.equal({ uid: 'u' });
    expect(storage.counts.expiring, 'only the other record waits').to.equal(1);
  });

  it('deletes expired counters at the next write, and keeps none that were reset', async () => {
    const storage = new MemoryStorage({ now });
    await storage.incrementCounter('short', 10);
    await storage.incrementCounter('long', 3600);
    await storage.incrementCounter('reset', 10);
    await storage.resetCounter('reset');
    expect(storage.counts).to.deep.include({ counters: 2, expiring: 2 });
    clock += 10_000;
    await storage.adapterFor('Session').upsert('session', {}, undefined);
    expect(storage.counts).to.deep.include({ counters: 1, expiring: 1 });
    expect(await storage.readCounter('long')).to.equal(1);
    expect(await storage.incrementCounter('short', 10)).to.equal(1);
  });

  it('keeps nothing of a record written with no time left', async () => {
    const storage = new MemoryStorage({ now });
    await storage.adapterFor('Interaction').upsert('late', { uid: 'late-uid' }, 0);
    expect(storage.size).to.equal(0);
    expect(storage.counts).to.deep.include({ indexEntries: 0, expiring: 0 });
  });
});

describe('ExpiryQueue', () => {
  it('takes out only the keys due, oldest second first, each once', () => {
    const queue = new ExpiryQueue();
    for (let i = 0; i < 10_000; i += 1) queue.add(`later-${i}`, 5_000_000 + i * 1000);
    queue.add('c', 3500);
    queue.add('a', 1000);
    queue.add('b', 2001);
    queue.add('never', Infinity);
    expect(queue.size).to.equal(10_003);
    expect(queue.takeDue(999)).to.deep.equal([]);
    expect(queue.takeDue(2999)).to.deep.equal(['a']);
    expect(queue.takeDue(4000)).to.deep.equal(['b', 'c']);
    expect(queue.takeDue(4000)).to.deep.equal([]);
    expect(queue.size).to.equal(10_000);
    expect(queue.takeDue(5_000_000 + 4999)).to.deep.equal(['later-0', 'later-1', 'later-2', 'later-3', 'later-4']);
  });

  it('forgets a removed key, and takes a second out once even when emptied and filled again', () => {
    const queue = new ExpiryQueue();
    queue.add('a', 1000);
    queue.remove('a', 1000);
    queue.add('b', 1000);
    queue.remove('never', Infinity);
    expect(queue.takeDue(1000)).to.deep.equal(['b']);
    queue.add('c', 1000);
    expect(queue.takeDue(2000)).to.deep.equal(['c']);
    expect(queue.size).to.equal(0);
  });
});
