/**
 * The page of the PSU's step: sign-in (sandbox or bank), second factor, consent or payment, or the
 * locked sign-in, with what the last post left to say.
 */
import type { Response } from 'express';

import type { PsuAccount } from '../lib/psu.js';
import { issuesRefreshToken } from '../lib/psd2/token-policy.js';
import { scopeList } from '../lib/psd2/tokens.js';
import { accountsOf, type Flow } from './flow.js';
import type { Html } from './html.js';
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

async function stepPage(services: PageServices, flow: Flow, state: StepState): Promise<Html> {
  const { context, tpp, progress } = flow;
  if (state.locked) return lockedPage(context, { tpp, forms: flow.forms('signin') });
  const error = state.error ? { error: state.error } : {};
  if (progress.step === 'signin' && flow.environment === 'sandbox') {
    return sandboxSignInPage(context, { tpp, psus: services.options.sandbox?.testPsus ?? [], forms: flow.forms('signin'), ...error });
  }
  if (progress.step === 'signin') return bankSignInPage(context, { tpp, forms: flow.forms('signin'), ...(state.login ? { login: state.login } : {}), ...error });
  if (progress.step === 'second_factor') {
    return secondFactorPage(context, { tpp, forms: flow.forms('second-factor'), ...(progress.hint ? { hint: progress.hint } : {}), ...error });
  }
  if (flow.payment) return paymentPage(context, { tpp, forms: flow.forms('consent'), detail: flow.payment.detail, ...(state.debtorNotHeld ? { debtorNotHeld: true } : {}) });
  const scope = String(flow.interaction.params.scope);
  return consentPage(context, {
    tpp,
    forms: flow.forms('consent'),
    scopes: scopesShown(scope),
    lasting: issuesRefreshToken(flow.client.grantTypeAllowed('refresh_token'), scopeList(scope)),
    accounts: state.accounts ?? await accountsOf(services, flow, progress.psuId),
    ...(state.selected ? { selected: state.selected } : {}),
    ...error,
  });
}

/** Sends the page of the PSU's step. */
export async function renderStep(services: PageServices, res: Response, flow: Flow, state: StepState = {}): Promise<void> {
  sendPage(services.options, res, state.status ?? 200, await stepPage(services, flow, state), flow.security);
}
