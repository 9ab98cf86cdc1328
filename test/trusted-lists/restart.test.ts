import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import { RedisStorage } from '../../adapters/redis/storage.js';
import type { Storage } from '../../lib/storage.js';
import { isStoredTrustedSet } from '../../lib/trusted-lists/anchors.js';
import { createAuthority } from '../../tools/dev-pki/pki.js';
import { euLists, type EuLists } from '../support/eu-lists.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { keepingLogger } from '../observability/helpers.js';
import { bankVerifier, sourceOf, verdict } from './helpers.js';

const DAY = 86_400_000;

describe('EU trusted lists: the last good set across a restart', function () {
  this.timeout(60_000);
  let lists: EuLists;
  let redis: TestRedis;

  before(async () => {
    lists = await euLists();
    redis = await startRedis();
  });
  after(async () => {
    await lists.close();
    await redis.close();
  });
  afterEach(() => lists.publish());

  const backends: [string, () => Storage][] = [
    ['MemoryStorage', () => new MemoryStorage()],
    ['RedisStorage', () => new RedisStorage(redis.client, { keyPrefix: `${redis.keyPrefix}${Math.random().toString(36).slice(2)}:` })],
  ];
  for (const [name, storageOf] of backends) {
    describe(name, () => {
      it('starts with the stored set when the publisher is down, and reports its age', async () => {
        const storage = storageOf();
        const verifiedAt = new Date();
        const first = sourceOf(lists, { storage, now: () => verifiedAt });
        expect(await first.start()).to.include({ ok: true });
        first.close();

        lists.server.fail('/lotl.xml');
        let now = verifiedAt;
        const logger = keepingLogger();
        const restarted = sourceOf(lists, { storage, logger, now: () => now });
        const outcome = await restarted.start();
        restarted.close();
        expect(outcome).to.include({ ok: false, anchors: 3 });
        expect(logger.lines.find((entry) => entry.fields.event === 'trusted_list.refused')?.fields).to.include({ keptAge: 0 });
        expect(verdict(bankVerifier(restarted), await lists.tpp(lists.frCa))).to.have.property('environment', 'bank');
        // The withdrawal history is stored with the set, not only the certificates.
        const late = await lists.tpp(lists.withdrawnCa, { notBefore: new Date(lists.withdrawnAt.getTime() + DAY) });
        expect(verdict(bankVerifier(restarted), late)).to.equal('issuer_not_granted');
        expect(restarted.readiness()).to.deep.equal({ ready: true });
        now = new Date(Date.now() + 2 * DAY);
        expect(restarted.readiness()).to.deep.equal({ ready: false, detail: `the EU trusted lists were last verified ${restarted.age()} s ago` });
      });

      it('verifies the stored lists again: what is changed in the storage anchors nothing', async () => {
        const storage = storageOf();
        const first = sourceOf(lists, { storage });
        await first.start();
        first.close();
        // A rogue CA added to the stored FR services, and the stored DE text tampered with.
        const sets = storage.adapterFor('TrustedList');
        const set: unknown = await sets.find('eu-lotl');
        if (!isStoredTrustedSet(set)) throw new Error('no stored set');
        const rogue = await createAuthority('Rogue QWAC CA');
        const fr = set.territories.FR!;
        const poisoned = { ...set, territories: { ...set.territories, FR: { ...fr, services: [...fr.services, { ...fr.services[0]!, certificates: [rogue.der.toString('base64')] }] } } };
        await sets.upsert('eu-lotl', poisoned);
        const texts = storage.adapterFor('TrustedListText');
        const de = await texts.find('DE');
        await texts.upsert('DE', { ...de, text: String(de?.text).replace('DE QWAC CA', 'DE QWAC CB') });

        lists.server.fail('/lotl.xml');
        const logger = keepingLogger();
        const restarted = sourceOf(lists, { storage, logger });
        expect(await restarted.start()).to.include({ ok: false, anchors: 1 });
        restarted.close();
        const verifier = bankVerifier(restarted);
        expect(verdict(verifier, await lists.tpp(lists.frCa))).to.have.property('environment', 'bank');
        expect(verdict(verifier, await lists.tpp(rogue))).to.equal('issuer_untrusted');
        expect(verdict(verifier, await lists.tpp(lists.deCa))).to.equal('issuer_untrusted');
        const verified = logger.lines.find((entry) => entry.fields.event === 'trusted_list.stored_verified')?.fields;
        expect(verified?.failedTerritories).to.have.length(1);
      });

      it('does not replace the stored set with a list that fails verification', async () => {
        const storage = storageOf();
        const first = sourceOf(lists, { storage });
        await first.start();
        first.close();
        await lists.publish({ lotl: { signer: lists.stranger } });
        const second = sourceOf(lists, { storage });
        expect(await second.start()).to.include({ ok: false });
        second.close();
        lists.server.fail('/lotl.xml');
        const third = sourceOf(lists, { storage });
        expect(await third.start()).to.include({ ok: false, anchors: 3 });
        third.close();
      });
    });
  }
});
