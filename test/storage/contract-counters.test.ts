/**
 * The storage contract (lib/storage.ts), its counters: counted, read, reset, within windows, and
 * against several limits in one atomic step. Run against every storage (test/support/storage.ts).
 */
import { expect } from 'chai';

import { random, storageContract } from '../support/storage.js';

storageContract(({ backend, storage }) => {
  describe('counters', () => {
    const counter = () => `login:${random(9)}`;

    it('counts up from 1, down with a negative amount, reads and resets', async () => {
      const name = counter();
      expect(await storage.readCounter(name)).to.equal(0);
      expect(await storage.incrementCounter(name, 60)).to.equal(1);
      expect(await storage.incrementCounter(name, 60)).to.equal(2);
      expect(await storage.incrementCounter(name, 60)).to.equal(3);
      expect(await storage.readCounter(name)).to.equal(3);
      expect(await storage.incrementCounter(name, 60, -1)).to.equal(2);
      expect(await storage.incrementCounter(name, 60, 5)).to.equal(7);
      expect(await storage.readCounter(name)).to.equal(7);
      await storage.resetCounter(name);
      expect(await storage.readCounter(name)).to.equal(0);
      expect(await storage.incrementCounter(name, 60)).to.equal(1);
      await storage.resetCounter(counter());
    });

    it('keeps counters apart', async () => {
      const a = counter();
      const b = counter();
      await storage.incrementCounter(a, 60);
      await storage.incrementCounter(a, 60);
      await storage.incrementCounter(b, 60);
      expect(await storage.readCounter(a)).to.equal(2);
      expect(await storage.readCounter(b)).to.equal(1);
      await storage.resetCounter(a);
      expect(await storage.readCounter(b)).to.equal(1);
    });

    it('starts a counter below zero with a negative first amount', async () => {
      const name = counter();
      expect(await storage.incrementCounter(name, 60, -1)).to.equal(-1);
      expect(await storage.readCounter(name)).to.equal(-1);
    });

    it('counts every one of 30 concurrent increments', async () => {
      const name = counter();
      const values = await Promise.all(Array.from({ length: 30 }, () => storage.incrementCounter(name, 60)));
      expect([...values].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(await storage.readCounter(name)).to.equal(30);
    });

    it('sets the window when the counter is created only: later increments do not extend it', async () => {
      const name = counter();
      const window = 100;
      await storage.incrementCounter(name, window);
      const { time } = backend;
      if (time.kind === 'clock') {
        time.advance(60_000);
        expect(await storage.incrementCounter(name, 10_000)).to.equal(2);
        time.advance(39_999);
        expect(await storage.readCounter(name), 'within the window').to.equal(2);
        time.advance(2);
        expect(await storage.readCounter(name), 'past the window of the first increment').to.equal(0);
        // Once expired, the next increment starts a new count and a new window.
        expect(await storage.incrementCounter(name, 10)).to.equal(1);
        time.advance(10_001);
        expect(await storage.readCounter(name)).to.equal(0);
      } else {
        const key = time.keys.counter(name);
        const ttl = await time.raw.ttl(key);
        expect(ttl).to.be.greaterThan(0).and.at.most(window);
        expect(await storage.incrementCounter(name, 10_000)).to.equal(2);
        expect(await time.raw.ttl(key), 'a second increment does not extend the window').to.be.at.most(window);
        expect(await storage.incrementCounter(name, 10_000, -1)).to.equal(1);
        expect(await time.raw.ttl(key)).to.be.at.most(window);
        await storage.resetCounter(name);
        expect(await time.raw.exists(key)).to.equal(0);
        // A new counter after a reset gets a new window.
        await storage.incrementCounter(name, 5);
        expect(await time.raw.ttl(key)).to.be.greaterThan(0).and.at.most(5);
      }
    });
  });

  describe('counting against several limits in one step (incrementCountersWithin)', () => {
    /** Counters of one group, as the sign-in limits name theirs. */
    const group = `{limits-${random(6)}}`;
    const grouped = (kind: string) => `${group}:${kind}:${random(9)}`;
    const within = (name: string, limit: number, windowSeconds = 60) => ({ name, limit, windowSeconds });
    /** Whether anything is stored for the counter (on Redis: its key exists). */
    const exists = async (name: string) => backend.time.kind === 'redis' ? (await backend.time.raw.exists(backend.time.keys.counter(name))) === 1 : (await storage.readCounter(name)) !== 0;

    it('counts every counter while each is below its limit, and none once one is at it', async () => {
      const address = grouped('ip');
      const first = grouped('id');
      expect(await storage.incrementCountersWithin([within(address, 2), within(first, 5)])).to.equal(true);
      expect(await storage.incrementCountersWithin([within(address, 2), within(first, 5)])).to.equal(true);
      expect(await storage.readCounter(address)).to.equal(2);
      expect(await storage.readCounter(first)).to.equal(2);
      // The address is at its limit: a new identifier is neither counted nor created.
      const second = grouped('id');
      expect(await storage.incrementCountersWithin([within(address, 2), within(second, 5)])).to.equal(false);
      expect(await storage.readCounter(address), 'not counted past its limit').to.equal(2);
      expect(await exists(second), 'the identifier\'s counter was not created').to.equal(false);
      // A later counter at its limit stops the step too, before the earlier ones are counted.
      const third = grouped('id');
      await storage.incrementCounter(third, 60, 3);
      expect(await storage.incrementCountersWithin([within(address, 10), within(third, 3)])).to.equal(false);
      expect(await storage.readCounter(address)).to.equal(2);
      expect(await storage.readCounter(third)).to.equal(3);
      expect(await storage.incrementCountersWithin([within(address, 10), within(third, 4)])).to.equal(true);
      expect(await storage.readCounter(address)).to.equal(3);
      expect(await storage.readCounter(third)).to.equal(4);
    });

    it('keeps the counters it counts for the other counter methods: read, given back, reset', async () => {
      const address = grouped('ip');
      const identifier = grouped('id');
      expect(await storage.incrementCountersWithin([within(address, 1), within(identifier, 1)])).to.equal(true);
      expect(await storage.incrementCountersWithin([within(address, 1), within(identifier, 5)])).to.equal(false);
      expect(await storage.incrementCounter(address, 60, -1)).to.equal(0);
      expect(await storage.incrementCountersWithin([within(address, 1), within(identifier, 5)])).to.equal(true);
      expect(await storage.readCounter(identifier)).to.equal(2);
      await storage.resetCounter(identifier);
      expect(await storage.readCounter(identifier)).to.equal(0);
      expect(await storage.readCounter(address)).to.equal(1);
    });

    it('lets exactly `limit` of 60 concurrent steps through, and creates only their counters', async () => {
      const address = grouped('ip');
      const identifiers = Array.from({ length: 60 }, () => grouped('id'));
      const counted = await Promise.all(identifiers.map((identifier) => storage.incrementCountersWithin([within(address, 7), within(identifier, 5)])));
      expect(counted.filter(Boolean)).to.have.length(7);
      expect(await storage.readCounter(address)).to.equal(7);
      const present = await Promise.all(identifiers.map(exists));
      expect(present.filter(Boolean), 'identifier counters stored').to.have.length(7);
      expect(present, 'exactly those counted').to.deep.equal(counted);
    });

    it('refuses concurrent steps beyond the limit of a shared counter, whatever the other counters', async () => {
      const identifier = grouped('id');
      const counted = await Promise.all(Array.from({ length: 40 }, () => storage.incrementCountersWithin([within(grouped('ip'), 100), within(identifier, 5)])));
      expect(counted.filter(Boolean)).to.have.length(5);
      expect(await storage.readCounter(identifier)).to.equal(5);
    });

    it('gives each counter it creates its own window, and extends none', async () => {
      const address = grouped('ip');
      const identifier = grouped('id');
      expect(await storage.incrementCountersWithin([within(address, 10, 100), within(identifier, 10, 1000)])).to.equal(true);
      const { time } = backend;
      if (time.kind === 'clock') {
        time.advance(60_000);
        expect(await storage.incrementCountersWithin([within(address, 10, 10_000), within(identifier, 10, 10_000)])).to.equal(true);
        time.advance(40_001);
        expect(await storage.readCounter(address), 'past the address\'s first window').to.equal(0);
        expect(await storage.readCounter(identifier), 'within the identifier\'s').to.equal(2);
      } else {
        expect(await time.raw.ttl(time.keys.counter(address))).to.be.greaterThan(0).and.at.most(100);
        expect(await time.raw.ttl(time.keys.counter(identifier))).to.be.greaterThan(100).and.at.most(1000);
        expect(await storage.incrementCountersWithin([within(address, 10, 10_000), within(identifier, 10, 10_000)])).to.equal(true);
        expect(await time.raw.ttl(time.keys.counter(address)), 'a later step does not extend the window').to.be.at.most(100);
        expect(await time.raw.ttl(time.keys.counter(identifier))).to.be.at.most(1000);
      }
    });

    it('counts a single counter of any name, and refuses counters of different groups or of none', async () => {
      const alone = `single:${random(9)}`;
      expect(await storage.incrementCountersWithin([within(alone, 1)])).to.equal(true);
      expect(await storage.incrementCountersWithin([within(alone, 1)])).to.equal(false);
      expect(await storage.readCounter(alone)).to.equal(1);
      expect(await storage.incrementCountersWithin([])).to.equal(true);
      for (const names of [[`a:${random(9)}`, `b:${random(9)}`], [grouped('ip'), `{other-${random(6)}}:id`], [grouped('ip'), `id:${random(9)}`]]) {
        const error = await storage.incrementCountersWithin(names.map((name) => within(name, 5))).then(() => undefined, (caught: unknown) => caught);
        expect(error, names.join(', ')).to.be.instanceOf(TypeError);
        for (const name of names) expect(await exists(name), name).to.equal(false);
      }
    });
  });
});
