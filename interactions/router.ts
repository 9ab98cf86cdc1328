import { createHmac, timingSafeEqual } from 'node:crypto';

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type Provider from 'oidc-provider';
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';

import type { Storage } from '../lib/storage.js';
import type { EnvironmentName } from '../lib/certificates/identity.js';
import { acceptLanguageTags, pickLanguage, type Language } from '../lib/language.js';
import type { Logger } from '../lib/logger.js';
import type { ResolvedOptions } from '../lib/options/index.js';
import { authorizationDetailSchema, type PaymentAuthorizationDetail } from '../lib/payments/details.js';
import type { PaymentAuthorizations } from '../lib/payments/service.js';
import type { ConsentRecord } from '../lib/psd2/authorization.js';
import { CLIENT_VIEW_FIELD, CONSENT_FIELD, type ClientView, type EntryPage } from '../lib/provider.js';
import type { PsuAccount } from '../lib/psu.js';
import { localizedValue } from '../lib/registration/localized-metadata.js';
import { StorageUnavailableError } from '../lib/errors.js';
import { INTERACTION_PATH } from '../lib/routes.js';
import type { Html } from './html.js';
import { translator, type Translate } from './i18n.js';
import { LoginLimits } from './login-limits.js';
import { originOf, pageSecurityHeaders } from './security-headers.js';
import { stylesOf, type PageContext } from './views/layout.js';
import {
  bankSignInPage,
  consentPage,
  paymentPage,
  errorPage,
  lockedPage,
  sandboxSignInPage,
  secondFactorPage,
  type FormTargets,
  type TppView,
} from './views/pages.js';

/** Where a PSU is within one authorization, kept server-side in the interaction record. */
type Progress =
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

const PROGRESS = 'psd2_progress';

/** The parts of oidc-provider's interaction record the pages use. */
interface InteractionRecord {
  uid: string;
  exp: number;
  returnTo: string;
  params: Record<string, unknown>;
  result?: Record<string, unknown>;
  [CLIENT_VIEW_FIELD]?: ClientView;
  /** The pushed request of a payment authorization: its id. */
  parJti?: string;
  save(ttl: number): Promise<string>;
}

interface ClientRecord {
  clientId: string;
  metadata(): Record<string, unknown>;
  grantTypeAllowed(type: string): boolean;
}

/** The client as the interaction recorded it when oidc-provider created it. */
function clientOf(interaction: InteractionRecord): ClientRecord | undefined {
  const view = interaction[CLIENT_VIEW_FIELD];
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
function paymentOf(interaction: InteractionRecord): { id: string; detail: PaymentAuthorizationDetail } | undefined {
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

/** Everything one request of the pages works with. */
interface Flow {
  readonly interaction: InteractionRecord;
  readonly client: ClientRecord;
  readonly environment: EnvironmentName;
  readonly progress: Progress;
  readonly language: Language;
  readonly t: Translate;
  readonly context: PageContext;
  readonly tpp: TppView;
  /** The payment the PSU is asked to confirm, as the payment API registered it. */
  readonly payment: { readonly id: string; readonly detail: PaymentAuthorizationDetail } | undefined;
  readonly forms: (action: string) => FormTargets;
  readonly security: { readonly formTargets: string[]; readonly imageOrigins: string[] };
}

/** A failure of the bank's own services (authenticator, account lookup). */
class BankServiceError extends Error {
  constructor(readonly service: string, options: ErrorOptions) {
    super(`the bank's ${service} failed`, options);
  }
}

const epochNow = (): number => Math.floor(Date.now() / 1000);

const EXPIRED_PAYMENT = 'the payment authorization expired before the PSU decided';

/** What the PSU is asked about: a payment, or the cancellation of one. */
function paymentKind(detail: PaymentAuthorizationDetail): 'payment' | 'cancellation' {
  return detail.type === 'payment_cancellation' ? 'cancellation' : 'payment';
}

/** What the TPP is told when the PSU says no. */
function rejectedPayment(detail: PaymentAuthorizationDetail): string {
  return `the PSU rejected the ${paymentKind(detail)}`;
}

function sameToken(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function text(value: unknown, max: number): string {
  return typeof value === 'string' ? value.slice(0, max) : '';
}

/**
 * The PSU pages: the sandbox and bank sign-in, the second factor, and the consent, in the PSU's
 * language. They read and write only the interaction oidc-provider opened for the authorization,
 * and end it with a grant or an `access_denied` that oidc-provider sends back to the TPP.
 */
export class PsuPages {
  readonly #options: ResolvedOptions;
  readonly #logger: Logger;
  readonly #limits: LoginLimits | undefined;
  readonly #base: string;

  readonly #isSuspended: (organization: string) => Promise<boolean>;
  readonly #payments: () => PaymentAuthorizations;

  constructor(options: ResolvedOptions, storage: Storage, logger: Logger, isSuspended: (organization: string) => Promise<boolean>, payments: () => PaymentAuthorizations) {
    this.#options = options;
    this.#payments = payments;
    this.#isSuspended = isSuspended;
    this.#logger = logger;
    this.#limits = options.bank ? new LoginLimits(storage, options.bank.loginLimits) : undefined;
    this.#base = `${options.mountPath}${INTERACTION_PATH}`;
  }

  /** Page context for a language; `links` builds the language switch links. */
  #context(language: Language, sandbox: boolean, links?: (language: Language) => string): PageContext {
    const t = translator(language);
    const { pages } = this.#options;
    return {
      t,
      language,
      languageLinks: links ? pages.languages.map((lang) => ({ language: lang, href: links(lang) })) : [],
      bankName: pages.bankName ?? t('page.bankName'),
      sandbox,
      stylesheet: pages.stylesheet,
    };
  }

  #languageFrom(tags: readonly string[]): Language {
    return pickLanguage(tags, this.#options.pages.languages, this.#options.pages.defaultLanguage);
  }

  #send(res: Response, status: number, page: Html, security: { formTargets?: string[]; imageOrigins?: string[] } = {}): void {
    const headers = pageSecurityHeaders({ styles: stylesOf({ stylesheet: this.#options.pages.stylesheet }), ...security });
    res.status(status).set(headers).type('html').send(page.value);
  }

  /** A page that ends the PSU's way here: nobody is redirected. */
  #sendError(res: Response, status: number, language: Language, view: Parameters<typeof errorPage>[1]): void {
    this.#send(res, status, errorPage(this.#context(language, false), view));
  }

  /**
   * oidc-provider's `renderError`: an authorization request whose client or redirect URI is not
   * valid. The PSU learns why in their language; nobody is redirected.
   */
  readonly renderAuthorizationError = async (ctx: KoaContextWithOIDC, out: ErrorOut, _error: Error, entry?: EntryPage): Promise<void> => {
    const tags = [
      ...(entry?.language ? [entry.language] : []),
      ...String(ctx.query?.ui_locales ?? ctx.oidc?.params?.ui_locales ?? '').split(' ').filter(Boolean),
    ];
    const language = this.#languageFrom(tags.length ? tags : acceptLanguageTags(ctx.get('accept-language')));
    const t = translator(language);
    const serverError = out.error === 'server_error';
    const unavailable = isUnavailable(_error);
    if (unavailable) {
      ctx.status = 503;
      ctx.set('Retry-After', '30');
    }
    const page = errorPage(this.#context(language, false), {
      title: unavailable ? t('error.unavailable.title') : t('error.title'),
      message: unavailable ? t('error.unavailable') : serverError ? t('error.server') : t('error.invalid'),
      details: unavailable
        ? { error: 'temporarily_unavailable', description: new StorageUnavailableError('storage').error_description }
        : { error: String(out.error), ...(out.error_description ? { description: String(out.error_description) } : {}) },
    });
    ctx.set(pageSecurityHeaders({ styles: stylesOf({ stylesheet: this.#options.pages.stylesheet }) }));
    ctx.type = 'html';
    ctx.body = page.value;
  };

  /** The Express router of the pages, to mount at the interaction path. */
  router(provider: Provider): Router {
    const router = express.Router();
    const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 50 });

    const load = async (req: Request, res: Response): Promise<Flow> => {
      const interaction = await provider.interactionDetails(req, res) as unknown as InteractionRecord;
      if (interaction.uid !== req.params.uid) throw new SessionMismatch();
      // Decided already (a double click, a reload, the back button): carry on to the TPP.
      if (interaction.result && ('login' in interaction.result || 'error' in interaction.result)) throw new Finished(interaction.returnTo);
      const client = clientOf(interaction) ?? await provider.Client.find(String(interaction.params.client_id)) as unknown as ClientRecord | undefined;
      if (!client) throw new SessionMismatch();
      const metadata = client.metadata();
      const environment = metadata.psd2_environment as EnvironmentName;
      let progress = interaction.result?.[PROGRESS] as Progress | undefined;
      // Until the PSU's first step is saved, the form token derives from the interaction and the
      // cookie key (no write for showing the first page); it is saved with the progress then.
      progress ??= { step: 'signin', csrf: this.#csrfFor(interaction.uid) };
      const uiLocales = String(interaction.params.ui_locales ?? '').split(' ').filter(Boolean);
      const language = progress.language ?? this.#languageFrom(uiLocales.length ? uiLocales : acceptLanguageTags(req.get('accept-language')));
      const base = `${this.#base}/${interaction.uid}`;
      const context = this.#context(language, environment === 'sandbox', (lang) => `${base}?lang=${lang}`);
      const logoUri = localizedValue(metadata, 'logo_uri', language);
      const logo = logoUri?.startsWith('https://') ? logoUri : undefined;
      const redirectOrigin = originOf(String(interaction.params.redirect_uri ?? ''));
      const csrf = progress.csrf;
      return {
        payment: paymentOf(interaction),
        interaction,
        client,
        environment,
        progress,
        language,
        t: context.t,
        context,
        tpp: {
          name: localizedValue(metadata, 'client_name', language) ?? client.clientId,
          legalId: typeof metadata.provider_legal_id === 'string' ? metadata.provider_legal_id : undefined,
          logoUri: logo,
        },
        forms: (action) => ({ csrf, action: `${base}/${action}`, cancel: `${base}/cancel` }),
        security: {
          formTargets: redirectOrigin ? [redirectOrigin] : [],
          imageOrigins: [originOf(logo)].filter((origin): origin is string => origin !== undefined),
        },
      };
    };

    /** Loads the flow of a form post, after its CSRF token and origin are checked. */
    const loadPost = async (req: Request, res: Response): Promise<Flow> => {
      const flow = await load(req, res);
      const origin = req.get('origin');
      const body = (req.body ?? {}) as Record<string, unknown>;
      if ((origin && origin !== 'null' && origin !== new URL(this.#options.issuer).origin) || !sameToken(flow.progress.csrf, body.csrf)) {
        throw new FormRejected(flow);
      }
      return flow;
    };

    const handle = (handler: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response, next: NextFunction): Promise<void> => {
      try {
        await handler(req, res);
      } catch (error) {
        await this.#fail(provider, req, res, error).catch(next);
      }
    };

    router.get('/:uid', handle(async (req, res) => {
      let flow = await load(req, res);
      const lang = req.query.lang;
      if (typeof lang === 'string' && (this.#options.pages.languages as readonly string[]).includes(lang) && lang !== flow.language) {
        await this.#save(flow.interaction, { ...flow.progress, language: lang as Language });
        flow = await load(req, res);
      }
      await this.#render(res, flow);
    }));

    router.post('/:uid/signin', form, handle(async (req, res) => {
      const flow = await loadPost(req, res);
      if (flow.progress.step !== 'signin') return this.#redirectToStep(res, flow);
      const body = req.body as Record<string, unknown>;
      if (flow.environment === 'sandbox') {
        const psu = this.#options.sandbox?.testPsus.find((candidate) => candidate.id === body.psu);
        if (!psu) return this.#render(res, flow, { status: 400, error: flow.t('signin.sandbox.missing') });
        await this.#save(flow.interaction, { step: 'consent', csrf: flow.progress.csrf, ...(flow.progress.language ? { language: flow.progress.language } : {}), psuId: psu.id, scaTime: epochNow(), amr: [] });
        return this.#redirectToStep(res, flow);
      }
      const bank = this.#options.bank!;
      const login = text(body.login, 100).trim();
      const password = text(body.password, 200);
      if (!login || !password) return this.#render(res, flow, { status: 400, error: flow.t('signin.bank.missing'), login });
      const psuKey = LoginLimits.psuKey(login);
      const ip = this.#options.proxies.clientAddress(req);
      if (!await this.#limits!.begin(psuKey, ip)) {
        this.#logger.warn({ event: 'psu.login_blocked', clientId: flow.client.clientId }, 'sign-in refused: too many attempts');
        return this.#render(res, flow, { status: 429, locked: true });
      }
      const result = await bankCall('authenticator', () => bank.authenticator.verifyCredentials({ login, password, language: flow.language, ip }));
      if (result.outcome === 'failed') {
        const locked = await this.#limits!.exhausted(psuKey, ip);
        this.#logger.info({ event: 'psu.login_failed', clientId: flow.client.clientId }, 'sign-in failed');
        return this.#render(res, flow, locked ? { status: 429, locked: true } : { status: 401, error: flow.t('signin.bank.failed'), login });
      }
      if (result.outcome === 'second_factor') {
        await this.#limits!.succeed(ip);
        // The PSU's codes are used up (maybe under another of their identifiers): say so now.
        if (await this.#limits!.exhausted(psuKey, ip, result.psuId)) return this.#render(res, flow, { status: 429, locked: true });
        await this.#save(flow.interaction, {
          step: 'second_factor',
          csrf: flow.progress.csrf,
          ...(flow.progress.language ? { language: flow.progress.language } : {}),
          psuId: result.psuId,
          psuKey,
          ...(result.hint ? { hint: result.hint } : {}),
          ...(result.challenge ? { challenge: result.challenge } : {}),
        });
        return this.#redirectToStep(res, flow);
      }
      await this.#limits!.succeed(ip, psuKey, result.psuId);
      await this.#save(flow.interaction, { step: 'consent', csrf: flow.progress.csrf, ...(flow.progress.language ? { language: flow.progress.language } : {}), psuId: result.psuId, scaTime: epochNow(), amr: result.amr ?? ['pwd'] });
      return this.#redirectToStep(res, flow);
    }));

    router.post('/:uid/second-factor', form, handle(async (req, res) => {
      const flow = await loadPost(req, res);
      const { progress } = flow;
      if (progress.step !== 'second_factor') return this.#redirectToStep(res, flow);
      const code = text((req.body as Record<string, unknown>).code, 20).trim();
      if (!code) return this.#render(res, flow, { status: 400, error: flow.t('signin.code.missing') });
      const ip = this.#options.proxies.clientAddress(req);
      if (!await this.#limits!.begin(progress.psuKey, ip, progress.psuId)) return this.#render(res, flow, { status: 429, locked: true });
      const result = await bankCall('authenticator', () => this.#options.bank!.authenticator.verifySecondFactor({
        psuId: progress.psuId,
        challenge: progress.challenge,
        code,
        language: flow.language,
        ip,
      }));
      if (result.outcome === 'failed') {
        const locked = await this.#limits!.exhausted(progress.psuKey, ip, progress.psuId);
        this.#logger.info({ event: 'psu.second_factor_failed', clientId: flow.client.clientId }, 'second factor failed');
        return this.#render(res, flow, locked ? { status: 429, locked: true } : { status: 401, error: flow.t('signin.code.failed') });
      }
      await this.#limits!.succeed(ip, progress.psuKey, progress.psuId);
      await this.#save(flow.interaction, { step: 'consent', csrf: progress.csrf, ...(progress.language ? { language: progress.language } : {}), psuId: progress.psuId, scaTime: epochNow(), amr: result.amr ?? ['pwd', 'otp', 'mfa'] });
      return this.#redirectToStep(res, flow);
    }));

    router.post('/:uid/consent', form, handle(async (req, res) => {
      const flow = await loadPost(req, res);
      const { progress } = flow;
      if (progress.step !== 'consent') return this.#redirectToStep(res, flow);
      const body = req.body as Record<string, unknown>;
      if (flow.payment) return this.#decidePayment(provider, req, res, flow, progress, body.decision === 'grant');
      if (body.decision !== 'grant') {
        this.#logger.info({ event: 'psu.consent_refused', clientId: flow.client.clientId }, 'the PSU refused access');
        return this.#finish(provider, req, res, { error: 'access_denied', error_description: 'the PSU refused access' }, flow.interaction);
      }
      const accounts = await this.#accountsOf(flow, progress.psuId);
      const chosen = ([] as unknown[]).concat(body.accounts ?? []).map(String);
      const shared = accounts.filter((account) => chosen.includes(account.id));
      if (!shared.length || shared.length !== new Set(chosen).size) {
        return this.#render(res, flow, { status: 400, error: flow.t('consent.accounts.required'), selected: chosen, accounts });
      }
      if (flow.tpp.legalId && await this.#isSuspended(flow.tpp.legalId)) {
        return this.#finish(provider, req, res, { error: 'unauthorized_client', error_description: 'the bank has suspended this TPP' }, flow.interaction);
      }
      const scope = String(flow.interaction.params.scope);
      const grant = new provider.Grant({ accountId: progress.psuId, clientId: flow.client.clientId });
      grant.addOIDCScope(scope);
      const consent: ConsentRecord = {
        environment: flow.environment,
        accounts: shared.map((account) => ({ id: account.id, ...(account.iban ? { iban: account.iban } : {}) })),
        scaTime: progress.scaTime,
        amr: [...progress.amr],
      };
      const grantId = await this.#finishWithGrant(res, flow, progress, grant, consent);
      this.#logger.info({ event: 'psu.consent_granted', clientId: flow.client.clientId, grantId, scope, accounts: shared.length }, 'the PSU granted access');
    }));

    router.post('/:uid/cancel', form, handle(async (req, res) => {
      const flow = await loadPost(req, res);
      this.#logger.info({ event: 'psu.cancelled', clientId: flow.client.clientId, step: flow.progress.step }, 'the PSU cancelled');
      if (flow.payment) {
        const progress = flow.progress;
        const psu = 'psuId' in progress ? { psuId: progress.psuId } : undefined;
        // The PSU walked away: the payment is rejected, once (a second tab may have decided
        // already), or expired when its lifetime is over.
        const payments = this.#payments();
        const record = await payments.record(flow.payment.id);
        const expired = record !== undefined && payments.isExpired(record);
        if (!record || !await payments.decide(flow.payment.id, record, expired ? 'expired' : 'rejected', expired ? undefined : psu)) return this.#decidedElsewhere(provider, req, res, flow);
        return this.#finish(provider, req, res, { error: 'access_denied', error_description: expired ? EXPIRED_PAYMENT : rejectedPayment(flow.payment.detail) }, flow.interaction);
      }
      const description = flow.progress.step === 'consent' ? 'the PSU refused access' : 'the PSU cancelled the sign-in';
      return this.#finish(provider, req, res, { error: 'access_denied', error_description: description }, flow.interaction);
    }));

    router.use(handle(async (req) => {
      throw new SessionMismatch(req.method);
    }));

    return router;
  }

  /**
   * The PSU's decision on a payment: recorded and told to the bank once, whatever the number of
   * concurrent posts (a post that loses the race goes back to the page, which carries on to the TPP
   * once the winner is through). The TPP gets a code for a confirmed payment, access_denied otherwise.
   */
  async #decidePayment(provider: Provider, req: Request, res: Response, flow: Flow, progress: Progress & { step: 'consent' }, confirmed: boolean): Promise<void> {
    const payments = this.#payments();
    const { id, detail } = flow.payment!;
    const record = await payments.record(id);
    if (!record || record.clientId !== flow.client.clientId) throw new SessionMismatch();
    if (record.outcome) return this.#decidedElsewhere(provider, req, res, flow);
    const psu = { psuId: progress.psuId, scaTime: progress.scaTime };
    if (payments.isExpired(record)) {
      await payments.decide(id, record, 'expired');
      return this.#finish(provider, req, res, { error: 'access_denied', error_description: EXPIRED_PAYMENT }, flow.interaction);
    }
    if (!confirmed) {
      if (!await payments.decide(id, record, 'rejected', psu)) return this.#decidedElsewhere(provider, req, res, flow);
      this.#logger.info({ event: 'psu.payment_rejected', clientId: flow.client.clientId, paymentAuthorization: id }, rejectedPayment(detail));
      return this.#finish(provider, req, res, { error: 'access_denied', error_description: rejectedPayment(detail) }, flow.interaction);
    }
    let debtor: PsuAccount | undefined;
    if (detail.debtorAccount) {
      const accounts = await this.#accountsOf(flow, progress.psuId);
      debtor = accounts.find((account) => account.iban?.replace(/\s+/g, '').toUpperCase() === detail.debtorAccount!.iban);
      if (!debtor) return this.#render(res, flow, { status: 403, debtorNotHeld: true });
    }
    if (flow.tpp.legalId && await this.#isSuspended(flow.tpp.legalId)) {
      return this.#finish(provider, req, res, { error: 'unauthorized_client', error_description: 'the bank has suspended this TPP' }, flow.interaction);
    }
    if (!await payments.decide(id, record, 'confirmed', psu)) return this.#decidedElsewhere(provider, req, res, flow);
    const grant = new provider.Grant({ accountId: progress.psuId, clientId: flow.client.clientId });
    grant.addOIDCScope('pisp');
    grant.addResourceScope(this.#options.payments.resource, 'pisp');
    grant.addRar(detail as unknown as Parameters<typeof grant.addRar>[0]);
    const consent: ConsentRecord = {
      environment: flow.environment,
      accounts: debtor ? [{ id: debtor.id, ...(debtor.iban ? { iban: debtor.iban } : {}) }] : [],
      scaTime: progress.scaTime,
      amr: [...progress.amr],
    };
    const grantId = await this.#finishWithGrant(res, flow, progress, grant, consent);
    this.#logger.info({ event: 'psu.payment_confirmed', clientId: flow.client.clientId, grantId, paymentAuthorization: id }, `the PSU confirmed the ${paymentKind(detail)}`);
  }

  /**
   * Saves the PSU's grant and ends the interaction with it, both writes sent together: the grant's
   * id is drawn first (save keeps it). Answers the grant's id. Should the grant alone fail to be stored,
   * the PSU gets the page asking to try again, and the resume, finding no grant, starts the
   * authorization over with a new sign-in.
   */
  async #finishWithGrant(res: Response, flow: Flow, progress: Progress & { step: 'consent' }, grant: InstanceType<Provider['Grant']>, consent: ConsentRecord): Promise<string> {
    (grant as unknown as Record<string, unknown>)[CONSENT_FIELD] = consent;
    const grantId = (grant as unknown as { generateTokenId(): string }).generateTokenId();
    grant.jti = grantId;
    const saved = grant.save();
    const result = {
      login: { accountId: progress.psuId, ts: progress.scaTime, amr: [...progress.amr], remember: false },
      consent: { grantId },
    };
    await Promise.all([saved, this.#end(flow.interaction, result)]);
    res.redirect(303, flow.interaction.returnTo);
    return grantId;
  }

  /**
   * The payment was decided by another request. A confirmation ends the interaction in the request
   * that made it: the page carries on to the TPP once it is through. A rejection in another tab, or
   * an expiry that statusOf or the expiry timer recorded, sends the PSU back with access_denied.
   */
  async #decidedElsewhere(provider: Provider, req: Request, res: Response, flow: Flow): Promise<void> {
    const status = (await this.#payments().record(flow.payment!.id))?.outcome?.status;
    if (status === undefined || status === 'confirmed') return this.#redirectToStep(res, flow);
    return this.#finish(provider, req, res, { error: 'access_denied', error_description: status === 'expired' ? EXPIRED_PAYMENT : rejectedPayment(flow.payment!.detail) }, flow.interaction);
  }

  async #save(interaction: InteractionRecord, progress: Progress): Promise<void> {
    interaction.result = { [PROGRESS]: progress };
    await interaction.save(Math.max(1, interaction.exp - epochNow()));
  }

  #redirectToStep(res: Response, flow: Flow): void {
    res.redirect(303, `${this.#base}/${flow.interaction.uid}`);
  }

  async #accountsOf(flow: Flow, psuId: string): Promise<readonly PsuAccount[]> {
    if (flow.environment === 'sandbox') {
      return this.#options.sandbox?.testPsus.find((psu) => psu.id === psuId)?.accounts ?? [];
    }
    const scope = String(flow.interaction.params.scope);
    return bankCall('account lookup', () => this.#options.bank!.accounts.accountsOf(psuId, { scope, clientId: flow.client.clientId, language: flow.language }));
  }

  async #render(res: Response, flow: Flow, state: {
    status?: number;
    error?: string;
    login?: string;
    locked?: boolean;
    selected?: readonly string[];
    accounts?: readonly PsuAccount[];
    debtorNotHeld?: boolean;
  } = {}): Promise<void> {
    const { context, tpp, progress } = flow;
    let page: Html;
    if (state.locked) {
      page = lockedPage(context, { tpp, forms: flow.forms('signin') });
    } else if (progress.step === 'signin' && flow.environment === 'sandbox') {
      page = sandboxSignInPage(context, { tpp, psus: this.#options.sandbox?.testPsus ?? [], forms: flow.forms('signin'), ...(state.error ? { error: state.error } : {}) });
    } else if (progress.step === 'signin') {
      page = bankSignInPage(context, { tpp, forms: flow.forms('signin'), ...(state.login ? { login: state.login } : {}), ...(state.error ? { error: state.error } : {}) });
    } else if (progress.step === 'second_factor') {
      page = secondFactorPage(context, { tpp, forms: flow.forms('second-factor'), ...(progress.hint ? { hint: progress.hint } : {}), ...(state.error ? { error: state.error } : {}) });
    } else if (flow.payment) {
      page = paymentPage(context, { tpp, forms: flow.forms('consent'), detail: flow.payment.detail, ...(state.debtorNotHeld ? { debtorNotHeld: true } : {}) });
    } else {
      const scope = String(flow.interaction.params.scope);
      page = consentPage(context, {
        tpp,
        forms: flow.forms('consent'),
        scopes: scope.split(' ').sort((a, b) => (a === 'aisp' ? -1 : b === 'aisp' ? 1 : 0)),
        lasting: flow.client.grantTypeAllowed('refresh_token') && /\b(aisp|cbpii)\b/.test(scope),
        accounts: state.accounts ?? await this.#accountsOf(flow, progress.psuId),
        ...(state.selected ? { selected: state.selected } : {}),
        ...(state.error ? { error: state.error } : {}),
      });
    }
    this.#send(res, state.status ?? 200, page, flow.security);
  }

  /** The form token of an interaction whose first step is not saved yet. */
  #csrfFor(uid: string): string {
    return createHmac('sha256', this.#options.cookieKeys[0]!).update(`psd2-pages-csrf:${uid}`).digest('base64url');
  }

  /** Ends the interaction with `result` and sends the PSU on; the interaction at hand saves a read. */
  async #finish(provider: Provider, req: Request, res: Response, result: Record<string, unknown>, interaction?: InteractionRecord): Promise<void> {
    if (!interaction) {
      res.redirect(303, await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false }));
      return;
    }
    await this.#end(interaction, result);
    res.redirect(303, interaction.returnTo);
  }

  /** What provider.interactionResult does, without reading the interaction again. */
  async #end(interaction: InteractionRecord, result: Record<string, unknown>): Promise<void> {
    interaction.result = result;
    await interaction.save(interaction.exp - epochNow());
  }

  async #fail(provider: Provider, req: Request, res: Response, error: unknown): Promise<void> {
    const language = this.#languageFrom(acceptLanguageTags(req.get('accept-language')));
    const t = translator(language);
    if (error instanceof Finished) {
      res.redirect(303, error.returnTo);
      return;
    }
    if (error instanceof FormRejected) {
      this.#logger.warn({ event: 'psu.form_rejected', clientId: error.flow.client.clientId }, 'a PSU page form was posted without its CSRF token or from another origin');
      this.#sendError(res, 403, error.flow.language, {
        title: error.flow.t('error.form.title'),
        message: error.flow.t('error.form'),
        continueHref: `${this.#base}/${error.flow.interaction.uid}`,
      });
      return;
    }
    if (error instanceof SessionMismatch || (error as { name?: string }).name === 'SessionNotFound') {
      this.#sendError(res, error instanceof SessionMismatch && error.method ? 404 : 400, language, { title: t('error.expired.title'), message: t('error.expired') });
      return;
    }
    if (isUnavailable(error)) {
      this.#logger.error({ err: error, event: 'storage.unavailable', path: req.originalUrl }, 'a PSU page could not reach the storage');
      res.set('Retry-After', '30');
      this.#sendError(res, 503, language, { title: t('error.unavailable.title'), message: t('error.unavailable') });
      return;
    }
    if (error instanceof BankServiceError) {
      // The PSU goes back to the TPP, which learns that the bank failed, not why.
      this.#logger.error({ err: error.cause, event: 'psu.bank_service_failed', service: error.service }, error.message);
      try {
        await this.#finish(provider, req, res, { error: 'server_error', error_description: 'the bank could not complete the authorization' });
        return;
      } catch {
        // The interaction is gone too: fall through to the apology page.
      }
    } else {
      this.#logger.error({ err: error, event: 'psu.page_failed', path: req.originalUrl }, 'a PSU page failed');
    }
    this.#sendError(res, 500, language, { title: t('error.title'), message: t('error.server') });
  }
}

/** Whether an error, or what caused it, is the storage being unavailable. */
export function isUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    if (current instanceof StorageUnavailableError) return true;
  }
  return false;
}

/** The interaction of the URL is not the one of the PSU's browser, or no longer exists. */
class SessionMismatch extends Error {
  constructor(readonly method?: string) {
    super('interaction not found');
  }
}

/** The PSU already decided within this interaction. */
class Finished extends Error {
  constructor(readonly returnTo: string) {
    super('interaction already decided');
  }
}

/** A form post without its CSRF token, or from another origin. */
class FormRejected extends Error {
  constructor(readonly flow: Flow) {
    super('form rejected');
  }
}

async function bankCall<T>(service: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new BankServiceError(service, { cause: error });
  }
}
