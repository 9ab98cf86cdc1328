/** oidc-provider's adapter of one model on RedisStorage's records. */
import type { RecordAdapter as Adapter } from '../../lib/storage.js';

import { consumeFailure } from '../records.js';
import type { RedisCalls } from './calls.js';
import { modelMarker } from './keys.js';
import type { RedisRecords } from './records.js';
import { revokeListed } from './scripts.js';

/**
 * Writes a batch sends without waiting: those of an authorization and a code exchange, which
 * nothing in the request compensates for or reports before the answer. Others (clients,
 * registration tokens, payment outcomes, revocations) are awaited in a batch too.
 */
const PIPELINED = { upsert: new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Session', 'Interaction', 'Grant']), destroy: new Set(['Session', 'Interaction']) };

export function redisAdapter(model: string, records: RedisRecords, calls: RedisCalls): Adapter {
  const { keys, redis } = records;
  const find = (id: string) => calls.call('find', () => records.find(model, keys.record(model, id)));
  const findBy = (kind: 'uid' | 'userCode') => (value: string) => calls.call(kind === 'uid' ? 'findByUid' : 'findByUserCode', async () => {
    const id = await redis.get(keys.pointer(kind, model, value));
    return id ? records.find(model, keys.record(model, id)) : undefined;
  });

  return {
    upsert: (id, payload, expiresIn) => calls.write('upsert', PIPELINED.upsert.has(model), () => records.write(model, id, payload, expiresIn)),
    find,
    findByUid: findBy('uid'),
    findByUserCode: findBy('userCode'),
    consume: (id) => calls.call('consume', async () => {
      const outcome = await records.consume(model, id);
      // Two requests redeeming one code or rotated refresh token: only the first one wins, and a
      // record revoked or expired meanwhile is not redeemed either.
      if (outcome !== 1) throw consumeFailure(model, outcome === 0 ? `${model} already consumed` : `${model} no longer exists`);
    }),
    destroy: (id) => calls.write('destroy', PIPELINED.destroy.has(model), () => records.destroy(model, id)),
    revokeByGrantId: (grantId) => calls.call('revokeByGrantId', async () => {
      const foreign = await revokeListed(redis, keys.grantIndex(grantId), modelMarker(model), keys.grantSlot(grantId));
      for (const key of foreign) await redis.del(key);
    }),
  };
}
