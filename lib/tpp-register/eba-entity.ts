/**
 * One entity of the EBA PSD2 register's JSON golden copy, read into a {@link TppLicence}. The
 * data specification lets a property value be a string or a list of strings, and a country's
 * services a code or a list of codes; anything else is skipped rather than trusted.
 */
import { isoCountry } from './nca-ids.js';
import type { JsonObject } from './stream-json.js';
import type { TppLicence } from './types.js';

/** Entity types that can be a TPP: payment and e-money institutions, AISPs, and their exempted kinds. */
export const TPP_ENTITY_TYPES: ReadonlySet<string> = new Set(['PSD_PI', 'PSD_EMI', 'PSD_AISP', 'PSD_EPI', 'PSD_EEMI']);

/**
 * A date of `ENT_AUT`: ISO 8601, a calendar date or a date and time (`2019-03-01`,
 * `2019-03-01T00:00:00Z`, `2019-03-01 00:00:00.000+01:00`), as the register's exports write them.
 */
const DATE = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?:[T ]([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)?)?$/;
const COUNTRY = /^[A-Z]{2}$/;

/**
 * `ENT_AUT` read by position (1st, 3rd, … authorisations; 2nd, 4th, … withdrawals): the days, or
 * why the list cannot be read. One value that is no date, or dates out of order, make the whole
 * list unreadable: dropping a value would shift every later one from authorisation to withdrawal.
 */
function authorisationDatesOf(value: unknown): { readonly dates: string[] } | { readonly unreadable: string } {
  const values = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const dates: string[] = [];
  for (const [position, item] of values.entries()) {
    const day = typeof item === 'string' ? DATE.exec(item.trim())?.slice(1, 4).join('-') : undefined;
    if (!day) return { unreadable: `ENT_AUT value ${position + 1} is not a date: ${JSON.stringify(item)?.slice(0, 40)}` };
    if (day < (dates.at(-1) ?? '')) return { unreadable: `ENT_AUT dates are out of order at value ${position + 1}` };
    dates.push(day);
  }
  return { dates };
}

/** A licence of the register, with what it is found by. */
export interface EbaListing {
  /** The authority's `CA_OwnerID` (`FR_ACPR`). */
  readonly ownerId: string;
  /** The authorisation numbers it is found by: its national reference code, and its `EntityCode`'s last part. */
  readonly numbers: readonly string[];
  readonly licence: TppLicence;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `Properties`: a list of single-key objects (`[{"ENT_NAM": "…"}, {"ENT_AUT": ["…"]}]`). */
function propertiesOf(value: unknown): { readonly strings: Map<string, string[]>; readonly raw: Map<string, unknown> } {
  const properties = new Map<string, string[]>();
  const raw = new Map<string, unknown>();
  for (const item of Array.isArray(value) ? value : []) {
    if (!isObject(item)) continue;
    for (const [key, entry] of Object.entries(item)) {
      properties.set(key, [...(properties.get(key) ?? []), ...strings(entry)]);
      // A property given twice is read as one list, in the order given.
      raw.set(key, raw.has(key) ? [raw.get(key), entry].flat() : entry);
    }
  }
  return { strings: properties, raw };
}

/** `Services`: a list of single-key objects from host country to service codes (`[{"FR": ["PS_070"]}]`). */
function servicesOf(value: unknown): Map<string, Set<string>> {
  const services = new Map<string, Set<string>>();
  for (const item of Array.isArray(value) ? value : [value]) {
    if (!isObject(item)) continue;
    for (const [country, codes] of Object.entries(item)) {
      const code = isoCountry(country);
      if (!COUNTRY.test(code)) continue;
      const set = services.get(code) ?? new Set<string>();
      for (const service of strings(codes)) set.add(service.trim().toUpperCase());
      services.set(code, set);
    }
  }
  return services;
}

/** The listing of a TPP entity, or undefined for entities that are no TPP (agents, branches, …) or lack an id. */
export function ebaListingOf(entity: JsonObject): EbaListing | undefined {
  const { CA_OwnerID: ownerId, EntityCode: entityCode, EntityType: entityType } = entity;
  if (typeof ownerId !== 'string' || typeof entityCode !== 'string' || typeof entityType !== 'string') return undefined;
  if (!TPP_ENTITY_TYPES.has(entityType)) return undefined;
  const { strings: properties, raw } = propertiesOf(entity.Properties);
  const reference = properties.get('ENT_NAT_REF_COD')?.[0];
  const codeTail = entityCode.split('!').at(-1);
  const numbers = [...new Set([reference, codeTail].filter((number): number is string => Boolean(number?.trim())))];
  if (!numbers.length) return undefined;
  const names = properties.get('ENT_NAM') ?? [];
  const authorisation = authorisationDatesOf(raw.get('ENT_AUT'));
  return {
    ownerId: ownerId.toUpperCase(),
    numbers,
    licence: {
      entityCode,
      entityType,
      // Names come in the national script first, then in Latin letters when they differ.
      ...(names.length ? { name: names.at(-1) } : {}),
      authorisationDates: 'dates' in authorisation ? authorisation.dates : [],
      ...('unreadable' in authorisation ? { unreadable: authorisation.unreadable } : {}),
      homeCountry: isoCountry(ownerId.slice(0, 2)),
      services: servicesOf(entity.Services),
    },
  };
}
