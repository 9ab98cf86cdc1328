/**
 * Liveness and readiness on the memory storage: the storage check, further readiness checks
 * (trust anchor sources) that fail, refuse or hang, and what is logged and measured meanwhile.
 */
import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import { createHealth, createMetrics, HEALTH_COUNTER } from '../../lib/observability/index.js';
import type { Storage } from '../../lib/storage.js';
import { withAdapters } from '../support/storage.js';
import { keepingLogger, sample } from './helpers.js';

describe('observability: health', () => {
  it('is live and ready with a storage that answers', async () => {
    const health = createHealth({ storage: new MemoryStorage() });
    expect(health.live()).to.deep.equal({ status: 'ok', httpStatus: 200, checks: { process: { status: 'ok' } } });
    const ready = await health.ready();
    expect(ready).to.include({ status: 'ok', httpStatus: 200 });
    expect(ready.checks.storage).to.include({ status: 'ok' });
    expect(ready.checks.storage!.ms).to.be.a('number');
  });

  it('reads a counter of its own, and writes nothing', async () => {
    const storage = new MemoryStorage();
    const read: string[] = [];
    const watched: Storage = { ...withAdapters(storage, (_model, adapter) => adapter), readCounter: (name) => {
      read.push(name);
      return storage.readCounter(name);
    } };
    await createHealth({ storage: watched }).ready();
    expect(read).to.deep.equal([HEALTH_COUNTER]);
    expect(await storage.readCounter(HEALTH_COUNTER)).to.equal(0);
  });

  describe('readiness checks beside the storage', () => {
    let anchorsReady: boolean | { ready: boolean; detail?: string } | 'throw' | 'hang';
    const logger = keepingLogger();
    const metrics = createMetrics();
    const health = createHealth({
      storage: new MemoryStorage(),
      timeoutMs: 200,
      metrics,
      logger,
      checks: {
        'trust-anchors': () => {
          if (anchorsReady === 'throw') return Promise.reject(new TypeError('list of trusted lists: signature invalid'));
          if (anchorsReady === 'hang') return new Promise<boolean>(() => undefined);
          return Promise.resolve(anchorsReady);
        },
      },
    });

    it('is unavailable while a source is not ready, and ready again after', async () => {
      anchorsReady = true;
      expect((await health.ready()).status).to.equal('ok');
      anchorsReady = { ready: false, detail: 'EU list of trusted lists not loaded yet' };
      const refused = await health.ready();
      expect(refused).to.include({ status: 'unavailable', httpStatus: 503 });
      expect(refused.checks['trust-anchors']).to.include({ status: 'unavailable', detail: 'EU list of trusted lists not loaded yet' });
      expect(refused.checks.storage).to.include({ status: 'ok' });
      anchorsReady = false;
      expect((await health.ready()).checks['trust-anchors']).to.include({ status: 'unavailable', detail: 'not ready' });
      anchorsReady = 'throw';
      expect((await health.ready()).checks['trust-anchors']).to.include({ status: 'unavailable', detail: 'failed (TypeError)' });
      anchorsReady = 'hang';
      const started = Date.now();
      expect((await health.ready()).checks['trust-anchors']).to.include({ status: 'unavailable', detail: 'no answer within 200 ms' });
      expect(Date.now() - started).to.be.below(1000);
      anchorsReady = { ready: true };
      expect((await health.ready()).status).to.equal('ok');
      expect(health.live().status).to.equal('ok');
    });

    it('logged the changes once each way, not each check', () => {
      const changes = logger.lines.map((line) => `${line.level} ${String(line.fields.check)} ${String(line.fields.status)}`);
      expect(changes).to.deep.equal(['error trust-anchors unavailable', 'info trust-anchors ok']);
      expect(logger.lines[0]!.fields).to.include({ event: 'health.changed', detail: 'EU list of trusted lists not loaded yet' });
    });

    it('shares one run between concurrent calls', async () => {
      const [a, b] = [health.ready(), health.ready()];
      expect(a).to.equal(b);
      await a;
    });

    it('measures whether the storage answered', async () => {
      await health.ready();
      expect(sample((await metrics.scrape()).body, 'psd2_as_storage_up')).to.equal(1);
    });

    it('refuses a second check of one name, and removes checks', async () => {
      expect(() => health.addCheck('trust-anchors', () => true)).to.throw(TypeError, /registered already/);
      health.addCheck('register', () => false);
      expect((await health.ready()).status).to.equal('unavailable');
      health.removeCheck('register');
      health.removeCheck('storage');
      expect(Object.keys((await health.ready()).checks)).to.deep.equal(['storage', 'trust-anchors']);
      expect(() => createHealth({ storage: new MemoryStorage(), timeoutMs: 0 })).to.throw(RangeError);
    });
  });
});
