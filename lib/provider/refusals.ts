import { errors } from 'oidc-provider';

import type { Refusal } from '../psd2/refusal.js';

/** A PSD2 rule's refusal as the oidc-provider error that renders it (status, redirect with state). */
export function providerError(refusal: Refusal): Error {
  const { error, description } = refusal;
  switch (error) {
    case 'invalid_request': return new errors.InvalidRequest(description);
    case 'invalid_request_uri': return new errors.InvalidRequestUri(description);
    case 'invalid_scope': return new errors.InvalidScope(description, refusal.scope ?? '');
    case 'invalid_target': return new errors.InvalidTarget(description);
    case 'unauthorized_client': return new errors.UnauthorizedClient(description);
    case 'invalid_grant': return new errors.CustomOIDCProviderError(error, description);
  }
}

/** Throws the refusal, if there is one. */
export function refuse(refusal: Refusal | undefined): void {
  if (refusal) throw providerError(refusal);
}
