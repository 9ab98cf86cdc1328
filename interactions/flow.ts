/**
 * From the interaction oidc-provider opened to the Flow a page works with: the client, where the
 * PSU stands (kept server-side in the interaction), the language, the TPP as shown, the payment
 * of a payment authorization, and the form token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

import type { Request, Response } from 'express';

import type { EnvironmentName } from '../lib/certificates/identity.js';
import type { Language } from '../lib/language.js';
import type { PaymentAtHand } from '../lib/payments/decisions.js';
import { authorizationDetailSchema, type PaymentAuthorizationDetail } from '../lib/payments/details.js';
import {
  clientViewOf,
  findClient,
  interactionEnded,
  interactionOf,
  saveInteractionResult,
  type ClientRecord,
  type InteractionRecord,
} from '../lib/provider/internals.js';
import { noteRequest, servicesOf } from '../lib/observability/index.js';
import type { PsuAccount } from '../lib/psu.js';
import { localizedValue } from '../lib/registration/localized-metadata.js';
import { bankCall, Finished, FormRejected, SessionMismatch } from './page-errors.js';
import { pageContext } from './render-context.js';
import { originOf } from './security-headers.js';
import type { PageServices } from './services.js';
import type { PageContext } from './views/layout.js';
import type { FormTargets, TppView } from './views/pages.js';
import { translator, type Translate } from './i18n.js';

/** Where a PSU is within one authorization, kept server-side in the interaction record. */
export type Progress =
  | { readonly step: 'signin'; readonly csrf: string; readonly language?: Language }
  | {
    readonly step: 'second_factor';
    readonly csrf: string;
    readonly language?: Language;
    readonly psuId: string;
    readonly psuKey: string;
    readonly hint?: string;
    readonly challenge?: string;
  }
  | {
    readonly step: 'consent';
    readonly csrf: string;
    readonly language?: Language;
    readonly psuId: string;
    readonly scaTime: number;
    readonly amr: readonly string[];
  };

/** The progress of a PSU who signed in. */
export type SignedIn = Progress & { readonly step: 'consent' };

/** Field of the interaction's result where the progress is kept until the interaction ends. */
const PROGRESS = 'psd2_progress';

/** Everything one request of the pages works with. */
export interface Flow {
  readonly interaction: InteractionRecord;
  readonly client: ClientRecord;
  readonly environment: EnvironmentName;
  readonly progress: Progress;
  readonly language: Language;
  readonly t: Translate;
  /** The context and form targets of its pages. */
  readonly targets: PageTargets;
  readonly tpp: TppView;
  /** The payment the PSU is asked to confirm, as the payment API registered it. */
  readonly payment: PaymentAtHand | undefined;
  readonly security: { readonly formTargets: string[]; readonly imageOrigins: string[] };
}

/** The client as the interaction recorded it when oidc-provider created it. */
function clientOf(interaction: InteractionRecord): ClientRecord | undefined {
  const view = clientViewOf(interaction);
  if (!view || view.metadata.client_id !== interaction.params.client_id) return undefined;
  const grantTypes = Array.isArray(view.metadata.grant_types) ? view.metadata.grant_types : [];
  return {
    clientId: String(view.metadata.client_id),
    metadata: () => ({ ...view.metadata }),
    grantTypeAllowed: (type) => grantTypes.includes(type),
  };
}

/**
 * The payment of a payment authorization: from the request the payment API pushed, which the
 * interaction keeps server-side; nothing the browser sends takes part.
 */
function paymentOf(interaction: InteractionRecord): PaymentAtHand | undefined {
  const text = interaction.params.authorization_details;
  if (text === undefined) return undefined;
  let details: unknown;
  try {
    details = typeof text === 'string' ? JSON.parse(text) : text;
  } catch {
    details = undefined;
  }
  const parsed = Array.isArray(details) && details.length === 1 ? authorizationDetailSchema.safeParse(details[0]) : undefined;
  if (!parsed?.success || !interaction.parJti) throw new SessionMismatch();
  return { id: interaction.parJti, detail: parsed.data as PaymentAuthorizationDetail };
}

/** The form token of an interaction whose first step is not saved yet. */
function csrfFor(services: PageServices, uid: string): string {
  return createHmac('sha256', services.csrfKey).update(`psd2-pages-csrf:${uid}`).digest('base64url');
}

function sameToken(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The context and form targets of a page of the interaction `uid` (or of the placeholders a page
 * template is rendered with): its language links and the addresses its forms post to.
 */
export class PageTargets {
  readonly #services: PageServices;
  readonly #language: Language;
  readonly #sandbox: boolean;
  readonly #base: string;
  readonly #csrf: string;
  #context: PageContext | undefined;

  constructor(services: PageServices, language: Language, environment: EnvironmentName, uid: string, csrf: string) {
    this.#services = services;
    this.#language = language;
    this.#sandbox = environment === 'sandbox';
    this.#base = `${services.base}/${uid}`;
    this.#csrf = csrf;
  }

  /** Made when a page is drawn for this PSU alone: a post that moves on, and a page from its template, need none. */
  get context(): PageContext {
    return this.#context ??= pageContext(this.#services.options, this.#language, this.#sandbox, (lang) => `${this.#base}?lang=${lang}`);
  }

  /** Where the form of `action` posts, with the form token and the cancel address. */
  forms(action: string): FormTargets {
    return { csrf: this.#csrf, action: `${this.#base}/${action}`, cancel: `${this.#base}/cancel` };
  }
}

/** The flow of the interaction in the URL, which must be the one of the PSU's browser. */
export async function loadFlow(services: PageServices, req: Request, res: Response): Promise<Flow> {
  const interaction = await interactionOf(services.provider, req, res);
  if (interaction.uid !== req.params.uid) throw new SessionMismatch();
  // The services of the authorization, for the PSD2 statistics of this request.
  noteRequest(req, { services: servicesOf({ scope: String(interaction.params.scope ?? '') }) });
  // Decided already (a double click, a reload, the back button): carry on to the TPP.
  if (interactionEnded(interaction)) throw new Finished(interaction.returnTo);
  const client = clientOf(interaction) ?? await findClient(services.provider, String(interaction.params.client_id));
  if (!client) throw new SessionMismatch();
  return flowOf(services, req, interaction, client);
}

/**
 * The flow once `progress` is saved: the interaction at hand holds it, as the record read again
 * would.
 */
export async function saveAndReload(services: PageServices, req: Request, flow: Flow, progress: Progress): Promise<Flow> {
  await saveProgress(flow, progress);
  return flowOf(services, req, flow.interaction, flow.client);
}

/** The flow of the PSU's interaction and its client, read for this request. */
function flowOf(services: PageServices, req: Request, interaction: InteractionRecord, client: ClientRecord): Flow {
  const metadata = client.metadata();
  const environment = metadata.psd2_environment as EnvironmentName;
  // Until the PSU's first step is saved, the form token derives from the interaction and the
  // cookie key (no write for showing the first page); it is saved with the progress then.
  const progress = interaction.result?.[PROGRESS] as Progress | undefined ?? { step: 'signin', csrf: csrfFor(services, interaction.uid) };
  const language = progress.language ?? services.languageOf(String(interaction.params.ui_locales ?? ''), req.headers['accept-language']);
  const logoUri = localizedValue(metadata, 'logo_uri', language);
  const logo = logoUri?.startsWith('https://') ? logoUri : undefined;
  const redirectOrigin = originOf(String(interaction.params.redirect_uri ?? ''));
  const logoOrigin = originOf(logo);
  return {
    payment: paymentOf(interaction),
    interaction,
    client,
    environment,
    progress,
    language,
    t: translator(language),
    targets: new PageTargets(services, language, environment, interaction.uid, progress.csrf),
    tpp: {
      name: localizedValue(metadata, 'client_name', language) ?? client.clientId,
      legalId: typeof metadata.provider_legal_id === 'string' ? metadata.provider_legal_id : undefined,
      logoUri: logo,
    },
    security: {
      formTargets: redirectOrigin ? [redirectOrigin] : [],
      imageOrigins: logoOrigin ? [logoOrigin] : [],
    },
  };
}

/** Loads the flow of a form post, after its CSRF token and origin are checked. */
export async function loadPost(services: PageServices, req: Request, res: Response): Promise<Flow> {
  const flow = await loadFlow(services, req, res);
  const origin = req.get('origin');
  const body = (req.body ?? {}) as Record<string, unknown>;
  if ((origin && origin !== 'null' && origin !== services.origin) || !sameToken(flow.progress.csrf, body.csrf)) {
    throw new FormRejected(flow);
  }
  return flow;
}

/** A form field as text, at most `max` characters. */
export function formText(value: unknown, max: number): string {
  return typeof value === 'string' ? value.slice(0, max) : '';
}

/** The language the PSU chose, carried from step to step. */
export function chosenLanguage(flow: Flow): { language?: Language } {
  return flow.progress.language ? { language: flow.progress.language } : {};
}

/** Saves where the PSU stands, for the rest of the interaction's lifetime. */
export async function saveProgress(flow: Flow, progress: Progress): Promise<void> {
  await saveInteractionResult(flow.interaction, { [PROGRESS]: progress });
}

/** Whether the bank suspended the TPP of this authorization meanwhile. */
export async function tppSuspended(services: PageServices, flow: Flow): Promise<boolean> {
  return flow.tpp.legalId !== undefined && services.isSuspended(flow.tpp.legalId);
}

/** The accounts the PSU may share in this authorization: the test customer's, or the bank's. */
export async function accountsOf(services: PageServices, flow: Flow, psuId: string): Promise<readonly PsuAccount[]> {
  const { options } = services;
  if (flow.environment === 'sandbox') {
    return options.sandbox?.testPsus.find((psu) => psu.id === psuId)?.accounts ?? [];
  }
  const scope = String(flow.interaction.params.scope);
  return bankCall('account lookup', () => options.bank!.accounts.accountsOf(psuId, { scope, clientId: flow.client.clientId, language: flow.language }));
}
