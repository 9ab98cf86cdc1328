import type { IncomingMessage } from 'node:http';

import type { Answer } from '../lib/body-limits.js';
import type { OAuthError } from '../lib/errors.js';
import { acceptLanguageTags, pickLanguage } from '../lib/language.js';
import type { ResolvedOptions } from '../lib/options/index.js';
import { INTERACTION_PATH } from '../lib/routes.js';
import { translator } from './i18n.js';
import { pageSecurityHeaders } from './security-headers.js';
import { stylesOf } from './views/layout.js';
import { errorPage } from './views/pages.js';

/** Interaction ids as oidc-provider makes them; anything else gets no link back. */
const INTERACTION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The page a PSU's browser gets for a form refused before it was read (too large): in the PSU's
 * language, with a link back to the step it came from.
 */
export function refusedFormPage(options: ResolvedOptions, req: IncomingMessage, path: string, error: OAuthError): Answer {
  const language = pickLanguage(acceptLanguageTags(req.headers['accept-language']), options.pages.languages, options.pages.defaultLanguage);
  const t = translator(language);
  const uid = path.slice(INTERACTION_PATH.length + 1).split('/')[0] ?? '';
  const page = errorPage({ t, language, languageLinks: [], bankName: options.pages.bankName ?? t('page.bankName'), sandbox: false, stylesheet: options.pages.stylesheet }, {
    title: t('error.form.title'),
    message: t('error.form'),
    details: { error: error.error, description: error.error_description },
    ...(INTERACTION_ID.test(uid) ? { continueHref: `${options.mountPath}${INTERACTION_PATH}/${uid}` } : {}),
  });
  return {
    status: error.status,
    headers: { ...pageSecurityHeaders({ styles: stylesOf({ stylesheet: options.pages.stylesheet }) }), 'Content-Type': 'text/html; charset=utf-8' },
    body: page.value,
  };
}
