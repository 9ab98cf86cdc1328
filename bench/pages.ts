/**
 * The baselines' PSU pages, as small as can be, with the same steps (and so the same 7 requests
 * per flow) as the product's: the interaction page (sign-in form, then consent form), sign-in
 * (303 back to the interaction page), consent (the grant saved, 303 to the authorization
 * endpoint's resume). As an Express router for the Express mounts, and as a plain request handler
 * for oidc-provider served by node:https directly.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import express, { type Router } from 'express';
import type Provider from 'oidc-provider';

import { SANDBOX_PSU } from './protocol.js';

type Fields = Readonly<Record<string, unknown>>;

function form(mountPath: string, uid: string, action: string, fields: string): string {
  return `<!doctype html><title>${action}</title><form method="post" action="${mountPath}/interaction/${uid}/${action}"><input type="hidden" name="csrf" value="${randomBytes(16).toString('base64url')}">${fields}<button>ok</button></form>`;
}

async function show(provider: Provider, mountPath: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const html = details.result?.login
    ? form(mountPath, details.uid, 'consent', SANDBOX_PSU.accounts.map((account) => `<input type="checkbox" name="accounts" value="${account.id}">`).join(''))
    : form(mountPath, details.uid, 'signin', `<input type="radio" name="psu" value="${SANDBOX_PSU.id}">`);
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
}

async function signIn(provider: Provider, mountPath: string, req: IncomingMessage, res: ServerResponse, fields: Fields): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  await provider.interactionResult(req, res, { login: { accountId: String(fields.psu) } }, { mergeWithLastSubmission: false });
  res.writeHead(303, { location: `${mountPath}/interaction/${details.uid}` }).end();
}

async function consent(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const accountId = String((details.result?.login as { accountId?: string } | undefined)?.accountId);
  const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

/** The pages as an Express router, to mount at `${mountPath}/interaction`. */
export function pagesRouter(provider: Provider, mountPath: string): Router {
  const router = express.Router();
  const urlencoded = express.urlencoded({ extended: false });
  router.get('/:uid', (req, res, next) => {
    show(provider, mountPath, req, res).catch(next);
  });
  router.post('/:uid/signin', urlencoded, (req, res, next) => {
    signIn(provider, mountPath, req, res, req.body as Fields).catch(next);
  });
  router.post('/:uid/consent', urlencoded, (req, res, next) => {
    consent(provider, req, res).catch(next);
  });
  return router;
}

function readForm(req: IncomingMessage): Promise<Fields> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))));
    req.on('error', reject);
  });
}

/**
 * The pages as a plain handler: answers `${mountPath}/interaction/…` requests and returns true, or
 * returns false for any other path.
 */
export function pagesHandler(provider: Provider, mountPath: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  const prefix = `${mountPath}/interaction/`;
  const fail = (res: ServerResponse) => (error: unknown) => {
    console.error('anchor page:', error);
    if (!res.headersSent) res.writeHead(500).end();
  };
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith(prefix)) return false;
    const action = url.slice(prefix.length).split('?')[0]!.split('/')[1];
    if (req.method === 'GET' && action === undefined) {
      show(provider, mountPath, req, res).catch(fail(res));
    } else if (req.method === 'POST' && action === 'signin') {
      readForm(req).then((fields) => signIn(provider, mountPath, req, res, fields)).catch(fail(res));
    } else if (req.method === 'POST' && action === 'consent') {
      req.resume();
      req.once('end', () => consent(provider, req, res).catch(fail(res)));
    } else {
      res.writeHead(404).end();
    }
    return true;
  };
}
