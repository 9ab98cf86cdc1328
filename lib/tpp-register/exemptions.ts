/**
 * The organizations the bank vouches for against the register: those of the `exemptions` option,
 * for good; those it exempts at run time (`tppRegister.exempt`), for good; and those it reinstates
 * through management, for as long as the register's entry of the organization stays what it was
 * at the reinstatement (a new withdrawal, a new authorisation, new services: the register decides
 * again). Looked up in memory; the stored list is read again every minute, at each load and at
 * each sweep, so other instances follow within a minute.
 */
import { createHash } from 'node:crypto';

import type { Logger } from '../logger.js';
import { recordsOf, type Records, type Storage } from '../storage.js';
import type { TppLicence } from './types.js';

export const EXEMPTIONS_MODEL = 'TppRegisterExemptions';

/** The fingerprint of an exemption that holds whatever the register says. */
export const ALWAYS = '*';

/** Seconds between two reads of the stored list. */
const REFRESH_SECONDS = 60;

type Exemption = { readonly organization: string; readonly entry: string };
type ExemptionList = { readonly exemptions: readonly Exemption[] };

function isExemptionList(stored: unknown): stored is ExemptionList {
  return typeof stored === 'object' && stored !== null && 'exemptions' in stored && Array.isArray(stored.exemptions)
    && stored.exemptions.every((item: unknown) => typeof item === 'object' && item !== null && 'organization' in item && 'entry' in item
      && typeof item.organization === 'string' && typeof item.entry === 'string');
}

/** What the register's entry of an organization says, as a short digest (`absent` when not listed). */
export function entryFingerprint(licence: TppLicence | undefined): string {
  if (!licence) return 'absent';
  const services = [...licence.services].map(([country, codes]) => [country, [...codes].sort()] as const).sort(([a], [b]) => a.localeCompare(b));
  const text = JSON.stringify([licence.entityCode, licence.authorisationDates, services, licence.unreadable ?? null]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export class RegisterExemptions {
  readonly #configured: ReadonlySet<string>;
  readonly #list: Records<ExemptionList>;
  #stored = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(storage: Storage, configured: readonly string[], private readonly logger: Logger) {
    this.#configured = new Set(configured);
    this.#list = recordsOf(storage, EXEMPTIONS_MODEL, isExemptionList);
  }

  /** Whether the bank vouches for `organization`, whose entry in the register now has `fingerprint`. */
  exempts(organization: string, fingerprint: string): boolean {
    if (this.#configured.has(organization)) return true;
    const entry = this.#stored.get(organization);
    return entry === ALWAYS || entry === fingerprint;
  }

  /** Reads the stored list now, then every minute. */
  start(): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), REFRESH_SECONDS * 1000);
    this.#timer.unref();
  }

  /** Reads the stored list again; a failure is logged and the list in memory stays. */
  async refresh(): Promise<void> {
    try {
      const list = await this.#list.find('all');
      this.#stored = new Map((list?.exemptions ?? []).map((item) => [item.organization, item.entry]));
    } catch (error) {
      this.logger.warn({ event: 'tpp_register.exemptions_unread', err: error }, 'register exemptions not read: the list in memory stays');
    }
  }

  /** Exempts `organization` while its entry keeps `fingerprint` ({@link ALWAYS}: for good). */
  async exempt(organization: string, fingerprint: string): Promise<void> {
    const list = (await this.#list.find('all'))?.exemptions ?? [];
    const exemptions = [...list.filter((item) => item.organization !== organization), { organization, entry: fingerprint }];
    await this.#list.upsert('all', { exemptions });
    this.#stored = new Map(exemptions.map((item) => [item.organization, item.entry]));
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
