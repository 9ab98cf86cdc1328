import type { Language } from '../../lib/language.js';
import { type Html, html } from '../html.js';
import type { Translate } from '../i18n.js';

/** What every page knows about its context. */
export interface PageContext {
  readonly t: Translate;
  readonly language: Language;
  /** Languages offered, with the link that shows this page in each (none where no address can show it again). */
  readonly languageLinks: readonly { readonly language: Language; readonly href: string }[];
  readonly bankName: string;
  readonly sandbox: boolean;
  /** Paths of the stylesheets: the package's, then the bank's if it has one. */
  readonly stylesheets: readonly string[];
}

export function layout(context: PageContext, title: string, content: Html): Html {
  const { t } = context;
  return html`<!DOCTYPE html>
<html lang="${context.language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${title} – ${context.bankName}</title>
${context.stylesheets.map((href) => html`<link rel="stylesheet" href="${href}">`)}
</head>
<body>
<header class="bar"><div class="inner">
<span class="bank">${context.bankName}</span>
${context.languageLinks.length > 1 ? html`<nav class="languages" aria-label="${t('page.languages')}"><ul>${context.languageLinks.map((link) => html`
<li><a href="${link.href}" hreflang="${link.language}" lang="${link.language}"${link.language === context.language ? html` aria-current="page"` : ''}>${t(`language.${link.language}`)}</a></li>`)}
</ul></nav>` : ''}
</div></header>
${context.sandbox ? html`<div class="sandbox" role="note">${t('page.sandboxBanner')}</div>` : ''}
<main id="main"><div class="card">
${content}
</div></main>
<footer><p>${t('page.footer')}</p></footer>
</body>
</html>
`;
}
