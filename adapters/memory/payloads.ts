/**
 * How MemoryStorage keeps a payload. JSON data is kept as JSON would carry it (a field set to
 * `undefined` left out, an `undefined` array item null), as the Redis storage keeps it, and as a
 * tree of its own, copied at every read without checking it again. Not as JSON text: a JSON.parse
 * at each read cost about three times a copy of the tree (for the clients and grants alone, some
 * 80 µs more per authorization-code flow in a profile), and the text took only a sixth less heap
 * than the tree, with no measurable saving in garbage collection. Anything else (dates, maps,
 * cycles, NaN…) is kept as a structuredClone copy, copied again on every read.
 */
import type { RecordPayload as AdapterPayload } from '../../lib/storage.js';

/** Nesting beyond which a payload is left to structuredClone (which also copies cycles). */
const MAX_JSON_DEPTH = 64;
const NOT_JSON = Symbol('not JSON data');

/** A kept payload, and whether it is JSON data (else a structuredClone copy). */
export interface KeptPayload {
  readonly payload: AdapterPayload;
  readonly json: boolean;
}

/** Gives `copy` an own `__proto__` field (JSON.parse makes one), as a field, not its prototype. */
function setProtoField(copy: Record<string, unknown>, value: unknown): void {
  Object.defineProperty(copy, '__proto__', { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A deep copy of `value` as JSON carries it, when it is JSON data (plain objects, arrays without
 * holes, strings, booleans, null, finite numbers, `undefined`), or NOT_JSON.
 */
function jsonCopy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : NOT_JSON;
    case 'object':
      break;
    default:
      return NOT_JSON;
  }
  if (value === null) return null;
  if (depth > MAX_JSON_DEPTH) return NOT_JSON;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype === Array.prototype && Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      const copied = item === undefined ? (i in value ? null : NOT_JSON) : jsonCopy(item, depth + 1);
      if (copied === NOT_JSON) return NOT_JSON;
      copy[i] = copied;
    }
    return copy;
  }
  if (prototype !== Object.prototype && prototype !== null) return NOT_JSON;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copied = jsonCopy((value as Record<string, unknown>)[key], depth + 1);
    if (copied === NOT_JSON) return NOT_JSON;
    if (copied === undefined) continue;
    if (key === '__proto__') setProtoField(copy, copied);
    else copy[key] = copied;
  }
  return copy;
}

/**
 * A deep copy of a tree jsonCopy made: checked once, when it was written, and not again. Each object
 * is copied by spreading it, which gives the copy the hidden class of the original in one step
 * (setting its fields one by one made a new one for each, and cost a third more in a
 * micro-benchmark of the flow's records); only fields holding objects are then set again.
 */
function copyTree(value: object): object {
  if (Array.isArray(value)) {
    const copy: unknown[] = value.slice();
    for (let i = 0; i < copy.length; i += 1) {
      const item = copy[i];
      if (typeof item === 'object' && item !== null) copy[i] = copyTree(item);
    }
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  // for…in, not Object.keys: no array to make, and the spread copy's hidden class keeps its keys.
  for (const key in copy) {
    const item = copy[key];
    if (typeof item !== 'object' || item === null || !Object.hasOwn(copy, key)) continue;
    if (key === '__proto__') setProtoField(copy, copyTree(item));
    else copy[key] = copyTree(item);
  }
  return copy;
}

/**
 * What the storage keeps of `payload`: nothing of it is shared with the caller, who may change it
 * afterwards. Anything structuredClone refuses (functions, symbols) is refused, as it always was.
 */
export function keep(payload: AdapterPayload): KeptPayload {
  const copied = jsonCopy(payload, 0);
  return copied === NOT_JSON ? { payload: structuredClone(payload), json: false } : { payload: copied as AdapterPayload, json: true };
}

/** A fresh copy of a kept payload for a reader, which shares no object with what is kept. */
export function copyOut(kept: KeptPayload): AdapterPayload {
  return kept.json ? copyTree(kept.payload) as AdapterPayload : structuredClone(kept.payload);
}
