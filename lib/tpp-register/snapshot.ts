/**
 * The EBA register in memory: TPP listings indexed by authority and authorisation number, the
 * way a QWAC's organizationIdentifier names them.
 */
import { ebaListingOf } from './eba-entity.js';
import { ebaOwnerIdsOf, normaliseNumber, normaliseOwnerIds, unmappedAuthorities } from './nca-ids.js';
import type { JsonObject } from './stream-json.js';
import type { LicenceKey, RegisterNotice, TppLicence, TppRegisterSnapshot } from './types.js';

const keyOf = (ownerId: string, number: string) => `${ownerId}|${normaliseNumber(number)}`;

/** Which of two listings under one key stands: the one in force, else the latest change. */
function prevailing(a: TppLicence, b: TppLicence): TppLicence {
  const inForce = (licence: TppLicence) => licence.authorisationDates.length % 2 === 1;
  if (inForce(a) !== inForce(b)) return inForce(a) ? a : b;
  return (a.authorisationDates.at(-1) ?? '') >= (b.authorisationDates.at(-1) ?? '') ? a : b;
}

export class EbaSnapshot implements TppRegisterSnapshot {
  readonly #listings = new Map<string, TppLicence>();
  readonly #ownerIds = new Set<string>();
  readonly #ncaOwnerIds: Readonly<Record<string, string>>;
  #digest: string | undefined;
  #verified = false;
  #entities = 0;
  #unreadable = 0;
  #notices: readonly RegisterNotice[] = [];
  #kept: { keep(): Promise<void>; discard(): Promise<void> } | undefined;

  constructor(ncaOwnerIds: Readonly<Record<string, string>> = {}) {
    this.#ncaOwnerIds = normaliseOwnerIds(ncaOwnerIds);
  }

  /** The `CA_OwnerID`s of the TPP entities read. */
  get ownerIds(): ReadonlySet<string> {
    return this.#ownerIds;
  }

  /** TPP entities whose entry cannot be read (taken as not listed). */
  get unreadable(): number {
    return this.#unreadable;
  }

  get ncaOwnerIds(): Readonly<Record<string, string>> {
    return this.#ncaOwnerIds;
  }

  get size(): number {
    return this.#entities;
  }

  get digest(): string | undefined {
    return this.#digest;
  }

  /** Adds one entity of the file (skipped when it is no TPP). */
  add(entity: JsonObject): void {
    const listing = ebaListingOf(entity);
    if (!listing) return;
    this.#entities += 1;
    this.#ownerIds.add(listing.ownerId);
    if (listing.licence.unreadable) this.#unreadable += 1;
    for (const number of listing.numbers) {
      const key = keyOf(listing.ownerId, number);
      const known = this.#listings.get(key);
      this.#listings.set(key, known ? prevailing(known, listing.licence) : listing.licence);
    }
  }

  get verified(): boolean {
    return this.#verified;
  }

  /** Seals the snapshot with the digest of the file it was read from. */
  seal(digest: string | undefined): this {
    this.#digest = digest;
    return this;
  }

  /** Marks the digest as checked against the one published with the file. */
  verify(): this {
    this.#verified = true;
    return this;
  }

  /** Adds what the audit trail should know of the source. */
  withNotices(notices: readonly RegisterNotice[]): this {
    this.#notices = [...this.#notices, ...notices];
    return this;
  }

  /** How the file it was read from is kept, or dropped, once the server decided. */
  keptBy(kept: { keep(): Promise<void>; discard(): Promise<void> }): this {
    this.#kept = kept;
    return this;
  }

  async keep(): Promise<void> {
    await this.#kept?.keep();
  }

  async discard(): Promise<void> {
    await this.#kept?.discard();
  }

  /** The source's notices, then entries that cannot be read, and authorities the id table finds nothing under. */
  get notices(): readonly RegisterNotice[] {
    const notices = [...this.#notices];
    if (this.#unreadable) {
      notices.push({ event: 'tpp_register.unreadable_entries', message: 'register entries that cannot be read are taken as not listed', fields: { entities: this.#unreadable } });
    }
    const unmapped = unmappedAuthorities(this.#ownerIds, this.#ncaOwnerIds);
    if (Object.keys(unmapped).length) {
      notices.push({
        event: 'tpp_register.unmapped_authority',
        message: 'no TPP of the register is filed under these authorities\' CA_OwnerIDs: a certificate naming them finds nothing (check ncaOwnerIds)',
        fields: { authorities: Object.entries(unmapped).map(([nca, owners]) => `${nca}→${owners.join('|')}`) },
      });
    }
    return notices;
  }

  find(key: LicenceKey): TppLicence | undefined {
    for (const ownerId of ebaOwnerIdsOf(key.ncaId, this.#ncaOwnerIds)) {
      const found = this.#listings.get(keyOf(ownerId, key.number));
      if (found) return found;
    }
    return undefined;
  }
}
