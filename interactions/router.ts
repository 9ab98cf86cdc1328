/**
 * The routes of the PSU pages. Each step lives in steps/, the flow it works with in flow.ts, the
 * pages in render.ts and views/, what a failure shows in failures.ts; the decisions themselves
 * are the library's (lib/consent.ts, lib/payments/decisions.ts).
 */
import { createSecretKey } from 'node:crypto';

import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type Provider from 'oidc-provider';
import type { ErrorOut, KoaContextWithOIDC } from 'oidc-provider';

import { BODY_LIMITS } from '../lib/body-limits.js';
import type { Language } from '../lib/language.js';
import type { Logger } from '../lib/logger.js';
import type { JourneyStep } from '../lib/observability/index.js';
import type { ResolvedOptions } from '../lib/options/index.js';
import type { PaymentRecords } from '../lib/payments/records.js';
import type { EntryPage } from '../lib/provider/index.js';
import { INTERACTION_PATH, PAGE_ASSETS_PATH } from '../lib/routes.js';
import type { Storage } from '../lib/storage.js';
import { failPage, renderAuthorizationError } from './failures.js';
import { loadFlow, loadPost, saveAndReload, type Flow } from './flow.js';
import { LoginLimits } from './login-limits.js';
import { SessionMismatch } from './page-errors.js';
import { pageForms } from './form-body.js';
import { PageTemplates } from './page-templates.js';
import { renderStep } from './render.js';
import { languageChoice } from './render-context.js';
import type { PageServices } from './services.js';
import { cancel } from './steps/cancel.js';
import { consent } from './steps/consent.js';
import { secondFactor } from './steps/second-factor.js';
import { signIn } from './steps/signin.js';
import { sendStylesheet, stylesheetsOf } from './stylesheets.js';

type Step = (services: PageServices, flow: Flow, req: Request, res: Response) => Promise<void>;

/** The steps a page's form posts to, by the last segment of its path. */
const STEPS: ReadonlyMap<string, Step> = new Map([['signin', signIn], ['second-factor', secondFactor], ['consent', consent], ['cancel', cancel]]);

/** Where the stylesheets are, relative to the pages' path. */
const ASSETS_PREFIX = `${PAGE_ASSETS_PATH.slice(INTERACTION_PATH.length)}/`;

/** `/{uid}` of a page, `/{uid}/{step}` of its form. */
const PAGE_PATH = /^\/([^/]+)(?:\/([^/]+))?\/?$/;

/** Where the pages count the PSU's journey: the server's metrics. */
export interface JourneyMetrics {
  recordJourney(step: JourneyStep): void;
}

/**
 * The PSU pages: the sandbox and bank sign-in, the second factor, and the consent or payment, in
 * the PSU's language. They read and write only the interaction oidc-provider opened for the
 * authorization, and end it with a grant or an error that oidc-provider sends back to the TPP.
 */
export class PsuPages {
  readonly #options: ResolvedOptions;
  readonly #logger: Logger;
  readonly #limits: LoginLimits | undefined;
  readonly #isSuspended: (organization: string) => Promise<boolean>;
  readonly #payments: PaymentRecords;
  readonly #metrics: JourneyMetrics | undefined;

  /**
   * `payments` are the payment authorizations' records, built before the provider; `metrics`
   * count the PSU's journey (started, signed in, consent, payment decision, expired).
   */
  constructor(options: ResolvedOptions, storage: Storage, logger: Logger, isSuspended: (organization: string) => Promise<boolean>, payments: PaymentRecords, metrics?: JourneyMetrics) {
    this.#options = options;
    this.#logger = logger;
    this.#limits = options.bank ? new LoginLimits(storage, options.bank.loginLimits) : undefined;
    this.#isSuspended = isSuspended;
    this.#payments = payments;
    this.#metrics = metrics;
  }

  /**
   * oidc-provider's `renderError`: an authorization request whose client or redirect URI is not
   * valid. The PSU learns why in their language; nobody is redirected.
   */
  readonly renderAuthorizationError = async (ctx: KoaContextWithOIDC, out: ErrorOut, error: Error, entry?: EntryPage): Promise<void> => {
    renderAuthorizationError(this.#options, ctx, out, error, entry);
  };

  /** The Express router of the pages, to mount at the interaction path. */
  router(provider: Provider): Router {
    const services: PageServices = {
      options: this.#options,
      logger: this.#logger,
      provider,
      limits: this.#limits,
      base: `${this.#options.mountPath}${INTERACTION_PATH}`,
      origin: new URL(this.#options.issuer).origin,
      csrfKey: createSecretKey(Buffer.from(this.#options.cookieKeys[0]!, 'utf8')),
      languageOf: languageChoice(this.#options),
      templates: new PageTemplates(),
      payments: this.#payments,
      isSuspended: this.#isSuspended,
      recordJourney: (step) => this.#metrics?.recordJourney(step),
    };
    // A journey starts when oidc-provider, the authorization request accepted, sends the PSU to
    // the pages: once per interaction, however often its first page is shown.
    provider.on('interaction.started', () => services.recordJourney('started'));
    const stylesheets = stylesheetsOf(this.#options);
    const router = express.Router();
    const form = pageForms({ bytes: BODY_LIMITS.pageForm, parameters: 50 });
    const show = async (req: Request, res: Response): Promise<void> => {
      let flow = await loadFlow(services, req, res);
      const lang = req.query.lang;
      if (typeof lang === 'string' && (this.#options.pages.languages as readonly string[]).includes(lang) && lang !== flow.language) {
        flow = await saveAndReload(services, req, flow, { ...flow.progress, language: lang as Language });
      }
      await renderStep(services, res, flow);
    };
    const answer = async (req: Request, res: Response, step: Step | undefined): Promise<void> => {
      if (step) return step(services, await loadPost(services, req, res), req, res);
      return show(req, res);
    };
    const run = (req: Request, res: Response, next: NextFunction, step: Step | undefined): void => {
      answer(req, res, step).catch((error: unknown) => failPage(services, req, res, error)).catch(next);
    };
    // One layer for every page, chosen by its path, as the routes `GET /:uid` and `POST /:uid/<step>`
    // would (without regard to case or a trailing slash); anything else is a session mismatch. A
    // stylesheet's path is neither: any other file or method under it gets the pages' 404.
    router.use((req, res, next) => {
      const { path } = req;
      if ((req.method === 'GET' || req.method === 'HEAD') && path.startsWith(ASSETS_PREFIX)) {
        const file = stylesheets.file(path.slice(ASSETS_PREFIX.length));
        if (file) {
          sendStylesheet(res, file);
          return;
        }
      }
      const match = PAGE_PATH.exec(path);
      const step = match?.[2] === undefined ? undefined : STEPS.get(match[2].toLowerCase());
      const showing = match !== null && match[2] === undefined && (req.method === 'GET' || req.method === 'HEAD');
      const posting = step !== undefined && req.method === 'POST';
      if (!showing && !posting) {
        failPage(services, req, res, new SessionMismatch(req.method)).catch(next);
        return;
      }
      const uid = match![1]!;
      try {
        // Only an escape changes the id, or makes it unreadable: most ids have none.
        req.params = { uid: uid.includes('%') ? decodeURIComponent(uid) : uid };
      } catch (error) {
        next(Object.assign(error as Error, { status: 400 }));
        return;
      }
      // The form's parser refuses what it cannot read as Express would: to the router's error handler.
      if (posting) form(req, res, (error?: unknown) => (error === undefined ? run(req, res, next, step) : next(error)));
      else run(req, res, next, undefined);
    });
    return router;
  }
}
