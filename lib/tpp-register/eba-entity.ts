/**
 * One entity of the EBA PSD2 register's JSON golden copy, read into a {@link TppLicence}. The
 * data specification lets a property value be a string or a list of strings, and a country's
 * services a code or a list of codes; anything else is skipped rather than trusted.
 */
import type { JsonObject } from './stream-json.js';
import type { TppLicence } from './types.js';

/** Entity types that can be a TPP: payment and e-money institutions, AISPs, and their exempted kinds. */
export const TPP_ENTITY_TYPES: ReadonlySet<string> = new Set(['PSD_PI', 'PSD_EMI', 'PSD_AISP', 'PSD_EPI', 'PSD_EEMI']);

const DATE = /^\d{4}-\d{2}-\d{2}/;
const COUNTRY = /^[A-Z]{2}$/;

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
function propertiesOf(value: unknown): Map<string, string[]> {
  const properties = new Map<string, string[]>();
  for (const item of Array.isArray(value) ? value : []) {
    if (!isObject(item)) continue;
    for (const [key, entry] of Object.entries(item)) properties.set(key, [...(properties.get(key) ?? []), ...strings(entry)]);
  }
  return properties;
}

/** `Services`: a list of single-key objects from host country to service codes (`[{"FR": ["PS_070"]}]`). */
function servicesOf(value: unknown): Map<string, Set<string>> {
  const services = new Map<string, Set<string>>();
  for (const item of Array.isArray(value) ? value : [value]) {
    if (!isObject(item)) continue;
    for (const [country, codes] of Object.entries(item)) {
      const code = country.trim().toUpperCase();
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
  const properties = propertiesOf(entity.Properties);
  const reference = properties.get('ENT_NAT_REF_COD')?.[0];
  const codeTail = entityCode.split('!').at(-1);
  const numbers = [...new Set([reference, codeTail].filter((number): number is string => Boolean(number?.trim())))];
  if (!numbers.length) return undefined;
  const names = properties.get('ENT_NAM') ?? [];
  return {
    ownerId: ownerId.toUpperCase(),
    numbers,
    licence: {
      entityCode,
      entityType,
      // Names come in the national script first, then in Latin letters when they differ.
      ...(names.length ? { name: names.at(-1) } : {}),
      authorisationDates: (properties.get('ENT_AUT') ?? []).filter((date) => DATE.test(date)).map((date) => date.slice(0, 10)).sort(),
      services: servicesOf(entity.Services),
    },
  };
}
