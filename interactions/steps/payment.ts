/**
 * The payment step of a payment authorization: the PSU confirms or rejects the payment the bank's
 * payment API registered, or walks away. lib/payments/decisions.ts decides; the page follows.
 */
import type { Request, Response } from 'express';

import { consentRecord } from '../../lib/consent.js';
import { cancelPayment, decidePayment, EXPIRED_PAYMENT, paymentGrant, paymentKind, type UngrantedDecision } from '../../lib/payments/decisions.js';
import { finishWithError, finishWithGrant, redirectToStep } from '../ending.js';
import { accountsOf, tppSuspended, type Flow, type SignedIn } from '../flow.js';
import { SessionMismatch } from '../page-errors.js';
import { renderStep } from '../render.js';
import type { PageServices } from '../services.js';

/** The payment's lifetime was over before the PSU decided: the journey ends as expired. */
const expired = (decision: UngrantedDecision): boolean => decision.kind === 'denied' && decision.description === EXPIRED_PAYMENT;

/** Where a decision that gives no grant leads the PSU. */
function follow(services: PageServices, req: Request, res: Response, flow: Flow, decision: UngrantedDecision): Promise<void> | void {
  switch (decision.kind) {
    case 'unknown':
      throw new SessionMismatch();
    case 'pending':
      return redirectToStep(services, res, flow);
    case 'debtor_not_held':
      return renderStep(services, res, flow, { status: 403, debtorNotHeld: true });
    case 'suspended':
      return finishWithError(services, req, res, flow, 'unauthorized_client', decision.description);
    case 'rejected':
    case 'denied':
      return finishWithError(services, req, res, flow, 'access_denied', decision.description);
  }
}

/**
 * The PSU's decision on the payment: recorded and told to the bank once, whatever the number of
 * concurrent posts (a post that loses the race goes back to the page, which carries on to the TPP
 * once the winner is through). The TPP gets a code for a confirmed payment, access_denied otherwise.
 */
export async function decidePaymentStep(services: PageServices, flow: Flow, progress: SignedIn, confirmed: boolean, req: Request, res: Response): Promise<void> {
  const payment = flow.payment!;
  const clientId = flow.client.clientId;
  const decision = await decidePayment(services.payments, {
    payment,
    clientId,
    psu: { psuId: progress.psuId, scaTime: progress.scaTime },
    confirmed,
    accounts: () => accountsOf(services, flow, progress.psuId),
    suspended: () => tppSuspended(services, flow),
  });
  if (decision.kind === 'confirmed') {
    const grant = paymentGrant(payment.detail, services.options.payments.resource);
    const grantId = await finishWithGrant(services, res, flow, progress, grant, consentRecord(flow.environment, decision.debtor ? [decision.debtor] : [], progress));
    services.logger.info({ event: 'psu.payment_confirmed', clientId, grantId, paymentAuthorization: payment.id }, `the PSU confirmed the ${paymentKind(payment.detail)}`);
    services.recordJourney('payment_confirmed');
    return;
  }
  if (decision.kind === 'rejected') {
    services.logger.info({ event: 'psu.payment_rejected', clientId, paymentAuthorization: payment.id }, decision.description);
    services.recordJourney('payment_rejected');
  }
  if (expired(decision)) services.recordJourney('expired');
  await follow(services, req, res, flow, decision);
}

/** The PSU cancelled a payment authorization, at whatever step: the payment is rejected (or expired). */
export async function cancelPaymentStep(services: PageServices, flow: Flow, req: Request, res: Response): Promise<void> {
  const { progress } = flow;
  const psu = 'psuId' in progress ? { psuId: progress.psuId } : undefined;
  const decision = await cancelPayment(services.payments, flow.payment!, psu);
  if (decision.kind === 'denied') services.recordJourney(expired(decision) ? 'expired' : 'payment_rejected');
  await follow(services, req, res, flow, decision);
}
