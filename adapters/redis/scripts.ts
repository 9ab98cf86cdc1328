/**
 * The Lua scripts of RedisStorage: each runs on Redis in one step, no other command in between,
 * and touches keys of one hash slot only (Redis Cluster runs a script on one node).
 */
import type { RedisCommands } from './client.js';

/** Marks a record consumed, once: 1 when this call consumed it, 0 when it already was, -1 when it is gone. */
const CONSUME = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], 'c', ARGV[1])`;

/**
 * Deletes the records of one model listed in a grant's index, in one step. The index and the
 * records share a hash slot (token ids carry their grant's tag); members of another slot are
 * returned for the caller to delete one by one.
 */
const REVOKE_GRANT = `
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local foreign = {}
for _, key in ipairs(members) do
  if string.find(key, ARGV[1], 1, true) then
    if string.sub(key, 1, string.len(ARGV[2])) == ARGV[2] then
      redis.call('DEL', key)
    else
      table.insert(foreign, key)
    end
    redis.call('ZREM', KEYS[1], key)
  end
end
return foreign`;

/**
 * Counts one attempt against every counter in KEYS when each is below its limit, else touches
 * none: 1 when counted. ARGV holds each counter's limit and window (seconds), in turn. Checked in
 * the order given, all within one script: no other command runs in between.
 */
const COUNT_WITHIN = `
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[2 * i - 1]) then return 0 end
end
for i = 1, #KEYS do
  redis.call('INCR', KEYS[i])
  redis.call('EXPIRE', KEYS[i], ARGV[2 * i], 'NX')
end
return 1`;

/** Consumes the record at `key` at `consumedAt` (epoch seconds): 1 consumed now, 0 already consumed, -1 gone. */
export async function consume(redis: RedisCommands, key: string, consumedAt: number): Promise<number> {
  return Number(await redis.eval(CONSUME, { keys: [key], arguments: [String(consumedAt)] }));
}

/**
 * Deletes the records listed in the grant index `index` whose key holds `marker` and begins with
 * `slot` (the index's own hash slot), and drops every record holding `marker` from the index; the
 * keys of other slots, left to delete, are returned.
 */
export async function revokeListed(redis: RedisCommands, index: string, marker: string, slot: string): Promise<string[]> {
  const foreign = await redis.eval(REVOKE_GRANT, { keys: [index], arguments: [marker, slot] });
  return Array.isArray(foreign) ? foreign.filter((key): key is string => typeof key === 'string') : [];
}

/** Counts one attempt against each counter at `keys` when each is below its limit; true when counted. */
export async function countWithin(redis: RedisCommands, keys: string[], limits: readonly { readonly limit: number; readonly windowSeconds: number }[]): Promise<boolean> {
  const counted = await redis.eval(COUNT_WITHIN, { keys, arguments: limits.flatMap(({ limit, windowSeconds }) => [String(limit), String(windowSeconds)]) });
  return Number(counted) === 1;
}
