/**
 * The PSD2 rules of an authorization request (DESIGN 3.1, 3.2), as a pure function of what the
 * provider layer has gathered about it: the client's environment, whether the bank suspended its
 * TPP, the entry page it came through, and the parameters.
 */
import type { EnvironmentName } from '../certificates/identity.js';
import { authorizationScopeSet } from './authorization.js';
import type { Refusal } from './refusal.js';

export interface AuthorizationRequestFacts {
  /** The `psd2_environment` of the client. */
  readonly environment: EnvironmentName | undefined;
  /** Whether this server serves that environment. */
  readonly served: boolean;
  /** Whether the bank suspended the client's organization. */
  readonly suspended: boolean;
  /** The environment of the entry page the request came through, if it came through one. */
  readonly entryEnvironment: EnvironmentName | undefined;
  /** The entry path (under the mount path) of the client's own environment, if it has one. */
  readonly ownEntryPath: string | undefined;
  /** Whether the request carries `resource` (RFC 8707). */
  readonly hasResource: boolean;
  /** The `scope` parameter. */
  readonly scope: string | undefined;
}

/** A TPP the bank suspended gets no authorization, at the request or when the PSU comes back. */
export const SUSPENDED_TPP: Refusal = { error: 'unauthorized_client', description: 'the bank has suspended this TPP' };

/** The rules every authorization request meets, payment authorizations included. */
export function clientEnvironmentRefusal(facts: Omit<AuthorizationRequestFacts, 'hasResource' | 'scope'>): Refusal | undefined {
  const { environment } = facts;
  if (!environment || !facts.served) {
    return { error: 'invalid_request', description: `this client is registered in the ${environment ?? 'unknown'} environment, which this server does not serve` };
  }
  if (facts.suspended) return SUSPENDED_TPP;
  if (facts.entryEnvironment && facts.entryEnvironment !== environment) {
    return {
      error: 'invalid_request',
      description: `this client is registered in the ${environment} environment and cannot use the ${facts.entryEnvironment} sign-in page${facts.ownEntryPath ? `; send the PSU to ${facts.ownEntryPath}` : ''}`,
    };
  }
  return undefined;
}

/**
 * Account access: one of the scope sets a PSU can grant, and no resource indicator. The payment
 * API is the one resource indicator, and the server sets it itself in payment authorizations:
 * account access tokens never carry an audience (RFC 8707 §2: invalid_target).
 */
export function accountAccessRefusal(facts: Pick<AuthorizationRequestFacts, 'hasResource' | 'scope'>): Refusal | undefined {
  if (facts.hasResource) {
    return { error: 'invalid_target', description: 'resource (RFC 8707) is accepted only in payment authorizations opened by the bank\'s payment API; account access has no resource indicator' };
  }
  const result = authorizationScopeSet(facts.scope);
  return 'problem' in result ? { error: 'invalid_scope', description: result.problem, scope: facts.scope ?? '' } : undefined;
}
