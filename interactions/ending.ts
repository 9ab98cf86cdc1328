/**
 * How a step ends: on to the PSU's next page, or back to the TPP through oidc-provider, with an
 * error or with the PSU's grant.
 */
import type { Request, Response } from 'express';

import type { ConsentRecord } from '../lib/psd2/authorization.js';
import {
  grantedResult,
  mintGrant,
  saveInteractionResult,
  type GrantContent,
  type InteractionRecord,
} from '../lib/provider/internals.js';
import type { Flow, SignedIn } from './flow.js';
import { seeOther } from './render-context.js';
import type { PageServices } from './services.js';

/** On to the page of the PSU's current step. */
export function redirectToStep(services: PageServices, res: Response, flow: Flow): void {
  seeOther(res, `${services.base}/${flow.interaction.uid}`);
}

/**
 * Ends the interaction with `result` and sends the PSU on (oidc-provider then redirects to the
 * TPP); the interaction at hand saves a read.
 */
export async function finish(services: PageServices, req: Request, res: Response, result: Record<string, unknown>, interaction?: InteractionRecord): Promise<void> {
  if (!interaction) {
    seeOther(res, await services.provider.interactionResult(req, res, result, { mergeWithLastSubmission: false }));
    return;
  }
  await saveInteractionResult(interaction, result);
  seeOther(res, interaction.returnTo);
}

/** Back to the TPP with an OAuth error (RFC 6749 §4.1.2.1). */
export function finishWithError(services: PageServices, req: Request, res: Response, flow: Flow, error: 'access_denied' | 'unauthorized_client', description: string): Promise<void> {
  return finish(services, req, res, { error, error_description: description }, flow.interaction);
}

/**
 * Saves the PSU's grant and ends the interaction with it, both writes sent together: the grant's
 * id is drawn first (save keeps it). Answers the grant's id. Should the grant alone fail to be
 * stored, the PSU gets the page asking to try again, and the resume, finding no grant, starts the
 * authorization over with a new sign-in.
 */
export async function finishWithGrant(services: PageServices, res: Response, flow: Flow, progress: SignedIn, content: GrantContent, consent: ConsentRecord): Promise<string> {
  const psu = { psuId: progress.psuId, scaTime: progress.scaTime, amr: progress.amr };
  const { grantId, save } = mintGrant(services.provider, psu, flow.client.clientId, content, consent);
  await Promise.all([save(), saveInteractionResult(flow.interaction, grantedResult(psu, grantId))]);
  seeOther(res, flow.interaction.returnTo);
  return grantId;
}
