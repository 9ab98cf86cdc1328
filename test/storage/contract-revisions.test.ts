/**
 * The storage contract (lib/storage.ts), record revisions: what a storage that keeps records in its
 * own memory tells of a record without a call. A revision must be the same object exactly while the
 * record is unchanged; the server reuses what it built from a record while it is. Run against every
 * storage (test/support/storage.ts); the Redis storage keeps clients, grants, interactions and
 * sessions in its cache.
 */
import { expect } from 'chai';

import { QUICK_MS, until } from './helpers.js';
import { fieldsOf, idFor, random, storageContract } from '../support/storage.js';

const KEPT = ['Client', 'Grant', 'Interaction', 'Session'] as const;

storageContract(({ adapter, backend, find, fresh, storage }) => {
  const revision = (model: string, id: string) => storage.recordRevision?.(model, id);
  /** The record's revision once the storage keeps it (the Redis storage after a read, once it hears its heartbeat). */
  const keptRevision = (model: string, id: string) => until(`${model} ${id} kept`, QUICK_MS, async () => {
    await find(model, id);
    return revision(model, id);
  });

  describe('record revisions', () => {
    it('are told by both storages', () => {
      expect(backend.storage.recordRevision).to.be.a('function');
    });

    for (const model of KEPT) {
      it(`stand for ${model === 'Interaction' ? 'an' : 'a'} ${model} as stored: the same while it is unchanged and read, a new one after each write, none once deleted`, async () => {
        const ids = fresh();
        const id = idFor(model, ids.grantId);
        const payload = fieldsOf(model, ids);
        await adapter(model).upsert(id, payload, 300);
        const first = await keptRevision(model, id);
        expect(first).to.be.an('object');
        expect(revision(model, id), 'asked again').to.equal(first);
        expect(await find(model, id)).to.deep.equal(payload);
        expect(revision(model, id), 'after a read').to.equal(first);
        // Only its identity counts: whatever is done to it changes nothing stored.
        Reflect.set(first as object, 'json', '{}');
        Reflect.set(first as object, 'payload', {});
        expect(await find(model, id)).to.deep.equal(payload);

        await adapter(model).upsert(id, payload, 300);
        const second = await keptRevision(model, id);
        expect(second, 'rewritten, even with the same payload').not.to.equal(first);

        await adapter(model).destroy(id);
        expect(revision(model, id), 'deleted').to.equal(undefined);
        expect(await find(model, id)).to.equal(undefined);
        expect(revision(model, id), 'deleted, after a read').to.equal(undefined);
      });
    }

    it('none for a record never written, and none for the record of another model with the same id', async () => {
      const id = random();
      expect(revision('Client', id)).to.equal(undefined);
      await adapter('Grant').upsert(id, { kind: 'Grant' }, 300);
      await keptRevision('Grant', id);
      expect(revision('Client', id)).to.equal(undefined);
      expect(revision('Session', id)).to.equal(undefined);
    });

    it('none for a client once every record of it is removed (removeClient), a new one for the metadata kept', async () => {
      for (const keepMetadata of [false, true]) {
        const ids = fresh();
        await adapter('Client').upsert(ids.clientId, fieldsOf('Client', ids), undefined);
        const before = await keptRevision('Client', ids.clientId);
        await storage.removeClient(ids.clientId, { keepMetadata });
        const after = revision('Client', ids.clientId);
        if (keepMetadata) expect(after, 'kept metadata: unchanged or read anew').to.satisfy((value: unknown) => value === before || value === undefined);
        else expect(after, 'removed').to.equal(undefined);
        expect(await find('Client', ids.clientId) !== undefined).to.equal(keepMetadata);
      }
    });

    it('a new one (or none) once the record is consumed: a reader gets it consumed', async () => {
      const ids = fresh();
      await adapter('Grant').upsert(ids.grantId, fieldsOf('Grant', ids), 300);
      const before = await keptRevision('Grant', ids.grantId);
      await adapter('Grant').consume(ids.grantId);
      expect(revision('Grant', ids.grantId)).not.to.equal(before);
      expect((await find('Grant', ids.grantId) as { consumed?: unknown }).consumed).to.be.a('number');
      expect(revision('Grant', ids.grantId)).not.to.equal(before);
    });

    it('none once the record has expired', async () => {
      const { time } = backend;
      const ids = fresh();
      if (time.kind === 'clock') {
        await adapter('Client').upsert(ids.clientId, fieldsOf('Client', ids), 60);
        const kept = await keptRevision('Client', ids.clientId);
        time.advance(60_000 - 1);
        expect(revision('Client', ids.clientId), 'just before').to.equal(kept);
        time.advance(2);
        expect(revision('Client', ids.clientId), 'just after').to.equal(undefined);
      } else {
        // Redis counts the time itself: a record of 2 seconds (its cache keeps it no longer than its `exp`).
        await adapter('Client').upsert(ids.clientId, { ...fieldsOf('Client', ids), exp: Math.floor(Date.now() / 1000) + 2 }, 2);
        await keptRevision('Client', ids.clientId);
        await until('expired', 5000, async () => (revision('Client', ids.clientId) === undefined ? true : undefined));
        expect(await find('Client', ids.clientId)).to.equal(undefined);
      }
    });
  });
});
