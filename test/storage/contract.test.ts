/**
 * The storage contract (lib/storage.ts): one suite run against the in-memory storage with a
 * movable clock, the Redis storage on a single Redis and the Redis storage on a three-master Redis
 * Cluster. Expiry is checked without waiting: by moving the clock of the memory storage, and by
 * reading PTTL/TTL (and the expiry scores of the indexes) through the test's Redis client.
 */
import { randomBytes } from 'node:crypto';

import { expect } from 'chai';
import type { Adapter, AdapterPayload } from 'oidc-provider';

import { MemoryStorage } from '../../adapters/memory.js';
import { RedisStorage } from '../../adapters/redis.js';
import type { Storage } from '../../lib/storage.js';
import { GRANT_TAG_LENGTH, GRANT_TAG_SEPARATOR } from '../../lib/token-ids.js';
import { startRedis, startRedisCluster, type TestRedis } from '../support/redis.js';

/** The Redis commands the tests send themselves, beside the storage. */
interface RawRedis {
  exists(key: string): Promise<number>;
  pTTL(key: string): Promise<number>;
  ttl(key: string): Promise<number>;
  zScore(key: string, member: string): Promise<number | null>;
  zAdd(key: string, member: { score: number; value: string }): Promise<number>;
}

/** The keys RedisStorage writes, derived as adapters/redis.ts does. */
interface RedisKeys {
  record(model: string, id: string): string;
  pointer(kind: 'uid' | 'userCode', model: string, value: string): string;
  account(accountId: string): string;
  counter(name: string): string;
}

interface ClockTime {
  readonly kind: 'clock';
  advance(ms: number): void;
}

interface RedisTime {
  readonly kind: 'redis';
  readonly raw: RawRedis;
  readonly keys: RedisKeys;
}

interface Backend {
  readonly storage: Storage;
  readonly time: ClockTime | RedisTime;
  /** The storage's current time, epoch milliseconds. */
  now(): number;
  /** Whether anything at all is stored for the record (on Redis: its key exists, payload or not). */
  stored(model: string, id: string): Promise<boolean>;
  close(): Promise<void>;
}

const GRANT_BOUND = new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest']);

function redisKeys(prefix: string): RedisKeys {
  const tag = (model: string, id: string) => {
    if (model === 'Grant') return id.slice(0, GRANT_TAG_LENGTH);
    if (GRANT_BOUND.has(model) && id.charAt(GRANT_TAG_LENGTH) === GRANT_TAG_SEPARATOR) return id.slice(0, GRANT_TAG_LENGTH);
    return `r:${id}`;
  };
  return {
    record: (model, id) => `${prefix}{${tag(model, id)}}:${model}:${id}`,
    pointer: (kind, model, value) => `${prefix}{${kind}:${value}}:${kind}:${model}:${value}`,
    account: (accountId) => `${prefix}{a:${accountId}}:account:${accountId}`,
    counter: (name) => {
      const group = /^\{([^{}]+)\}/.exec(name)?.[1];
      return group === undefined ? `${prefix}{n:${name}}:counter:${name}` : `${prefix}{g:${group}}:counter:${name}`;
    },
  };
}

async function memoryBackend(): Promise<Backend> {
  let clock = Date.now();
  const storage = new MemoryStorage({ now: () => clock });
  return {
    storage,
    time: { kind: 'clock', advance: (ms) => { clock += ms; } },
    now: () => clock,
    stored: async (model, id) => (await storage.adapterFor(model).find(id)) !== undefined,
    close: async () => {},
  };
}

function redisBackend(start: () => Promise<TestRedis>): () => Promise<Backend> {
  return async () => {
    const redis = await start();
    const raw = redis.client as unknown as RawRedis;
    const keys = redisKeys(redis.keyPrefix);
    return {
      storage: new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, timeout: 5000 }),
      time: { kind: 'redis', raw, keys },
      now: () => Date.now(),
      stored: async (model, id) => (await raw.exists(keys.record(model, id))) === 1,
      close: () => redis.close(),
    };
  };
}

/** A random id like oidc-provider's (43 base64url characters). */
const random = (bytes = 32) => randomBytes(bytes).toString('base64url');
/** A code or token id of a grant, as lib/token-ids.ts builds it. */
const taggedId = (grantId: string) => `${grantId.slice(0, GRANT_TAG_LENGTH)}${GRANT_TAG_SEPARATOR}${random()}`;

const MODELS = [
  'Client', 'Grant', 'AccessToken', 'RefreshToken', 'AuthorizationCode', 'ClientCredentials', 'Session', 'Interaction',
  'RegistrationAccessToken',
] as const;
type Model = typeof MODELS[number];

/** `a Grant`, `an AccessToken`. */
const article = (model: string) => `${/^[AEIOU]/.test(model) ? 'an' : 'a'} ${model}`;

/** An id for a record of the model (codes and tokens tagged with their grant, as the product does). */
function idFor(model: Model, grantId: string): string {
  if (model === 'Grant') return grantId;
  if (model === 'AccessToken' || model === 'RefreshToken' || model === 'AuthorizationCode') return taggedId(grantId);
  return random();
}

/** The fields a record of the model carries in the product. */
function fieldsOf(model: Model, ids: { clientId: string; grantId: string; accountId: string; organization: string; uid: string }): AdapterPayload {
  switch (model) {
    case 'Client':
      return { client_id: ids.clientId, provider_legal_id: ids.organization, redirect_uris: ['https://tpp.example/cb'] };
    case 'Grant':
      return { kind: 'Grant', clientId: ids.clientId, accountId: ids.accountId, jti: ids.grantId };
    case 'AccessToken':
    case 'RefreshToken':
    case 'AuthorizationCode':
      return { kind: model, clientId: ids.clientId, grantId: ids.grantId, accountId: ids.accountId };
    case 'ClientCredentials':
    case 'RegistrationAccessToken':
      return { kind: model, clientId: ids.clientId };
    case 'Session':
    case 'Interaction':
      return { kind: model, uid: ids.uid, accountId: ids.accountId };
  }
}

/** A payload exercising nesting, arrays (empty ones too), unicode and numbers. */
function richPayload(fields: AdapterPayload): AdapterPayload {
  return {
    ...fields,
    nested: { level1: { level2: { level3: [1, { deep: 'value' }, [[]]] } }, emptyObject: {} },
    list: ['x', 2, true, null, { inner: [] }],
    emptyList: [],
    unicode: 'Grüße – 你好 – مرحبا – 🏦💶 – e\u0301 – "quotes" \\ backslash\nnew line\ttab \u0000 nul',
    loneSurrogate: '\ud800',
    numbers: { int: 42, negative: -7, float: 3.141592653589793, tiny: 1e-7, huge: 1.7976931348623157e308, safe: Number.MAX_SAFE_INTEGER, zero: 0 },
    flags: { yes: true, no: false, nothing: null },
  };
}

function contract(name: string, makeBackend: () => Promise<Backend>): void {
  describe(`storage contract: ${name}`, function storageContract() {
    this.timeout(10_000);
    let backend: Backend;
    let storage: Storage;

    before(async function setup() {
      this.timeout(30_000);
      backend = await makeBackend();
      storage = backend.storage;
    });
    after(async () => {
      await backend?.close();
    });

    const adapter = (model: string): Adapter => storage.adapterFor(model);
    const find = (model: string, id: string) => adapter(model).find(id);
    const fresh = () => ({
      clientId: `client-${random(9)}`, grantId: random(), accountId: `psu-${random(9)}`, organization: `PSDFR-NCA-${random(6)}`, uid: random(16),
    });

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
          const index = time.keys.account(accountId);
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
}

contract('MemoryStorage', memoryBackend);
contract('RedisStorage on a single Redis', redisBackend(startRedis));
contract('RedisStorage on a three-master Redis Cluster', redisBackend(startRedisCluster));
