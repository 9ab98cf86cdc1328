/**
 * What every storage reads of a record to index it, and the error of a second `consume`: shared by
 * the memory and Redis storages so that both keep the same indexes and answer alike.
 */
import { errors } from 'oidc-provider';

/** Models whose records belong to a client through their `clientId` payload field. */
export function ownerOf(model: string, id: string, payload: { clientId?: unknown; client_id?: unknown }): string | undefined {
  if (model === 'Client') return id;
  return typeof payload.clientId === 'string' ? payload.clientId : undefined;
}

/** The PSU of a `Grant` record. */
export function accountOf(model: string, payload: { accountId?: unknown }): string | undefined {
  return model === 'Grant' && typeof payload.accountId === 'string' ? payload.accountId : undefined;
}

/** The organization of a `Client` record. */
export function organizationOf(model: string, payload: object): string | undefined {
  const organization = (payload as { provider_legal_id?: unknown }).provider_legal_id;
  return model === 'Client' && typeof organization === 'string' ? organization : undefined;
}

/**
 * The error of a second `consume`: a code or refresh token is `invalid_grant`; a pushed
 * authorization request (a payment authorization, consumed as its code is issued) is
 * `invalid_request_uri`, the authorization endpoint's own error for it.
 */
export function consumeFailure(model: string, description: string): Error {
  return model === 'PushedAuthorizationRequest'
    ? new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used')
    : new errors.InvalidGrant(description);
}
