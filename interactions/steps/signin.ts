/**
 * The sign-in step: a test customer on the sandbox page; on the bank page the customer identifier
 * and password, checked by the bank's authenticator within the sign-in limits, then a second
 * factor when it asks for one.
 */
import type { Request, Response } from 'express';

import { epochSeconds } from '../../lib/clock.js';
import { redirectToStep } from '../ending.js';
import { chosenLanguage, formText, saveProgress, type Flow } from '../flow.js';
import { LoginLimits } from '../login-limits.js';
import { bankCall } from '../page-errors.js';
import { renderStep } from '../render.js';
import type { PageServices } from '../services.js';

async function sandboxSignIn(services: PageServices, flow: Flow, body: Record<string, unknown>, res: Response): Promise<void> {
  const psu = services.options.sandbox?.testPsus.find((candidate) => candidate.id === body.psu);
  if (!psu) return renderStep(services, res, flow, { status: 400, error: flow.t('signin.sandbox.missing') });
  await saveProgress(flow, { step: 'consent', csrf: flow.progress.csrf, ...chosenLanguage(flow), psuId: psu.id, scaTime: epochSeconds(services.options.now), amr: [] });
  services.recordJourney('signed_in');
  return redirectToStep(services, res, flow);
}

async function bankSignIn(services: PageServices, flow: Flow, req: Request, res: Response): Promise<void> {
  const { options, logger } = services;
  const limits = services.limits!;
  const body = req.body as Record<string, unknown>;
  const login = formText(body.login, 100).trim();
  const password = formText(body.password, 200);
  if (!login || !password) return renderStep(services, res, flow, { status: 400, error: flow.t('signin.bank.missing'), login });
  const psuKey = LoginLimits.psuKey(login);
  const ip = options.proxies.clientAddress(req);
  if (!await limits.begin(psuKey, ip)) {
    logger.warn({ event: 'psu.login_blocked', clientId: flow.client.clientId }, 'sign-in refused: too many attempts');
    return renderStep(services, res, flow, { status: 429, locked: true });
  }
  const result = await bankCall('authenticator', () => options.bank!.authenticator.verifyCredentials({ login, password, language: flow.language, ip }));
  if (result.outcome === 'failed') {
    const locked = await limits.exhausted(psuKey, ip);
    logger.info({ event: 'psu.login_failed', clientId: flow.client.clientId }, 'sign-in failed');
    return renderStep(services, res, flow, locked ? { status: 429, locked: true } : { status: 401, error: flow.t('signin.bank.failed'), login });
  }
  if (result.outcome === 'second_factor') {
    await limits.succeed(ip);
    // The PSU's codes are used up (maybe under another of their identifiers): say so now.
    if (await limits.exhausted(psuKey, ip, result.psuId)) return renderStep(services, res, flow, { status: 429, locked: true });
    await saveProgress(flow, {
      step: 'second_factor',
      csrf: flow.progress.csrf,
      ...chosenLanguage(flow),
      psuId: result.psuId,
      psuKey,
      ...(result.hint ? { hint: result.hint } : {}),
      ...(result.challenge ? { challenge: result.challenge } : {}),
    });
    return redirectToStep(services, res, flow);
  }
  await limits.succeed(ip, psuKey, result.psuId);
  await saveProgress(flow, { step: 'consent', csrf: flow.progress.csrf, ...chosenLanguage(flow), psuId: result.psuId, scaTime: epochSeconds(options.now), amr: result.amr ?? ['pwd'] });
  services.recordJourney('signed_in');
  return redirectToStep(services, res, flow);
}

/** POST signin. */
export async function signIn(services: PageServices, flow: Flow, req: Request, res: Response): Promise<void> {
  if (flow.progress.step !== 'signin') return redirectToStep(services, res, flow);
  if (flow.environment === 'sandbox') return sandboxSignIn(services, flow, req.body as Record<string, unknown>, res);
  return bankSignIn(services, flow, req, res);
}
