/**
 * The EBA register in memory: TPP listings indexed by authority and authorisation number, the
 * way a QWAC's organizationIdentifier names them.
 */
import { ebaListingOf } from './eba-entity.js';
import { ebaOwnerIdOf, normaliseNumber } from './nca-ids.js';
import type { JsonObject } from './stream-json.js';
import type { LicenceKey, TppLicence, TppRegisterSnapshot } from './types.js';

const keyOf = (ownerId: string, number: string) => `${ownerId}|${normaliseNumber(number)}`;

/** Which of two listings under one key stands: the one in force, else the latest change. */
function prevailing(a: TppLicence, b: TppLicence): TppLicence {
  const inForce = (licence: TppLicence) => licence.authorisationDates.length % 2 === 1;
  if (inForce(a) !== inForce(b)) return inForce(a) ? a : b;
  return (a.authorisationDates.at(-1) ?? '') >= (b.authorisationDates.at(-1) ?? '') ? a : b;
}

export class EbaSnapshot implements TppRegisterSnapshot {
  readonly #listings = new Map<string, TppLicence>();
  #digest: string | undefined;
  #entities = 0;

  constructor(private readonly ncaOwnerIds: Readonly<Record<string, string>> = {}) {}

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
    for (const number of listing.numbers) {
      const key = keyOf(listing.ownerId, number);
      const known = this.#listings.get(key);
      this.#listings.set(key, known ? prevailing(known, listing.licence) : listing.licence);
    }
  }

  /** Seals the snapshot with the digest of the file it was read from. */
  seal(digest: string | undefined): this {
    this.#digest = digest;
    return this;
  }

  find(key: LicenceKey): TppLicence | undefined {
    return this.#listings.get(keyOf(ebaOwnerIdOf(key.ncaId, this.ncaOwnerIds), key.number));
  }
}
