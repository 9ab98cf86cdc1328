/**
 * The storage contract (lib/storage.ts), its copies: no caller changes a stored record through the
 * object it wrote or an object it found, by id, uid or user code, consumed or not. Run against every
 * storage (test/support/storage.ts).
 */
import { expect } from 'chai';

import { fieldsOf, random, richPayload, storageContract, taggedId } from '../support/storage.js';

type Fields = Record<string, unknown>;

/** Changes `found` in every way a caller could: top-level fields, nested objects and arrays. */
function tamper(found: Fields): void {
  found.kind = 'Tampered';
  delete found.clientId;
  found.added = { by: 'the caller' };
  (found.nested as { level1: { level2: Fields } }).level1.level2.level3 = 'changed';
  (found.nested as { emptyObject: Fields }).emptyObject.filled = true;
  (found.list as unknown[]).push('more');
  ((found.list as unknown[])[4] as { inner: unknown[] }).inner.push(1);
  (found.numbers as Fields).int = 0;
}

storageContract(({ adapter, find, fresh }) => {
  describe('records are copies', () => {
    it('keeps a record as written when the writer changes its object at any depth afterwards', async () => {
      const ids = fresh();
      const id = taggedId(ids.grantId);
      const payload = richPayload(fieldsOf('AccessToken', ids));
      await adapter('AccessToken').upsert(id, payload, 300);
      tamper(payload);
      expect(await find('AccessToken', id)).to.deep.equal(richPayload(fieldsOf('AccessToken', ids)));
    });

    it('keeps a record as written when a finder changes what find, findByUid or findByUserCode gave, at any depth', async () => {
      const ids = fresh();
      const id = random();
      const written = richPayload({ ...fieldsOf('Interaction', ids), clientId: ids.clientId });
      await adapter('Interaction').upsert(id, written, 300);
      const userCode = `USER-${random(4)}`;
      const deviceCode = taggedId(ids.grantId);
      const device = richPayload({ kind: 'DeviceCode', clientId: ids.clientId, userCode });
      await adapter('DeviceCode').upsert(deviceCode, device, 300);

      const foundTwice = [await find('Interaction', id), await find('Interaction', id)] as Fields[];
      tamper(foundTwice[0]!);
      expect(foundTwice[1], 'a second object found before the change').to.deep.equal(written);
      tamper((await adapter('Interaction').findByUid(ids.uid)) as Fields);
      tamper((await adapter('DeviceCode').findByUserCode(userCode)) as Fields);

      expect(await find('Interaction', id)).to.deep.equal(written);
      expect(await adapter('Interaction').findByUid(ids.uid)).to.deep.equal(written);
      expect(await adapter('DeviceCode').findByUserCode(userCode)).to.deep.equal(device);
      expect(await find('DeviceCode', deviceCode)).to.deep.equal(device);
    });

    it('keeps a consumed record as stored when a finder changes what it found, its consumption included', async () => {
      const ids = fresh();
      const id = taggedId(ids.grantId);
      const payload = richPayload(fieldsOf('RefreshToken', ids));
      await adapter('RefreshToken').upsert(id, payload, 300);
      await adapter('RefreshToken').consume(id);
      const consumed = await find('RefreshToken', id);
      const found = (await find('RefreshToken', id)) as Fields;
      tamper(found);
      delete found.consumed;
      expect(await find('RefreshToken', id)).to.deep.equal(consumed);
      expect((consumed as Fields).consumed).to.be.a('number');
    });
  });
});
