import type { Storage } from '../../storage.js';
import type { AnswerStep } from './step.js';

/**
 * RFC 7592 §2.3: a deleted client's grants and tokens go with it. Every other answer passes without
 * a promise (each costs a turn of the microtask queue where the steps run).
 */
export function removeDeletedClient(storage: Storage): AnswerStep {
  return (ctx) => {
    if (ctx.oidc?.route !== 'client_delete' || ctx.status !== 204) return;
    const clientId = String(ctx.oidc.params?.clientId ?? ctx.oidc.client?.clientId ?? '');
    return storage.removeClient(ctx.oidc.client?.clientId ?? clientId);
  };
}
