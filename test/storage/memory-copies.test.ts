/**
 * MemoryStorage's copies of payloads: JSON data kept as JSON carries it, anything else as
 * structuredClone copies it; never shared with the caller, nor between two readers.
 */
import { inspect, isDeepStrictEqual } from 'node:util';

import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';

type Fields = Record<string, unknown>;

/** Seconds every record of these tests lives. */
const expiresIn = 60;

/** Every object and array reachable from `value`. */
function objectsOf(value: unknown, found: object[] = []): object[] {
  if (typeof value !== 'object' || value === null) return found;
  found.push(value);
  for (const item of Object.values(value)) objectsOf(item, found);
  return found;
}

describe('MemoryStorage copies', () => {
  const adapter = new MemoryStorage().adapterFor('Interaction');

  async function roundTrip(payload: Fields, expected: Fields = structuredClone(payload)): Promise<Fields> {
    const id = `copy-${Math.random()}`;
    await adapter.upsert(id, payload, expiresIn);
    const found = (await adapter.find(id)) as Fields;
    expect(found).not.to.equal(payload);
    expect(isDeepStrictEqual(found, expected), `found: ${inspect(found)}`).to.equal(true);
    return found;
  }

  it('copies JSON data at every depth, an own __proto__ field staying a field', async () => {
    const payload = JSON.parse('{"__proto__": {"polluted": true}, "a": [1, {"b": null}, []], "n": {"x": "y"}}') as Fields;
    const found = await roundTrip(payload);
    expect(Object.getPrototypeOf(found)).to.equal(Object.prototype);
    expect(Object.keys(found)).to.deep.equal(['__proto__', 'a', 'n']);
    expect(({} as Fields).polluted).to.equal(undefined);
    const protoField = (fields: Fields) => Object.getOwnPropertyDescriptor(fields, '__proto__')?.value as unknown;
    expect(protoField(found)).to.deep.equal({ polluted: true });
    expect(protoField(found)).not.to.equal(protoField(payload));
    expect(found.a).not.to.equal(payload.a);
    expect((found.a as unknown[])[1]).not.to.equal((payload.a as unknown[])[1]);
  });

  it('gives every reader objects of its own, none shared with another reader or the writer', async () => {
    const payload = { uid: `uid-${Math.random()}`, nested: { list: [{ deep: [1] }], empty: {} }, n: 1 };
    await adapter.upsert('shared', payload, expiresIn);
    const reads = [await adapter.find('shared'), await adapter.find('shared'), await adapter.findByUid(payload.uid)];
    const objects = [payload, ...reads].map((read) => objectsOf(read));
    expect(objects.map((list) => list.length)).to.deep.equal([6, 6, 6, 6]);
    expect(new Set(objects.flat()).size, 'no object reached from two of them').to.equal(4 * 6);
    ((reads[0]!.nested as Fields).list as Fields[])[0]!.deep = 'changed';
    expect(await adapter.find('shared')).to.deep.equal(payload);
  });

  it('leaves out fields set to undefined and makes undefined array items null, as JSON (and the Redis storage) does', async () => {
    const found = await roundTrip(
      { missing: undefined, list: [undefined, 1], inner: { gone: undefined, kept: 0 }, bare: Object.assign(Object.create(null) as Fields, { k: 1 }) },
      { list: [null, 1], inner: { kept: 0 }, bare: { k: 1 } },
    );
    expect(found).not.to.have.property('missing');
    expect(Object.getPrototypeOf(found.bare)).to.equal(Object.prototype);
  });

  it('copies what JSON does not carry as structuredClone does: dates, maps, sparse arrays, cycles, non-finite numbers', async () => {
    const cycle: Fields = { name: 'loop' };
    cycle.self = cycle;
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    const found = await roundTrip({ date: new Date(0), map: new Map([[1, { two: 2 }]]), sparse, cycle, nan: Number.NaN, big: 1n });
    expect(found.date).to.be.instanceOf(Date);
    expect(found.map).to.be.instanceOf(Map);
    expect(1 in (found.sparse as unknown[])).to.equal(false);
    expect((found.cycle as Fields).self).to.equal(found.cycle);
    expect(Number.isNaN(found.nan)).to.equal(true);
  });

  it('refuses what structuredClone refuses, and keeps the record written before', async () => {
    await adapter.upsert('copy-function', { n: 1 }, expiresIn);
    let refusal: unknown;
    try {
      await adapter.upsert('copy-function', { call: () => 1 }, expiresIn);
    } catch (error) {
      refusal = error;
    }
    expect((refusal as Error | undefined)?.name).to.equal('DataCloneError');
    expect(await adapter.find('copy-function')).to.deep.equal({ n: 1 });
  });

  it('marks a record consumed once, in every copy read afterwards, and refuses a second consume', async () => {
    const consumable = new MemoryStorage({ now: () => 1_700_000_000_500 }).adapterFor('AuthorizationCode');
    for (const [id, payload] of [['json', { grantId: 'g', list: [1] }], ['cloned', { grantId: 'g', at: new Date(0) }]] as const) {
      await consumable.upsert(id, payload, expiresIn);
      await consumable.consume(id);
      const found = (await consumable.find(id)) as Fields;
      expect(found.consumed, id).to.equal(1_700_000_000);
      found.consumed = undefined;
      expect(((await consumable.find(id)) as Fields).consumed, id).to.equal(1_700_000_000);
      let refusal: unknown;
      try {
        await consumable.consume(id);
      } catch (error) {
        refusal = error;
      }
      expect((refusal as { error?: unknown } | undefined)?.error, id).to.equal('invalid_grant');
    }
    await consumable.upsert('written-consumed', { consumed: 1 }, expiresIn);
    let refusal: unknown;
    try {
      await consumable.consume('written-consumed');
    } catch (error) {
      refusal = error;
    }
    expect((refusal as { error?: unknown } | undefined)?.error, 'a record written consumed').to.equal('invalid_grant');
    expect(await consumable.find('written-consumed')).to.deep.equal({ consumed: 1 });
  });
});
