/**
 * The storage contract (lib/storage.ts), what it finds through its indexes: a grant's tokens
 * revoked together, a client's records removed together, a PSU's grants and an organization's
 * clients listed (on Redis, the expiry scores of the indexes read through the test's client). Run
 * against every storage (test/support/storage.ts).
 */
import { expect } from 'chai';

import { GRANT_TAG_LENGTH } from '../../lib/token-ids.js';
import { fieldsOf, type Model, random, storageContract, taggedId } from '../support/storage.js';

storageContract(({ adapter, backend, find, fresh, storage }) => {
  describe('revokeByGrantId', () => {
    const TOKEN_MODELS = ['AccessToken', 'RefreshToken', 'AuthorizationCode'] as const;

    for (const style of ['tagged', 'plain'] as const) {
      it(`removes only the given model's records of the grant (${style} token ids)`, async () => {
        const g = fresh();
        const grantG = g.grantId;
        const grantH = random();
        // K shares G's first 8 characters: its tagged tokens share G's tag and hash slot.
        const grantK = `${grantG.slice(0, GRANT_TAG_LENGTH)}${random().slice(GRANT_TAG_LENGTH)}`;
        const idOf = (grantId: string) => (style === 'tagged' ? taggedId(grantId) : random());
        await adapter('Grant').upsert(grantG, fieldsOf('Grant', g), 300);
        const tokens: { model: string; grantId: string; id: string }[] = [];
        for (const model of TOKEN_MODELS) {
          for (const [grantId, count] of [[grantG, 2], [grantH, 1], [grantK, 1]] as const) {
            for (let i = 0; i < count; i += 1) {
              const id = idOf(grantId);
              // One record of G without expiry, to cover the indexes that never expire.
              await adapter(model).upsert(id, { kind: model, clientId: g.clientId, grantId }, i === 1 ? undefined : 300);
              tokens.push({ model, grantId, id });
            }
          }
        }
        const present = async () => {
          const found = await Promise.all(tokens.map(async (token) => ((await find(token.model, token.id)) ? `${token.model}/${token.grantId}/${token.id}` : undefined)));
          return found.filter((entry): entry is string => entry !== undefined);
        };
        const expected = (revoked: string[]) => tokens
          .filter((token) => !(token.grantId === grantG && revoked.includes(token.model)))
          .map((token) => `${token.model}/${token.grantId}/${token.id}`);

        await adapter('AccessToken').revokeByGrantId(grantG);
        expect(await present()).to.have.members(expected(['AccessToken']));
        await adapter('RefreshToken').revokeByGrantId(grantG);
        await adapter('AuthorizationCode').revokeByGrantId(grantG);
        expect(await present()).to.have.members(expected([...TOKEN_MODELS]));
        expect(await find('Grant', grantG), 'the grant itself, another model').to.deep.equal(fieldsOf('Grant', g));
        // Revoking again, or a grant with nothing, is harmless.
        await adapter('AccessToken').revokeByGrantId(grantG);
        await adapter('AccessToken').revokeByGrantId(random());
        expect(await present()).to.have.members(expected([...TOKEN_MODELS]));
      });
    }

    it('removes a token re-issued under the grant after an earlier revocation', async () => {
      const grantId = random();
      const first = taggedId(grantId);
      await adapter('AccessToken').upsert(first, { grantId }, 300);
      await adapter('AccessToken').revokeByGrantId(grantId);
      const second = taggedId(grantId);
      await adapter('AccessToken').upsert(second, { grantId }, 300);
      expect(await find('AccessToken', second)).to.deep.equal({ grantId });
      await adapter('AccessToken').revokeByGrantId(grantId);
      expect(await find('AccessToken', first)).to.equal(undefined);
      expect(await find('AccessToken', second)).to.equal(undefined);
    });
  });

  describe('removeClient', () => {
    /** A client with every kind of record, `provider_legal_id` of `organization`. */
    async function clientWithRecords(organization: string) {
      const ids = { ...fresh(), organization };
      const records: { model: Model; id: string }[] = [
        { model: 'Client', id: ids.clientId },
        { model: 'Grant', id: ids.grantId },
        { model: 'AccessToken', id: taggedId(ids.grantId) },
        { model: 'AccessToken', id: random() },
        { model: 'RefreshToken', id: taggedId(ids.grantId) },
        { model: 'AuthorizationCode', id: taggedId(ids.grantId) },
        { model: 'ClientCredentials', id: random() },
        { model: 'RegistrationAccessToken', id: random() },
      ];
      for (const [i, { model, id }] of records.entries()) {
        await adapter(model).upsert(id, fieldsOf(model, ids), model === 'Client' || model === 'RegistrationAccessToken' || i === 3 ? undefined : 300);
      }
      return { ids, records };
    }
    const presentOf = async (records: { model: Model; id: string }[]) => {
      const found = await Promise.all(records.map(async ({ model, id }) => ((await find(model, id)) ? model : undefined)));
      return found.filter((model) => model !== undefined);
    };

    it('removes every record of the client and none of another client', async () => {
      const organization = `PSDFR-NCA-${random(6)}`;
      const a = await clientWithRecords(organization);
      const b = await clientWithRecords(organization);
      expect(await storage.clientIdsOf(organization)).to.have.members([a.ids.clientId, b.ids.clientId]);
      await storage.removeClient(a.ids.clientId);
      expect(await presentOf(a.records)).to.deep.equal([]);
      expect(await presentOf(b.records)).to.deep.equal(b.records.map(({ model }) => model));
      expect(await storage.clientIdsOf(organization)).to.deep.equal([b.ids.clientId]);
      // Removing again, or an unknown client, is harmless.
      await storage.removeClient(a.ids.clientId);
      await storage.removeClient(`client-${random(9)}`);
      expect(await presentOf(b.records)).to.deep.equal(b.records.map(({ model }) => model));
    });

    it('with keepMetadata keeps the Client and RegistrationAccessToken records, removing grants, codes and tokens', async () => {
      const organization = `PSDFR-NCA-${random(6)}`;
      const a = await clientWithRecords(organization);
      const b = await clientWithRecords(organization);
      await storage.removeClient(a.ids.clientId, { keepMetadata: true });
      expect(await presentOf(a.records)).to.have.members(['Client', 'RegistrationAccessToken']);
      expect(await find('Client', a.ids.clientId)).to.deep.equal(fieldsOf('Client', a.ids));
      expect(await presentOf(b.records)).to.deep.equal(b.records.map(({ model }) => model));
      expect(await storage.clientIdsOf(organization), 'the client stays registered').to.have.members([a.ids.clientId, b.ids.clientId]);
      // The metadata goes with a later full removal.
      await storage.removeClient(a.ids.clientId);
      expect(await presentOf(a.records)).to.deep.equal([]);
      expect(await storage.clientIdsOf(organization)).to.deep.equal([b.ids.clientId]);
    });

    it('removes records written after a keepMetadata removal', async () => {
      const a = await clientWithRecords(`PSDFR-NCA-${random(6)}`);
      await storage.removeClient(a.ids.clientId, { keepMetadata: true });
      const grantId = random();
      const token = taggedId(grantId);
      await adapter('AccessToken').upsert(token, { clientId: a.ids.clientId, grantId }, 300);
      await storage.removeClient(a.ids.clientId, { keepMetadata: true });
      expect(await find('AccessToken', token)).to.equal(undefined);
      expect(await find('Client', a.ids.clientId)).not.to.equal(undefined);
    });

    it('clientIdsOf no longer lists a client deleted as the registration endpoint does (Client and token destroyed, then removeClient)', async () => {
      const organization = `PSDFR-NCA-${random(6)}`;
      const a = await clientWithRecords(organization);
      const b = await clientWithRecords(organization);
      // oidc-provider's DELETE /register/:id destroys the Client and the registration access
      // token through their adapters; the server then calls removeClient (lib/authorization-server.ts).
      await adapter('Client').destroy(a.ids.clientId);
      await adapter('RegistrationAccessToken').destroy(a.records.find(({ model }) => model === 'RegistrationAccessToken')!.id);
      await storage.removeClient(a.ids.clientId);
      expect(await presentOf(a.records)).to.deep.equal([]);
      expect(await storage.clientIdsOf(organization)).to.deep.equal([b.ids.clientId]);
    });
  });

  describe('grantIdsOf and clientIdsOf', () => {
    it('lists the grants of a PSU, and none of another PSU', async () => {
      const accountId = `psu-${random(9)}`;
      const other = `psu-${random(9)}`;
      const mine = [random(), random(), random()];
      const theirs = random();
      for (const [i, grantId] of mine.entries()) {
        await adapter('Grant').upsert(grantId, { kind: 'Grant', accountId, clientId: `client-${i}` }, i ? 300 : undefined);
      }
      await adapter('Grant').upsert(theirs, { kind: 'Grant', accountId: other, clientId: 'client-0' }, 300);
      // A non-Grant record with an accountId is no grant.
      await adapter('Session').upsert(random(), { kind: 'Session', accountId, uid: random(16) }, 300);
      await adapter('AccessToken').upsert(taggedId(mine[0]!), { accountId, grantId: mine[0]! }, 300);
      expect(await storage.grantIdsOf(accountId)).to.have.members(mine);
      expect(await storage.grantIdsOf(other)).to.deep.equal([theirs]);
      expect(await storage.grantIdsOf(`psu-${random(9)}`)).to.deep.equal([]);
    });

    it('does not list an expired grant', async () => {
      const accountId = `psu-${random(9)}`;
      const lasting = random();
      const shortLived = random();
      await adapter('Grant').upsert(lasting, { kind: 'Grant', accountId }, undefined);
      await adapter('Grant').upsert(shortLived, { kind: 'Grant', accountId }, 1);
      expect(await storage.grantIdsOf(accountId)).to.have.members([lasting, shortLived]);
      const { time } = backend;
      if (time.kind === 'clock') {
        time.advance(1001);
      } else {
        // Redis keeps the index member's expiry as its score, and lists members whose score is
        // not past: the score must be the grant's expiry; moving it into the past stands for
        // the second going by, without waiting for it.
        const index = time.keys.accountIndex(accountId);
        const score = await time.raw.zScore(index, shortLived);
        expect(score).to.be.a('number');
        expect(score! - Date.now()).to.be.greaterThan(0).and.at.most(1000);
        expect(await time.raw.zScore(index, lasting)).to.equal(Number.POSITIVE_INFINITY);
        await time.raw.zAdd(index, { score: Date.now() - 1, value: shortLived });
      }
      expect(await storage.grantIdsOf(accountId)).to.deep.equal([lasting]);
    });

    it('does not list a destroyed grant (consent withdrawn)', async () => {
      const accountId = `psu-${random(9)}`;
      const kept = random();
      const withdrawn = random();
      await adapter('Grant').upsert(kept, { kind: 'Grant', accountId }, 300);
      await adapter('Grant').upsert(withdrawn, { kind: 'Grant', accountId }, 300);
      await adapter('Grant').destroy(withdrawn);
      expect(await storage.grantIdsOf(accountId)).to.deep.equal([kept]);
    });

    it('does not list the grants of a removed client', async () => {
      const accountId = `psu-${random(9)}`;
      const removed = `client-${random(9)}`;
      const grantOfRemoved = random();
      const grantOfOther = random();
      await adapter('Grant').upsert(grantOfRemoved, { kind: 'Grant', accountId, clientId: removed }, 300);
      await adapter('Grant').upsert(grantOfOther, { kind: 'Grant', accountId, clientId: `client-${random(9)}` }, 300);
      await storage.removeClient(removed, { keepMetadata: true });
      expect(await find('Grant', grantOfRemoved)).to.equal(undefined);
      expect(await storage.grantIdsOf(accountId)).to.deep.equal([grantOfOther]);
    });

    it('lists the clients of an organization, and none of another', async () => {
      const organization = `PSDFR-NCA-${random(6)}`;
      const other = `PSDFR-NCA-${random(6)}`;
      const mine = [`client-${random(9)}`, `client-${random(9)}`];
      const theirs = `client-${random(9)}`;
      for (const clientId of mine) await adapter('Client').upsert(clientId, { client_id: clientId, provider_legal_id: organization }, undefined);
      await adapter('Client').upsert(theirs, { client_id: theirs, provider_legal_id: other }, undefined);
      // Only Client records count: a token carrying the field is no client.
      await adapter('AccessToken').upsert(random(), { clientId: mine[0]!, provider_legal_id: organization }, 300);
      expect(await storage.clientIdsOf(organization)).to.have.members(mine);
      expect(await storage.clientIdsOf(other)).to.deep.equal([theirs]);
      expect(await storage.clientIdsOf(`PSDFR-NCA-${random(6)}`)).to.deep.equal([]);
      // Updating the metadata (PUT /register/:id) keeps a single entry.
      await adapter('Client').upsert(mine[0]!, { client_id: mine[0]!, provider_legal_id: organization, client_name: 'renamed' }, undefined);
      expect(await storage.clientIdsOf(organization)).to.have.members(mine);
    });
  });
});
