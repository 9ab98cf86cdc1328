/**
 * The consent step: the PSU grants the TPP access to the accounts they choose, or refuses; in a
 * payment authorization, the payment step instead.
 */
import type { Request, Response } from 'express';

import { consentRecord, decideConsent, PSU_REFUSALS } from '../../lib/consent.js';
import { finishWithError, finishWithGrant, redirectToStep } from '../ending.js';
import { accountsOf, tppSuspended, type Flow } from '../flow.js';
import { renderStep } from '../render.js';
import type { PageServices } from '../services.js';
import { decidePaymentStep } from './payment.js';

/** POST consent. */
export async function consent(services: PageServices, flow: Flow, req: Request, res: Response): Promise<void> {
  const { progress } = flow;
  if (progress.step !== 'consent') return redirectToStep(services, res, flow);
  const body = req.body as Record<string, unknown>;
  if (flow.payment) return decidePaymentStep(services, flow, progress, body.decision === 'grant', req, res);
  const chosen = ([] as unknown[]).concat(body.accounts ?? []).map(String);
  const decision = await decideConsent({
    granted: body.decision === 'grant',
    chosen,
    offered: () => accountsOf(services, flow, progress.psuId),
    suspended: () => tppSuspended(services, flow),
  });
  const clientId = flow.client.clientId;
  switch (decision.kind) {
    case 'refused':
      services.logger.info({ event: 'psu.consent_refused', clientId }, 'the PSU refused access');
      services.recordJourney('consent_refused');
      return finishWithError(services, req, res, flow, 'access_denied', PSU_REFUSALS.refused);
    case 'invalid_choice':
      return renderStep(services, res, flow, { status: 400, error: flow.t('consent.accounts.required'), selected: chosen, accounts: decision.offered });
    case 'suspended':
      return finishWithError(services, req, res, flow, 'unauthorized_client', PSU_REFUSALS.suspended);
    case 'granted': {
      const scope = String(flow.interaction.params.scope);
      const grantId = await finishWithGrant(services, res, flow, progress, { scope }, consentRecord(flow.environment, decision.shared, progress));
      services.logger.info({ event: 'psu.consent_granted', clientId, grantId, scope, accounts: decision.shared.length }, 'the PSU granted access');
      services.recordJourney('consent_granted');
    }
  }
}
