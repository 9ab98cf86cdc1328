/**
 * MemoryStorage's copies of payloads: JSON data copied by the storage itself, anything else as
 * structuredClone copies it (what the storage did before), never shared with the caller.
 */
import { isDeepStrictEqual } from 'node:util';

import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';

type Fields = Record<string, unknown>;

describe('MemoryStorage copies', () => {
  const adapter = new MemoryStorage().adapterFor('Interaction');

  async function roundTrip(payload: Fields): Promise<Fields> {
    const id = `copy-${Math.random()}`;
    await adapter.upsert(id, payload, 60);
    const found = (await adapter.find(id)) as Fields;
    expect(found).not.to.equal(payload);
    expect(isDeepStrictEqual(found, structuredClone(payload)), 'found as structuredClone copies it').to.equal(true);
    return found;
  }

  it('copies JSON data at every depth, an own __proto__ field staying a field', async () => {
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "a": [1, {"b": null}, []], "n": {"x": "y"}}') as Fields;
    const found = await roundTrip(payload);
    expect(Object.getPrototypeOf(found)).to.equal(Object.prototype);
    expect(Object.keys(found)).to.deep.equal(['__proto__', 'a', 'n']);
    expect(({} as Fields).polluted).to.equal(undefined);
    expect(found.a).not.to.equal(payload.a);
    expect((found.a as unknown[])[1]).not.to.equal((payload.a as unknown[])[1]);
  });

  it('keeps fields set to undefined, and objects without a prototype as plain objects', async () => {
    const found = await roundTrip({ missing: undefined, list: [undefined], bare: Object.assign(Object.create(null) as Fields, { k: 1 }) });
    expect(found).to.have.property('missing');
    expect(Object.getPrototypeOf(found.bare)).to.equal(Object.prototype);
  });

  it('copies what JSON does not carry as structuredClone does: dates, maps, sparse arrays, cycles', async () => {
    const cycle: Fields = { name: 'loop' };
    cycle.self = cycle;
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    const found = await roundTrip({ date: new Date(0), map: new Map([[1, { two: 2 }]]), sparse, cycle });
    expect(found.date).to.be.instanceOf(Date);
    expect(found.map).to.be.instanceOf(Map);
    expect(1 in (found.sparse as unknown[])).to.equal(false);
    expect((found.cycle as Fields).self).to.equal(found.cycle);
  });

  it('refuses what structuredClone refuses', async () => {
    let refusal: unknown;
    try {
      await adapter.upsert('copy-function', { call: () => 1 }, 60);
    } catch (error) {
      refusal = error;
    }
    expect((refusal as Error | undefined)?.name).to.equal('DataCloneError');
  });
});
