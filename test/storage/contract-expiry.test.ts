/**
 * The storage contract (lib/storage.ts), expiry: checked without waiting, by moving the clock of
 * the memory storage and by reading PTTL/TTL of the Redis storage's keys through the test's Redis
 * client. Run against every storage (test/support/storage.ts).
 */
import { expect } from 'chai';

import { article, fieldsOf, idFor, random, storageContract, taggedId } from '../support/storage.js';

storageContract(({ adapter, backend, find, fresh }) => {
  describe('expiry', () => {
    const N = 120;

    for (const model of ['AccessToken', 'Grant', 'Session', 'Client', 'AuthorizationCode'] as const) {
      it(`expires ${article(model)} written with expiresIn ${N} after ${N} seconds`, async () => {
        const ids = fresh();
        const id = idFor(model, ids.grantId);
        const payload = fieldsOf(model, ids);
        await adapter(model).upsert(id, payload, N);
        expect(await find(model, id)).to.deep.equal(payload);
        const { time } = backend;
        if (time.kind === 'clock') {
          time.advance(N * 1000 - 1);
          expect(await find(model, id), 'just before the expiry').to.deep.equal(payload);
          time.advance(2);
          expect(await find(model, id), 'just after the expiry').to.equal(undefined);
          if (typeof payload.uid === 'string') expect(await adapter(model).findByUid(payload.uid)).to.equal(undefined);
        } else {
          const pttl = await time.raw.pTTL(time.keys.record(model, id));
          expect(pttl).to.be.greaterThan(0).and.at.most(N * 1000);
          expect(pttl, 'the expiry is N seconds, not far less').to.be.greaterThan(N * 1000 - 5000);
          if (typeof payload.uid === 'string') {
            const pointer = await time.raw.pTTL(time.keys.pointer('uid', model, payload.uid));
            expect(pointer, 'the uid pointer expires with its record').to.be.greaterThan(0).and.at.most(N * 1000);
          }
        }
      });
    }

    for (const model of ['Client', 'Grant', 'RefreshToken', 'Session', 'RegistrationAccessToken'] as const) {
      it(`never expires ${article(model)} written without expiresIn`, async () => {
        const ids = fresh();
        const id = idFor(model, ids.grantId);
        const payload = fieldsOf(model, ids);
        await adapter(model).upsert(id, payload, undefined);
        const { time } = backend;
        if (time.kind === 'clock') {
          time.advance(10 * 365 * 24 * 3600 * 1000);
          expect(await find(model, id)).to.deep.equal(payload);
          if (typeof payload.uid === 'string') expect(await adapter(model).findByUid(payload.uid)).to.deep.equal(payload);
        } else {
          expect(await find(model, id)).to.deep.equal(payload);
          expect(await time.raw.ttl(time.keys.record(model, id))).to.equal(-1);
          if (typeof payload.uid === 'string') expect(await time.raw.ttl(time.keys.pointer('uid', model, payload.uid))).to.equal(-1);
        }
      });
    }

    it('drops an earlier expiry when the record is written again without expiresIn, and sets a new one with it', async () => {
      const ids = fresh();
      const id = taggedId(ids.grantId);
      await adapter('AccessToken').upsert(id, fieldsOf('AccessToken', ids), 10);
      await adapter('AccessToken').upsert(id, fieldsOf('AccessToken', ids), undefined);
      const other = taggedId(ids.grantId);
      await adapter('AccessToken').upsert(other, fieldsOf('AccessToken', ids), undefined);
      await adapter('AccessToken').upsert(other, fieldsOf('AccessToken', ids), 10);
      const { time } = backend;
      if (time.kind === 'clock') {
        time.advance(11_000);
        expect(await find('AccessToken', id)).to.deep.equal(fieldsOf('AccessToken', ids));
        expect(await find('AccessToken', other)).to.equal(undefined);
      } else {
        expect(await time.raw.ttl(time.keys.record('AccessToken', id))).to.equal(-1);
        expect(await time.raw.pTTL(time.keys.record('AccessToken', other))).to.be.greaterThan(0).and.at.most(10_000);
      }
    });

    it('does not keep a record written already expired (negative expiresIn, e.g. Interaction.persist after its exp)', async () => {
      const ids = fresh();
      const id = random();
      await adapter('Interaction').upsert(id, fieldsOf('Interaction', ids), -5);
      expect(await find('Interaction', id)).to.equal(undefined);
      expect(await backend.stored('Interaction', id)).to.equal(false);
    });
  });
});
