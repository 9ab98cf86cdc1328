/**
 * What every step of the PSU pages works with: the options, the provider whose interactions they
 * read and end, the sign-in limits, and the payment authorizations they decide.
 */
import type { KeyObject } from 'node:crypto';

import type Provider from 'oidc-provider';

import type { Language } from '../lib/language.js';
import type { Logger } from '../lib/logger.js';
import type { JourneyStep } from '../lib/observability/index.js';
import type { ResolvedOptions } from '../lib/options/index.js';
import type { PaymentRecords } from '../lib/payments/records.js';
import type { LoginLimits } from './login-limits.js';
import type { PageTemplates } from './page-templates.js';

export interface PageServices {
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  readonly provider: Provider;
  /** The bank sign-in's limits; none without a bank environment. */
  readonly limits: LoginLimits | undefined;
  /** Path of the pages: the mount path and the interaction path. */
  readonly base: string;
  /** Origin of the issuer, the only one the pages' forms may be posted from. */
  readonly origin: string;
  /** The first cookie key, prepared once: the form token of a first page derives from it. */
  readonly csrfKey: KeyObject;
  /**
   * The language of a PSU who chose none on the pages, from the authorization's `ui_locales` and
   * the browser's Accept-Language.
   */
  languageOf(uiLocales: string, acceptLanguage: string | undefined): Language;
  /** The pages rendered once per step, language and TPP. */
  readonly templates: PageTemplates;
  /** The payment authorizations opened by the bank's payment API. */
  readonly payments: PaymentRecords;
  /** Whether the bank suspended a TPP organization. */
  isSuspended(organization: string): Promise<boolean>;
  /** Counts a step of the PSU's journey in the server's metrics. */
  recordJourney(step: JourneyStep): void;
}
