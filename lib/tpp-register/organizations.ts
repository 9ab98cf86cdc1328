/**
 * The organizations checked against the register, kept in the storage so that the sweep finds
 * them on every instance and after a restart. The storage lists no keys: organizations are listed
 * in a few index records updated by read-modify-write; one lost to a concurrent update is listed
 * again at its next check by another instance, or after this one restarts.
 */
import type { Logger } from '../logger.js';
import { recordsOf, type Records, type Storage } from '../storage.js';

export const ORGANIZATIONS_MODEL = 'TppRegisterOrganizations';

/** Index records: few enough to read at each sweep, enough to keep concurrent updates apart. */
const BUCKETS = 16;

type IndexRecord = { readonly organizations: readonly string[] };

function isIndexRecord(stored: unknown): stored is IndexRecord {
  return typeof stored === 'object' && stored !== null && 'organizations' in stored && Array.isArray(stored.organizations)
    && stored.organizations.every((organization) => typeof organization === 'string');
}

function bucketOf(organization: string): string {
  let sum = 0;
  for (const char of organization) sum += char.charCodeAt(0);
  return String(sum % BUCKETS);
}

export class CheckedOrganizations {
  readonly #index: Records<IndexRecord>;
  /** Organizations this instance listed: not written again. */
  readonly #listed = new Set<string>();

  constructor(storage: Storage, private readonly logger: Logger) {
    this.#index = recordsOf(storage, ORGANIZATIONS_MODEL, isIndexRecord);
  }

  /** Lists `organization` in the background, once per instance; a failure is logged and retried at the next check. */
  remember(organization: string): void {
    if (this.#listed.has(organization)) return;
    this.#listed.add(organization);
    this.#update(organization, (list) => (list.includes(organization) ? undefined : [...list, organization])).catch((error: unknown) => {
      this.#listed.delete(organization);
      this.logger.warn({ event: 'tpp_register.index_failed', organization, err: error }, 'organization not listed for the register sweep');
    });
  }

  async forget(organization: string): Promise<void> {
    this.#listed.delete(organization);
    await this.#update(organization, (list) => (list.includes(organization) ? list.filter((item) => item !== organization) : undefined));
  }

  async all(): Promise<string[]> {
    const buckets = await Promise.all(Array.from({ length: BUCKETS }, (_, bucket) => this.#index.find(String(bucket))));
    return buckets.flatMap((record) => record?.organizations ?? []);
  }

  async #update(organization: string, change: (list: readonly string[]) => readonly string[] | undefined): Promise<void> {
    const bucket = bucketOf(organization);
    const changed = change((await this.#index.find(bucket))?.organizations ?? []);
    if (changed) await this.#index.upsert(bucket, { organizations: changed });
  }
}
