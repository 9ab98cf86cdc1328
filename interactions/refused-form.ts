import type { IncomingMessage } from 'node:http';

import type { Answer } from '../lib/body-limits.js';
import type { OAuthError } from '../lib/errors.js';
import { acceptLanguageTags } from '../lib/language.js';
import type { ResolvedOptions } from '../lib/options/index.js';
import { INTERACTION_PATH } from '../lib/routes.js';
import { interactionPageOf, languageLinksTo } from './language-links.js';
import { languageFrom, pageContext } from './render-context.js';
import { pageSecurityHeaders } from './security-headers.js';
import { errorPage } from './views/pages.js';

/**
 * The page a PSU's browser gets for a form refused before it was read (too large): in the PSU's
 * language, with a link back to the step it came from, and to that step in the other languages.
 */
export function refusedFormPage(options: ResolvedOptions, req: IncomingMessage, path: string, error: OAuthError): Answer {
  const language = languageFrom(options, acceptLanguageTags(req.headers['accept-language']));
  const step = interactionPageOf(`${options.mountPath}${INTERACTION_PATH}`, path.slice(INTERACTION_PATH.length));
  const context = pageContext(options, language, false, step ? languageLinksTo(step) : undefined);
  const { t } = context;
  const page = errorPage(context, {
    title: t('error.form.title'),
    message: t('error.form'),
    details: { error: error.error, description: error.error_description },
    ...(step ? { continueHref: step } : {}),
  });
  return {
    status: error.status,
    headers: { ...pageSecurityHeaders(), 'Content-Type': 'text/html; charset=utf-8' },
    body: page.value,
  };
}
