/**
 * "Cancel and return to …", on every page of the PSU's way: back to the TPP with access_denied;
 * in a payment authorization, the payment is rejected.
 */
import type { Request, Response } from 'express';

import { PSU_REFUSALS } from '../../lib/consent.js';
import { finishWithError } from '../ending.js';
import type { Flow } from '../flow.js';
import type { PageServices } from '../services.js';
import { cancelPaymentStep } from './payment.js';

/** POST cancel. */
export async function cancel(services: PageServices, flow: Flow, req: Request, res: Response): Promise<void> {
  services.logger.info({ event: 'psu.cancelled', clientId: flow.client.clientId, step: flow.progress.step }, 'the PSU cancelled');
  if (flow.payment) return cancelPaymentStep(services, flow, req, res);
  const description = flow.progress.step === 'consent' ? PSU_REFUSALS.refused : PSU_REFUSALS.cancelledSignIn;
  // The TPP learns of a refusal whatever the step: the journey counts it as one.
  services.recordJourney('consent_refused');
  return finishWithError(services, req, res, flow, 'access_denied', description);
}
