/**
 * The Redis key scheme of RedisStorage, built and read here only. Every key is
 * `<prefix>{<hash tag>}:<name>:<id>`: a record is named by its model (`Client`, `Grant`, …), an
 * index by what it lists (`grant`, `client`, `account`, `organization`, `uid`, `userCode`,
 * `counter`). The hash tag picks the Redis Cluster slot: a grant's tokens share their grant's,
 * so that one script can revoke them together.
 */
import { counterGroup } from '../../lib/storage.js';
import { GRANT_TAG_LENGTH, GRANT_TAG_SEPARATOR } from '../../lib/token-ids.js';

/** Models whose records belong to a grant, found through it by `revokeByGrantId`. */
export const GRANT_BOUND: ReadonlySet<string> = new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest']);

/** The keys of one key prefix. */
export class RedisKeys {
  constructor(
    /** Prefix of every key, e.g. `psd2:`. */
    readonly prefix: string,
  ) {
    if (/[{}]/.test(prefix)) throw new TypeError('keyPrefix must not hold braces: they would change the Redis Cluster hash slot');
  }

  /** The channel on which the instances sharing the prefix announce the records they change. */
  get channel(): string {
    return `${this.prefix}changes`;
  }

  /** The hash tag of a record: a grant's tokens share the grant's tag, anything else has its own. */
  tag(model: string, id: string): string {
    if (model === 'Grant') return grantTag(id);
    if (GRANT_BOUND.has(model) && id.charAt(GRANT_TAG_LENGTH) === GRANT_TAG_SEPARATOR) return grantTag(id);
    return `r:${id}`;
  }

  record(model: string, id: string): string {
    return `${this.prefix}{${this.tag(model, id)}}:${model}:${id}`;
  }

  /** Whether a record of `model` and the index of the grant `grantId` share a hash slot. */
  sharesGrantSlot(model: string, id: string, grantId: string): boolean {
    return this.tag(model, id) === grantTag(grantId);
  }

  /** The beginning of every key in the hash slot of the grant `grantId`. */
  grantSlot(grantId: string): string {
    return `${this.prefix}{${grantTag(grantId)}}:`;
  }

  grantIndex(grantId: string): string {
    return `${this.grantSlot(grantId)}grant:${grantId}`;
  }

  clientIndex(clientId: string): string {
    return `${this.prefix}{c:${clientId}}:client:${clientId}`;
  }

  accountIndex(accountId: string): string {
    return `${this.prefix}{a:${accountId}}:account:${accountId}`;
  }

  organizationIndex(organization: string): string {
    return `${this.prefix}{o:${organization}}:organization:${organization}`;
  }

  /** The key holding the id of the record of `model` whose `uid` or `userCode` is `value`. */
  pointer(kind: 'uid' | 'userCode', model: string, value: string): string {
    return `${this.prefix}{${kind}:${value}}:${kind}:${model}:${value}`;
  }

  /**
   * A counter's key: in a slot of its own, or, for a name beginning with `{group}`, in the group's
   * slot, so that `incrementCountersWithin` can count the group's counters in one script on Redis
   * Cluster too.
   */
  counter(name: string): string {
    const group = counterGroup(name);
    return group === undefined ? `${this.prefix}{n:${name}}:counter:${name}` : `${this.prefix}{g:${group}}:counter:${name}`;
  }
}

function grantTag(grantId: string): string {
  return grantId.slice(0, GRANT_TAG_LENGTH);
}

/** What a key of the scheme names: its hash tag, its model or index name, and the id after it. */
export interface KeyParts {
  readonly tag: string;
  /** A model (`Client`, `AccessToken`, …) for a record, an index name (`client`, `uid`, …) otherwise. */
  readonly name: string;
  readonly id: string;
}

/** The parts of `key`, or undefined for a key outside the scheme. */
export function parseKey(key: string): KeyParts | undefined {
  const open = key.indexOf('{');
  const close = key.indexOf('}:', open);
  if (open < 0 || close < 0) return undefined;
  const rest = key.slice(close + 2);
  const separator = rest.indexOf(':');
  return {
    tag: key.slice(open + 1, close),
    name: separator < 0 ? rest : rest.slice(0, separator),
    id: separator < 0 ? '' : rest.slice(separator + 1),
  };
}

/** Whether `key` is a record of `model` (the one of id `id`, when given). */
export function isRecordOf(key: string, model: string, id?: string): boolean {
  const parts = parseKey(key);
  return parts?.name === model && (id === undefined || parts.id === id);
}

/** What the keys of `model`'s records hold after their hash tag (the grant revocation script looks for it). */
export function modelMarker(model: string): string {
  return `}:${model}:`;
}
