/**
 * What the PSU sees when a page cannot carry on: back to the TPP when the authorization can still
 * end there, else a page in the PSU's language that redirects nobody.
 */
import type { Request, Response } from 'express';
import { errors, type ErrorOut, type KoaContextWithOIDC } from 'oidc-provider';

import { PSU_REFUSALS } from '../lib/consent.js';
import { isUnavailable, RETRY_AFTER_SECONDS, StorageUnavailableError } from '../lib/errors.js';
import { acceptLanguageTags, type Language } from '../lib/language.js';
import type { ResolvedOptions } from '../lib/options/index.js';
import type { EntryPage } from '../lib/provider/index.js';
import { finish } from './ending.js';
import type { Flow } from './flow.js';
import { translator } from './i18n.js';
import { interactionPageOf, languageLinksTo } from './language-links.js';
import { BankServiceError, Finished, FormRejected, SessionMismatch } from './page-errors.js';
import { languageFrom, pageContext, seeOther, sendPage } from './render-context.js';
import { pageSecurityHeaders } from './security-headers.js';
import type { PageServices } from './services.js';
import { errorPage } from './views/pages.js';

type ErrorView = Parameters<typeof errorPage>[1];

/**
 * A page that ends the PSU's way here (nobody is redirected), with links to the page of the
 * address's interaction in the other languages; `security` as the interaction's pages when it
 * offers to go back to the TPP.
 */
function sendErrorPage(options: ResolvedOptions, res: Response, status: number, language: Language, view: ErrorView, page?: string, security?: Flow['security']): void {
  const context = pageContext(options, language, false, page ? languageLinksTo(page) : undefined);
  sendPage(res, status, errorPage(context, view), security);
}

/** The answer to a page request that failed with `error`. */
export async function failPage(services: PageServices, req: Request, res: Response, error: unknown): Promise<void> {
  const { options, logger } = services;
  // A language link leads here too when the interaction is gone: its `lang` comes first.
  const chosen = typeof req.query.lang === 'string' ? [req.query.lang] : [];
  const language = languageFrom(options, [...chosen, ...acceptLanguageTags(req.get('accept-language'))]);
  const t = translator(language);
  const page = interactionPageOf(services.base, req.path);
  if (error instanceof Finished) {
    seeOther(res, error.returnTo);
    return;
  }
  if (error instanceof FormRejected) {
    const { flow } = error;
    logger.warn({ event: 'psu.form_rejected', clientId: flow.client.clientId }, 'a PSU page form was posted without its CSRF token or from another origin');
    // The authorization is open and its redirect URI was checked as it began: the PSU may go back.
    const step = `${services.base}/${flow.interaction.uid}`;
    sendErrorPage(options, res, 403, flow.language, {
      title: flow.t('error.form.title'),
      message: flow.t('error.form'),
      continueHref: step,
      cancel: { tpp: flow.tpp, forms: flow.targets.forms('cancel') },
    }, step, flow.security);
    return;
  }
  if (error instanceof SessionMismatch || error instanceof errors.SessionNotFound) {
    // The PSU's interaction is gone (expired, or never this browser's); a path the pages do not
    // have (a method given) is no journey.
    if (!(error instanceof SessionMismatch && error.method)) services.recordJourney('expired');
    sendErrorPage(options, res, error instanceof SessionMismatch && error.method ? 404 : 400, language, { title: t('error.expired.title'), message: t('error.expired') }, page);
    return;
  }
  if (isUnavailable(error)) {
    logger.error({ err: error, event: 'storage.unavailable', path: req.originalUrl }, 'a PSU page could not reach the storage');
    res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    sendErrorPage(options, res, 503, language, { title: t('error.unavailable.title'), message: t('error.unavailable') }, page);
    return;
  }
  if (error instanceof BankServiceError) {
    // The PSU goes back to the TPP, which learns that the bank failed, not why.
    logger.error({ err: error.cause, event: 'psu.bank_service_failed', service: error.service }, error.message);
    try {
      await finish(services, req, res, { error: 'server_error', error_description: PSU_REFUSALS.bankFailed });
      return;
    } catch {
      // The interaction is gone too: fall through to the apology page.
    }
  } else {
    logger.error({ err: error, event: 'psu.page_failed', path: req.originalUrl }, 'a PSU page failed');
  }
  sendErrorPage(options, res, 500, language, { title: t('error.title'), message: t('error.server') }, page);
}

/**
 * oidc-provider's `renderError`: an authorization request whose client or redirect URI is not
 * valid. The PSU learns why in their language; nobody is redirected.
 */
export function renderAuthorizationError(options: ResolvedOptions, ctx: KoaContextWithOIDC, out: ErrorOut, error: Error, entry?: EntryPage): void {
  const tags = [
    // The page's language links repeat the request with `lang`.
    ...(typeof ctx.query?.lang === 'string' ? [ctx.query.lang] : []),
    ...(entry?.language ? [entry.language] : []),
    ...String(ctx.query?.ui_locales ?? ctx.oidc?.params?.ui_locales ?? '').split(' ').filter(Boolean),
  ];
  const language = languageFrom(options, tags.length ? tags : acceptLanguageTags(ctx.get('accept-language')));
  const t = translator(language);
  const serverError = out.error === 'server_error';
  const unavailable = isUnavailable(error);
  if (unavailable) {
    ctx.status = 503;
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
  }
  // No return to the TPP, and no language links either: they would carry the request back, whose
  // client or redirect URI is what could not be trusted. The page's language follows ui_locales,
  // the entry URL and Accept-Language.
  const page = errorPage(pageContext(options, language, false, undefined), {
    title: unavailable ? t('error.unavailable.title') : t('error.title'),
    message: unavailable ? t('error.unavailable') : serverError ? t('error.server') : t('error.invalid'),
    details: unavailable
      ? { error: 'temporarily_unavailable', description: new StorageUnavailableError('storage').error_description }
      : { error: String(out.error), ...(out.error_description ? { description: String(out.error_description) } : {}) },
  });
  ctx.set(pageSecurityHeaders());
  ctx.type = 'html';
  ctx.body = page.value;
}
