import { formatAmount, formatDate, maskIban, type PaymentAuthorizationDetail } from '../../lib/payments/details.js';
import type { PsuAccount } from '../../lib/psu.js';
import { html, type Html } from '../html.js';
import type { MessageKey } from '../i18n.js';
import { layout, type PageContext } from './layout.js';

/** The TPP as the PSU sees it: its registered name and logo in the PSU's language. */
export interface TppView {
  readonly name: string;
  readonly legalId: string | undefined;
  readonly logoUri: string | undefined;
}

/** Paths the page's forms post to. */
export interface FormTargets {
  readonly csrf: string;
  readonly action: string;
  readonly cancel: string;
}

function tppBlock(context: PageContext, tpp: TppView): Html {
  const { t } = context;
  return html`<div class="tpp">
${tpp.logoUri ? html`<img src="${tpp.logoUri}" alt="${t('tpp.logo', { tpp: tpp.name })}" referrerpolicy="no-referrer" width="48" height="48">` : ''}
<div><div class="name">${tpp.name}</div>${tpp.legalId ? html`<div class="id">${t('tpp.legalId', { id: tpp.legalId })}</div>` : ''}</div>
</div>`;
}

function errorSummary(context: PageContext, message: string | undefined): Html {
  if (!message) return html``;
  return html`<div class="error" role="alert" id="form-error" tabindex="-1" autofocus><h2>${context.t('page.errorSummary')}</h2><p>${message}</p></div>`;
}

function csrfField(forms: FormTargets): Html {
  return html`<input type="hidden" name="csrf" value="${forms.csrf}">`;
}

function cancelForm(context: PageContext, tpp: TppView, forms: FormTargets): Html {
  return html`<form method="post" action="${forms.cancel}" class="cancel">${csrfField(forms)}<button type="submit" class="link">${context.t('page.cancel', { tpp: tpp.name })}</button></form>`;
}

/** Field attributes marking an invalid input and pointing to the error. */
function invalid(error: string | undefined): Html {
  return error ? html` aria-invalid="true" aria-describedby="form-error"` : html``;
}

export function sandboxSignInPage(context: PageContext, view: {
  tpp: TppView;
  psus: readonly { id: string; name: string; accounts: readonly unknown[] }[];
  forms: FormTargets;
  error?: string;
}): Html {
  const { t } = context;
  const title = t('signin.sandbox.title');
  return layout(context, title, html`
${tppBlock(context, view.tpp)}
<h1>${title}</h1>
<p>${t('signin.sandbox.intro')}</p>
${errorSummary(context, view.error)}
<form method="post" action="${view.forms.action}">
${csrfField(view.forms)}
<fieldset${invalid(view.error)}><legend>${t('signin.sandbox.legend')}</legend>
${view.psus.map((psu, index) => html`<div class="choice"><input type="radio" name="psu" id="psu-${index}" value="${psu.id}" required${index === 0 && !view.error ? html` autofocus` : ''}><label for="psu-${index}">${psu.name}<span class="detail">${t('signin.sandbox.accounts', { count: psu.accounts.length })}</span></label></div>`)}
</fieldset>
<div class="actions"><button type="submit" class="primary">${t('signin.sandbox.submit')}</button></div>
</form>
${cancelForm(context, view.tpp, view.forms)}`);
}

export function bankSignInPage(context: PageContext, view: { tpp: TppView; forms: FormTargets; login?: string; error?: string }): Html {
  const { t } = context;
  const title = t('signin.bank.title');
  return layout(context, title, html`
${tppBlock(context, view.tpp)}
<h1>${title}</h1>
<p>${t('signin.bank.intro', { tpp: view.tpp.name })}</p>
${errorSummary(context, view.error)}
<form method="post" action="${view.forms.action}">
${csrfField(view.forms)}
<label for="login">${t('signin.bank.login')}</label>
<input type="text" id="login" name="login" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="100" required value="${view.login ?? ''}"${invalid(view.error)}${view.error ? '' : html` autofocus`}>
<label for="password">${t('signin.bank.password')}</label>
<input type="password" id="password" name="password" autocomplete="current-password" maxlength="200" required${invalid(view.error)}>
<div class="actions"><button type="submit" class="primary">${t('signin.bank.submit')}</button></div>
</form>
${cancelForm(context, view.tpp, view.forms)}`);
}

export function secondFactorPage(context: PageContext, view: { tpp: TppView; forms: FormTargets; hint?: string; error?: string }): Html {
  const { t } = context;
  const title = t('signin.code.title');
  return layout(context, title, html`
${tppBlock(context, view.tpp)}
<h1>${title}</h1>
<p>${t('signin.code.intro')}</p>
${view.hint ? html`<p class="hint">${t('signin.code.hint', { hint: view.hint })}</p>` : ''}
${errorSummary(context, view.error)}
<form method="post" action="${view.forms.action}">
${csrfField(view.forms)}
<label for="code">${t('signin.code.label')}</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="20" required${invalid(view.error)}${view.error ? '' : html` autofocus`}>
<div class="actions"><button type="submit" class="primary">${t('signin.code.submit')}</button></div>
</form>
${cancelForm(context, view.tpp, view.forms)}`);
}

export function lockedPage(context: PageContext, view: { tpp: TppView; forms: FormTargets }): Html {
  const { t } = context;
  const title = t('signin.locked.title');
  return layout(context, title, html`
${tppBlock(context, view.tpp)}
<h1 id="locked" tabindex="-1" autofocus>${title}</h1>
<p role="alert">${t('signin.locked.text')}</p>
${cancelForm(context, view.tpp, view.forms)}`);
}

/** Formats an IBAN in groups of four, as printed on statements. */
export function formatIban(iban: string): string {
  return iban.replace(/(.{4})(?=.)/g, '$1 ');
}

export function consentPage(context: PageContext, view: {
  tpp: TppView;
  forms: FormTargets;
  scopes: readonly string[];
  /** Whether the access can be renewed without the PSU for 180 days (refresh token). */
  lasting: boolean;
  accounts: readonly PsuAccount[];
  selected?: readonly string[];
  error?: string;
}): Html {
  const { t } = context;
  const title = t('consent.title', { tpp: view.tpp.name });
  const meanings = view.scopes.map((scope) => t(`consent.scope.${scope}` as MessageKey));
  if (view.lasting) meanings.push(t('consent.duration'));
  const firstChoice = !view.error;
  return layout(context, title, html`
${tppBlock(context, view.tpp)}
<h1>${title}</h1>
<p>${t('consent.intro', { tpp: view.tpp.name })}</p>
<ul class="scopes">${meanings.map((meaning) => html`<li>${meaning}</li>`)}</ul>
${errorSummary(context, view.error)}
<form method="post" action="${view.forms.action}">
${csrfField(view.forms)}
${view.accounts.length ? html`<fieldset${invalid(view.error)}><legend>${t('consent.accounts.legend')}</legend>
<p class="hint" id="accounts-help">${t('consent.accounts.help')}</p>
${view.accounts.map((account, index) => html`<div class="choice"><input type="checkbox" name="accounts" id="account-${index}" value="${account.id}" aria-describedby="accounts-help"${view.selected?.includes(account.id) ? html` checked` : ''}${index === 0 && firstChoice ? html` autofocus` : ''}><label for="account-${index}">${account.name}<span class="detail">${[account.iban ? formatIban(account.iban) : '', account.currency ?? ''].filter(Boolean).join(' · ')}</span></label></div>`)}
</fieldset>` : html`<p>${t('consent.accounts.none')}</p>`}
<p class="hint">${t('consent.withdraw')}</p>
<div class="actions">
${view.accounts.length ? html`<button type="submit" name="decision" value="grant" class="primary">${t('consent.grant')}</button>` : ''}
<button type="submit" name="decision" value="refuse" class="secondary"${view.accounts.length ? '' : html` autofocus`}>${t('consent.refuse')}</button>
</div>
</form>
${cancelForm(context, view.tpp, view.forms)}`);
}

/**
 * A payment initiation or cancellation exactly as the bank's payment API registered it, formatted
 * for the PSU's language, with account numbers masked; the PSU confirms or rejects it.
 */
export function paymentPage(context: PageContext, view: {
  tpp: TppView;
  forms: FormTargets;
  detail: PaymentAuthorizationDetail;
  /** The PSU does not hold the account to debit: only rejecting is offered. */
  debtorNotHeld?: boolean;
}): Html {
  const { t, language } = context;
  const { detail } = view;
  const kind = detail.type === 'payment_cancellation' ? 'cancellation' : 'initiation';
  const title = t(`payment.${kind}.title`);
  const row = (label: MessageKey, value: string, className?: string) => html`<dt>${t(label)}</dt><dd${className ? html` class="${className}"` : ''}>${value}</dd>`;
  return layout(context, title, html`
${tppBlock(context, view.tpp)}
<h1>${title}</h1>
<p>${t(`payment.${kind}.intro`, { tpp: view.tpp.name })}</p>
<dl class="payment">
${row('payment.amount', formatAmount(detail.instructedAmount.amount, detail.instructedAmount.currency, language), 'amount')}
${row('payment.creditor', detail.creditorName)}
${row('payment.creditorAccount', maskIban(detail.creditorAccount.iban))}
${detail.debtorAccount ? row('payment.debtorAccount', maskIban(detail.debtorAccount.iban)) : ''}
${detail.remittanceInformationUnstructured ? row('payment.remittance', detail.remittanceInformationUnstructured) : ''}
${detail.requestedExecutionDate ? row('payment.executionDate', formatDate(detail.requestedExecutionDate, language)) : ''}
${row('payment.bankReference', detail.paymentId)}
</dl>
${errorSummary(context, view.debtorNotHeld ? t('payment.debtor.notHeld') : undefined)}
<form method="post" action="${view.forms.action}">
${csrfField(view.forms)}
${view.debtorNotHeld ? '' : html`<p class="hint">${t(`payment.${kind}.notice`)}</p>`}
<div class="actions">
${view.debtorNotHeld ? '' : html`<button type="submit" name="decision" value="grant" class="primary" autofocus>${t(`payment.${kind}.confirm`)}</button>`}
<button type="submit" name="decision" value="refuse" class="secondary"${view.debtorNotHeld ? html` autofocus` : ''}>${t(`payment.${kind}.reject`)}</button>
</div>
</form>
${cancelForm(context, view.tpp, view.forms)}`);
}

/**
 * A page that ends the PSU's way here, or leads back to the step (`continueHref`). `cancel` offers
 * "Cancel and return to …" where the authorization is still open: its redirect URI was checked
 * when it began, and oidc-provider sends the PSU there.
 */
export function errorPage(context: PageContext, view: {
  title: string;
  message: string;
  details?: { error: string; description?: string };
  continueHref?: string;
  cancel?: { tpp: TppView; forms: FormTargets };
}): Html {
  const { t } = context;
  return layout(context, view.title, html`
<h1 id="error-title" tabindex="-1" autofocus>${view.title}</h1>
<p>${view.message}</p>
${view.continueHref ? html`<p><a href="${view.continueHref}">${t('error.continue')}</a></p>` : ''}
${view.cancel ? cancelForm(context, view.cancel.tpp, view.cancel.forms) : ''}
${view.details ? html`<details><summary>${t('error.details')}</summary><p><code>${view.details.error}</code>${view.details.description ? html`: <code>${view.details.description}</code>` : ''}</p></details>` : ''}`);
}
