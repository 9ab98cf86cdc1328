/**
 * Where oidc-provider meets the PSD2 rules of an authorization request (lib/psd2/
 * authorization-request.ts): the facts are gathered here, the rules decide, a refusal goes back to
 * the TPP with its `state` (the client and redirect URI are known to be valid by now).
 */
import { errors, type KoaContextWithOIDC } from 'oidc-provider';

import type { EnvironmentName } from '../certificates/identity.js';
import type { ResolvedOptions } from '../options/index.js';
import { AUTHORIZATION_PARAMETER_LIMITS, oversizedParameter } from '../parameter-limits.js';
import type { PaymentRecords } from '../payments/records.js';
import type { PaymentRecord } from '../payments/types.js';
import { accountAccessRefusal, clientEnvironmentRefusal } from '../psd2/authorization-request.js';
import { scopeList } from '../psd2/tokens.js';
import { licenceRefusal } from '../tpp-register/decision.js';
import { clientField } from './client-view.js';
import { appendedChallenge } from './pkce.js';
import { refuse } from './refusals.js';
import { stateOf } from './request-state.js';
import type { LicenceCheck } from './token-rules.js';

/** What the rules need of the payment authorizations the bank's payment API opened. */
export type PaymentLinks = Pick<PaymentRecords, 'record' | 'isExpired' | 'decide' | 'firstVisit'>;

export interface AuthorizationRequestParts {
  readonly options: Pick<ResolvedOptions, 'environments' | 'sandbox' | 'bank' | 'mountPath'>;
  isSuspended(organization: string): Promise<boolean>;
  readonly payments: PaymentLinks;
  /** The register of TPP licences, when the bank configured one: a TPP it refuses sends no PSU through SCA. */
  readonly licences?: LicenceCheck | undefined;
}

type Client = { clientId: string; metadata(): Record<string, unknown> };

/** The pushed authorization request a payment authorization is, when the request is one. */
export function pushedRequestOf(ctx: KoaContextWithOIDC): { jti: string } | undefined {
  return ctx.oidc.entities.PushedAuthorizationRequest as { jti: string } | undefined;
}

/** The PSD2 check of every authorization request, run by oidc-provider as it validates the scope. */
export function authorizationRequestCheck(parts: AuthorizationRequestParts) {
  const { options, payments } = parts;
  const served = new Set(options.environments.map((environment) => environment.name));
  const entryPathOf = (environment: EnvironmentName): string | undefined => {
    const page = environment === 'sandbox' ? options.sandbox?.entryPath : options.bank?.entryPath;
    return page ? `${options.mountPath}${page}` : undefined;
  };

  /**
   * A payment authorization arrives as a request_uri that the bank's payment API obtained; a TPP
   * cannot push requests of its own, nor send authorization_details or pisp directly.
   */
  const checkPaymentRequest = async (ctx: KoaContextWithOIDC, pushed: { jti: string } | undefined, record: PaymentRecord | undefined, client: Client | undefined): Promise<void> => {
    if (!pushed) {
      throw new errors.InvalidRequest('authorization_details are accepted only in payment authorizations opened by the bank\'s payment API (request_uri)');
    }
    if (!record || record.clientId !== client?.clientId) throw new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used');
    if (payments.isExpired(record) || record.outcome) {
      if (!record.outcome) await payments.decide(pushed.jti, record, 'expired');
      throw new errors.InvalidRequestUri('this payment authorization has expired or was already decided');
    }
    if (!await payments.firstVisit(pushed.jti)) {
      throw new errors.InvalidRequestUri('this payment authorization link was already used; the payment service provider must start again');
    }
    // Read after oidc-provider's own PKCE checks: the code is made from these parameters.
    const appended = ctx.oidc.params!.code_challenge === undefined ? appendedChallenge(ctx) : undefined;
    if (appended) Object.assign(ctx.oidc.params!, appended);
  };

  return async (ctx: KoaContextWithOIDC, scope: string | undefined, client?: Client): Promise<void> => {
    const state = stateOf(ctx.req);
    if (state.oversizedState) {
      throw new errors.InvalidRequest(`state must be at most ${AUTHORIZATION_PARAMETER_LIMITS.state} characters; an over-long state is not returned`);
    }
    const oversized = oversizedParameter(ctx.oidc.params ?? {});
    if (oversized) throw new errors.InvalidRequest(`${oversized.name} must be at most ${oversized.limit} characters`);
    const pushed = pushedRequestOf(ctx);
    // oidc-provider has checked by now that a pushed request is this client's: its state comes back.
    const payment = pushed ? await payments.record(pushed.jti) : undefined;
    if (payment?.state !== undefined && payment.clientId === client?.clientId) ctx.oidc.params!.state = payment.state;
    const environment = clientField(client, 'psd2_environment') as EnvironmentName | undefined;
    const organization = clientField(client, 'provider_legal_id');
    const known = environment !== undefined && served.has(environment);
    refuse(clientEnvironmentRefusal({
      environment,
      served: known,
      suspended: known && typeof organization === 'string' && await parts.isSuspended(organization),
      entryEnvironment: state.entry?.environment,
      ownEntryPath: environment && known ? entryPathOf(environment) : undefined,
    }));
    if (known && typeof organization === 'string' && parts.licences) {
      // A payment authorization is a payment initiation whatever its scope says.
      const paying = pushed !== undefined || ctx.oidc.params?.authorization_details !== undefined;
      const scopes = [...new Set([...scopeList(scope), ...(paying ? ['pisp'] : [])])];
      const licence = parts.licences.check({ organizationIdentifier: organization, environment }, scopes, 'authorization');
      if (licence) refuse(licenceRefusal(licence));
    }
    if (state.entry?.language) {
      ctx.oidc.params!.ui_locales = [state.entry.language, ctx.oidc.params!.ui_locales].filter(Boolean).join(' ');
    }
    if (pushed || ctx.oidc.params?.authorization_details !== undefined) {
      await checkPaymentRequest(ctx, pushed, payment, client);
      return;
    }
    refuse(accountAccessRefusal({ hasResource: ctx.oidc.params?.resource !== undefined, scope }));
  };
}
