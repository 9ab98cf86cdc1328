/**
 * The storage contract (lib/storage.ts), its records: written and found, by id, uid and user code,
 * consumed once, destroyed. Run against every storage (test/support/storage.ts).
 */
import { expect } from 'chai';
import type { RecordPayload as AdapterPayload } from '../../lib/storage.js';

import { article, fieldsOf, idFor, MODELS, random, richPayload, storageContract, taggedId } from '../support/storage.js';

storageContract(({ adapter, backend, find, fresh }) => {
  describe('upsert and find', () => {
    for (const model of MODELS) {
      it(`round-trips ${article(model)} payload with nested objects, arrays, unicode and numbers`, async () => {
        const ids = fresh();
        const id = idFor(model, ids.grantId);
        const payload = richPayload(fieldsOf(model, ids));
        await adapter(model).upsert(id, payload, 300);
        expect(await find(model, id)).to.deep.equal(payload);
        // The stored payload is a copy: changing the caller's object or the one found changes nothing stored.
        (payload.nested as { level1: unknown }).level1 = 'changed';
        const found = (await find(model, id)) as AdapterPayload;
        (found.list as unknown[]).push('more');
        expect(await find(model, id)).to.deep.equal(richPayload(fieldsOf(model, ids)));
      });
    }

    it('stores a payload as JSON carries it: a field set to undefined left out, an undefined array item null', async () => {
      const ids = fresh();
      const id = taggedId(ids.grantId);
      await adapter('AccessToken').upsert(id, { ...fieldsOf('AccessToken', ids), extra: undefined, list: [undefined, 1], inner: { gone: undefined } }, 300);
      const found = await find('AccessToken', id);
      expect(found).to.deep.equal({ ...fieldsOf('AccessToken', ids), list: [null, 1], inner: {} });
      expect(found).not.to.have.property('extra');
    });

    it('finds nothing for an id never written, in every model', async () => {
      for (const model of MODELS) {
        expect(await find(model, random()), model).to.equal(undefined);
        expect(await find(model, taggedId(random())), model).to.equal(undefined);
      }
    });

    it('replaces the whole payload on a second upsert: a field left out is gone', async () => {
      for (const model of MODELS) {
        const ids = fresh();
        const id = idFor(model, ids.grantId);
        await adapter(model).upsert(id, { ...fieldsOf(model, ids), first: 'only in the first', shared: { a: 1, b: [1, 2] } }, 300);
        const second = { ...fieldsOf(model, ids), shared: { a: 2 }, added: [] };
        await adapter(model).upsert(id, second, 300);
        const found = await find(model, id);
        expect(found, model).to.deep.equal(second);
        expect(found, model).not.to.have.property('first');
      }
    });

    it('keeps records of different models with the same id apart', async () => {
      const id = random();
      await adapter('Session').upsert(id, { kind: 'Session', n: 1 }, 300);
      await adapter('Interaction').upsert(id, { kind: 'Interaction', n: 2 }, 300);
      expect(await find('Session', id)).to.deep.equal({ kind: 'Session', n: 1 });
      expect(await find('Interaction', id)).to.deep.equal({ kind: 'Interaction', n: 2 });
      await adapter('Session').destroy(id);
      expect(await find('Session', id)).to.equal(undefined);
      expect(await find('Interaction', id)).to.deep.equal({ kind: 'Interaction', n: 2 });
    });

    it('keeps every one of 20 parallel upserts to different ids', async () => {
      const shared = fresh();
      const records = Array.from({ length: 20 }, (_, i) => {
        const model = MODELS[i % MODELS.length]!;
        // Tokens of one grant (same hash slot) and of grants of their own; every Grant id its own.
        const ids = { ...fresh(), grantId: model !== 'Grant' && i % 2 ? shared.grantId : random() };
        return { model, id: idFor(model, ids.grantId), payload: { ...fieldsOf(model, ids), index: i } };
      });
      await Promise.all(records.map(({ model, id, payload }) => adapter(model).upsert(id, payload, 300)));
      const found = await Promise.all(records.map(({ model, id }) => find(model, id)));
      expect(found).to.deep.equal(records.map(({ payload }) => payload));
    });
  });

  describe('findByUid and findByUserCode', () => {
    for (const model of ['Session', 'Interaction'] as const) {
      it(`finds ${article(model)} by its uid, and nothing for an unknown uid`, async () => {
        const ids = fresh();
        const id = random();
        const payload = richPayload(fieldsOf(model, ids));
        await adapter(model).upsert(id, payload, 300);
        expect(await adapter(model).findByUid(payload.uid as string)).to.deep.equal(payload);
        expect(await adapter(model).findByUid(random(16))).to.equal(undefined);
      });
    }

    it('finds a DeviceCode by its user code, and nothing for an unknown user code', async () => {
      const ids = fresh();
      const id = taggedId(ids.grantId);
      const payload = { kind: 'DeviceCode', clientId: ids.clientId, userCode: `USER-${random(4)}`, deviceInfo: { ua: 'tv' } };
      await adapter('DeviceCode').upsert(id, payload, 300);
      expect(await adapter('DeviceCode').findByUserCode(payload.userCode)).to.deep.equal(payload);
      expect(await adapter('DeviceCode').findByUserCode(`USER-${random(4)}`)).to.equal(undefined);
    });

    it('finds by uid or user code only the records of its own model', async () => {
      const uid = random(16);
      const userCode = `USER-${random(4)}`;
      await adapter('Session').upsert(random(), { kind: 'Session', uid }, 300);
      await adapter('DeviceCode').upsert(random(), { kind: 'DeviceCode', userCode }, 300);
      expect(await adapter('Interaction').findByUid(uid), 'an Interaction adapter returning a Session').to.equal(undefined);
      expect(await adapter('BackchannelAuthenticationRequest').findByUserCode(userCode), 'another model returning a DeviceCode').to.equal(undefined);
      expect(await adapter('Session').findByUid(uid)).to.deep.equal({ kind: 'Session', uid });
      expect(await adapter('DeviceCode').findByUserCode(userCode)).to.deep.equal({ kind: 'DeviceCode', userCode });
    });
  });

  describe('consume', () => {
    for (const model of ['AuthorizationCode', 'RefreshToken', 'Interaction'] as const) {
      it(`marks ${article(model)} consumed, with the time in epoch seconds, visible in find`, async () => {
        const ids = fresh();
        const id = idFor(model, ids.grantId);
        const payload = richPayload(fieldsOf(model, ids));
        await adapter(model).upsert(id, payload, 300);
        expect(await find(model, id)).not.to.have.property('consumed');
        await adapter(model).consume(id);
        const found = (await find(model, id)) as AdapterPayload;
        expect(found.consumed).to.be.a('number');
        expect(Number.isInteger(found.consumed)).to.equal(true);
        expect(Math.abs((found.consumed as number) - backend.now() / 1000)).to.be.at.most(2);
        const { consumed: _consumed, ...rest } = found;
        expect(rest).to.deep.equal(payload);
      });
    }

    it('refuses a second consume with invalid_grant', async () => {
      const ids = fresh();
      const id = taggedId(ids.grantId);
      await adapter('AuthorizationCode').upsert(id, fieldsOf('AuthorizationCode', ids), 300);
      await adapter('AuthorizationCode').consume(id);
      const first = ((await find('AuthorizationCode', id)) as AdapterPayload).consumed;
      let refusal: unknown;
      try {
        await adapter('AuthorizationCode').consume(id);
      } catch (error) {
        refusal = error;
      }
      expect(refusal, 'the second consume throws').to.be.instanceOf(Error);
      expect((refusal as { error?: unknown }).error).to.equal('invalid_grant');
      expect(((await find('AuthorizationCode', id)) as AdapterPayload).consumed, 'the first consumption stands').to.equal(first);
    });

    it('lets exactly one of 50 concurrent consumes of a fresh record win', async () => {
      const ids = fresh();
      const id = taggedId(ids.grantId);
      await adapter('RefreshToken').upsert(id, fieldsOf('RefreshToken', ids), 300);
      const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => adapter('RefreshToken').consume(id)));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).to.have.length(1);
      const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as { error?: unknown }] : []));
      expect(refusals).to.have.length(49);
      expect(refusals.every((reason) => reason.error === 'invalid_grant')).to.equal(true);
    });

    it('refuses a missing id (revoked or expired since it was read) with invalid_grant, and creates nothing', async () => {
      for (const [model, id] of [['AuthorizationCode', taggedId(random())], ['RefreshToken', random()], ['Interaction', random()]] as const) {
        let refusal: { error?: unknown } | undefined;
        try {
          await adapter(model).consume(id);
        } catch (error) {
          refusal = error as { error?: unknown };
        }
        expect(refusal?.error, model).to.equal('invalid_grant');
        expect(await find(model, id), model).to.equal(undefined);
        expect(await backend.stored(model, id), `${model} record created by consume`).to.equal(false);
      }
    });
  });

  describe('destroy', () => {
    for (const model of ['Session', 'Interaction'] as const) {
      it(`removes ${article(model)}, which is found neither by id nor by uid`, async () => {
        const ids = fresh();
        const id = random();
        const payload = fieldsOf(model, ids);
        const other = random();
        await adapter(model).upsert(id, payload, 300);
        await adapter(model).upsert(other, fieldsOf(model, fresh()), 300);
        await adapter(model).destroy(id);
        expect(await find(model, id)).to.equal(undefined);
        expect(await adapter(model).findByUid(payload.uid as string)).to.equal(undefined);
        expect(await backend.stored(model, id)).to.equal(false);
        expect(await find(model, other), 'another record of the model').not.to.equal(undefined);
      });
    }

    it('removes records of every model, and does not throw for a missing id', async () => {
      for (const model of MODELS) {
        const ids = fresh();
        const id = idFor(model, ids.grantId);
        await adapter(model).upsert(id, fieldsOf(model, ids), 300);
        await adapter(model).destroy(id);
        expect(await find(model, id), model).to.equal(undefined);
        await adapter(model).destroy(random());
      }
    });

    it('removes a DeviceCode, which is no longer found by its user code', async () => {
      const id = taggedId(random());
      const userCode = `USER-${random(4)}`;
      await adapter('DeviceCode').upsert(id, { kind: 'DeviceCode', userCode }, 300);
      await adapter('DeviceCode').destroy(id);
      expect(await adapter('DeviceCode').findByUserCode(userCode)).to.equal(undefined);
    });
  });
});
