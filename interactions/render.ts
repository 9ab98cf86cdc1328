/**
 * The page of the PSU's step: sign-in (sandbox or bank), second factor, consent or payment, or the
 * locked sign-in, with what the last post left to say.
 */
import type { Response } from 'express';

import type { PsuAccount } from '../lib/psu.js';
import { issuesRefreshToken } from '../lib/psd2/token-policy.js';
import { scopeList } from '../lib/psd2/tokens.js';
import { accountsOf, PageTargets, type Flow } from './flow.js';
import { Html } from './html.js';
import { sendPage } from './render-context.js';
import type { PageServices } from './services.js';
import {
  bankSignInPage,
  consentPage,
  lockedPage,
  paymentPage,
  sandboxSignInPage,
  secondFactorPage,
} from './views/pages.js';

/** What the last post left to show on the step's page. */
export interface StepState {
  readonly status?: number;
  readonly error?: string;
  readonly login?: string;
  readonly locked?: boolean;
  readonly selected?: readonly string[];
  readonly accounts?: readonly PsuAccount[];
  readonly debtorNotHeld?: boolean;
}

/** The scopes in the order the consent page explains them: account access first. */
function scopesShown(scope: string): string[] {
  return scope.split(' ').sort((a, b) => (a === 'aisp' ? -1 : b === 'aisp' ? 1 : 0));
}

/** The page of a step, drawn with the context and form targets it is given. */
interface StepPage {
  /**
   * When the page differs from PSU to PSU only by the interaction and the form token: what else it
   * shows, the key of its template.
   */
  readonly key?: string;
  render(targets: PageTargets): Html;
}

async function stepPage(services: PageServices, flow: Flow, state: StepState): Promise<StepPage> {
  const { tpp, progress } = flow;
  // What the last post left (an error, the login typed, the choice made) makes the page the PSU's own.
  const shared = Object.keys(state).length === 0;
  const keyOf = (...parts: unknown[]): string | undefined => (shared ? JSON.stringify([flow.language, flow.environment, tpp, ...parts]) : undefined);
  if (state.locked) return { render: (targets) => lockedPage(targets.context, { tpp, forms: targets.forms('signin') }) };
  const error = state.error ? { error: state.error } : {};
  if (progress.step === 'signin' && flow.environment === 'sandbox') {
    const psus = services.options.sandbox?.testPsus ?? [];
    return { key: keyOf('sandbox-signin'), render: (targets) => sandboxSignInPage(targets.context, { tpp, psus, forms: targets.forms('signin'), ...error }) };
  }
  if (progress.step === 'signin') {
    return { key: keyOf('bank-signin'), render: (targets) => bankSignInPage(targets.context, { tpp, forms: targets.forms('signin'), ...(state.login ? { login: state.login } : {}), ...error }) };
  }
  if (progress.step === 'second_factor') {
    return { render: (targets) => secondFactorPage(targets.context, { tpp, forms: targets.forms('second-factor'), ...(progress.hint ? { hint: progress.hint } : {}), ...error }) };
  }
  const { payment } = flow;
  if (payment) return { render: (targets) => paymentPage(targets.context, { tpp, forms: targets.forms('consent'), detail: payment.detail, ...(state.debtorNotHeld ? { debtorNotHeld: true } : {}) }) };
  const scope = String(flow.interaction.params.scope);
  const lasting = issuesRefreshToken(flow.client.grantTypeAllowed('refresh_token'), scopeList(scope));
  const accounts = state.accounts ?? await accountsOf(services, flow, progress.psuId);
  return {
    key: keyOf('consent', scope, lasting, accounts),
    render: (targets) => consentPage(targets.context, {
      tpp,
      forms: targets.forms('consent'),
      scopes: scopesShown(scope),
      lasting,
      accounts,
      ...(state.selected ? { selected: state.selected } : {}),
      ...error,
    }),
  };
}

/** The page of one PSU: from its template when it has one, else drawn for them. */
function pageText(services: PageServices, flow: Flow, page: StepPage): string {
  if (page.key === undefined) return page.render(flow.targets).value;
  const { templates } = services;
  const template = templates.template(page.key, (uid, csrf) => page.render(new PageTargets(services, flow.language, flow.environment, uid, csrf)).value);
  return templates.fill(template, flow.interaction.uid, flow.progress.csrf);
}

/** Sends the page of the PSU's step. */
export async function renderStep(services: PageServices, res: Response, flow: Flow, state: StepState = {}): Promise<void> {
  const page = await stepPage(services, flow, state);
  sendPage(res, state.status ?? 200, new Html(pageText(services, flow, page)), flow.security);
}
