/**
 * The second step of the bank sign-in: the one-time code, checked by the bank's authenticator
 * within the PSU's budget of codes.
 */
import type { Request, Response } from 'express';

import { epochSeconds } from '../../lib/clock.js';
import { redirectToStep } from '../ending.js';
import { chosenLanguage, formText, saveProgress, type Flow } from '../flow.js';
import { bankCall } from '../page-errors.js';
import { renderStep } from '../render.js';
import type { PageServices } from '../services.js';

/** POST second-factor. */
export async function secondFactor(services: PageServices, flow: Flow, req: Request, res: Response): Promise<void> {
  const { options, logger } = services;
  const limits = services.limits!;
  const { progress } = flow;
  if (progress.step !== 'second_factor') return redirectToStep(services, res, flow);
  const code = formText((req.body as Record<string, unknown>).code, 20).trim();
  if (!code) return renderStep(services, res, flow, { status: 400, error: flow.t('signin.code.missing') });
  const ip = options.proxies.clientAddress(req);
  if (!await limits.begin(progress.psuKey, ip, progress.psuId)) return renderStep(services, res, flow, { status: 429, locked: true });
  const result = await bankCall('authenticator', () => options.bank!.authenticator.verifySecondFactor({
    psuId: progress.psuId,
    challenge: progress.challenge,
    code,
    language: flow.language,
    ip,
  }));
  if (result.outcome === 'failed') {
    const locked = await limits.exhausted(progress.psuKey, ip, progress.psuId);
    logger.info({ event: 'psu.second_factor_failed', clientId: flow.client.clientId }, 'second factor failed');
    return renderStep(services, res, flow, locked ? { status: 429, locked: true } : { status: 401, error: flow.t('signin.code.failed') });
  }
  await limits.succeed(ip, progress.psuKey, progress.psuId);
  await saveProgress(flow, { step: 'consent', csrf: progress.csrf, ...chosenLanguage(flow), psuId: progress.psuId, scaTime: epochSeconds(options.now), amr: result.amr ?? ['pwd', 'otp', 'mfa'] });
  // Signed in once the second factor is through: the journey's sign-in is the whole SCA.
  services.recordJourney('signed_in');
  return redirectToStep(services, res, flow);
}
