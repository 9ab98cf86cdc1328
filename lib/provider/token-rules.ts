/**
 * Where oidc-provider meets the PSD2 token rules (lib/psd2/token-policy.ts): refresh, the
 * client_credentials grant, refresh token issuance, and the roles of the certificate presented now.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';

import { epochSeconds } from '../clock.js';
import type { EnvironmentName } from '../certificates/identity.js';
import type { ResolvedOptions } from '../options/index.js';
import type { RequestIdentities } from '../request-identity.js';
import { consentEnd, scopeList } from '../psd2/tokens.js';
import { CLIENT_CREDENTIALS_DEFAULT_SCOPE, clientCredentialsRefusal, missingRolesRefusal, refreshDecision } from '../psd2/token-policy.js';
import { licenceRefusal } from '../tpp-register/decision.js';
import type { TppLicences } from '../tpp-register/licences.js';
import { clientField } from './client-view.js';
import { consentOf } from './internals.js';
import { refuse } from './refusals.js';

/** The register of TPP licences, looked up in memory (lib/tpp-register/licences.ts). */
export type LicenceCheck = Pick<TppLicences, 'check'>;

export interface TokenRuleParts {
  readonly options: Pick<ResolvedOptions, 'tokens' | 'now'>;
  readonly identities: RequestIdentities;
  readonly licences?: LicenceCheck | undefined;
}

/** oidc-provider's token hooks, carrying the PSD2 rules. */
export function tokenRules(parts: TokenRuleParts) {
  const { options, identities, licences } = parts;
  const rolesOf = (ctx: KoaContextWithOIDC) => identities.find(ctx.req)?.roles ?? [];

  /**
   * End of the consent a grant records, by its environment's consent lifetime; grants without a
   * record end that of their client's environment after they began.
   */
  const endOfConsent = (grant: { iat?: number } | undefined, client?: object): number => {
    const consent = consentOf(grant);
    const environment = consent?.environment ?? clientField(client, 'psd2_environment') as EnvironmentName | undefined;
    return consentEnd({ scaTime: consent?.scaTime ?? grant?.iat ?? epochSeconds(options.now), environment }, options.tokens.consentLifetime);
  };

  return {
    endOfConsent,

    /**
     * Runs at each refresh once oidc-provider has checked the token, its client and its binding,
     * before anything is consumed or issued: every refusal here leaves the refresh token as it was.
     */
    rotateRefreshToken(ctx: KoaContextWithOIDC): boolean {
      const decision = refreshDecision({
        consentEnd: endOfConsent(ctx.oidc.entities.Grant, ctx.oidc.client),
        now: epochSeconds(options.now),
        requested: ctx.oidc.params?.scope,
        held: ctx.oidc.entities.RefreshToken?.scope,
        roles: rolesOf(ctx),
      });
      if ('refusal' in decision) refuse(decision.refusal);
      else if (!scopeList(ctx.oidc.params?.scope).length) ctx.oidc.params!.scope = decision.scopes.join(' ');
      return options.tokens.rotateRefreshTokens;
    },

    /** Runs before a token is stored: the roles it needs, and the one scope of client_credentials. */
    checkToken(ctx: KoaContextWithOIDC | undefined, token: { kind: string; scope?: string | undefined }): void {
      if (ctx) refuse(missingRolesRefusal(scopeList(token.scope), rolesOf(ctx)));
      // The register's word on the TPP presenting its certificate now (a licence may have been withdrawn).
      const identity = ctx && licences ? identities.find(ctx.req) : undefined;
      const licence = identity && licences?.check(identity, scopeList(token.scope), 'token');
      if (licence) refuse(licenceRefusal(licence));
      if (token.kind === 'ClientCredentials') refuse(clientCredentialsRefusal(token.scope));
    },

    /**
     * RFC 6749 §3.3 default: a client_credentials request without `scope` asks for the one scope of
     * that grant. Set as the client authenticates, before oidc-provider reads the scope.
     */
    defaultClientCredentialsScope(ctx: KoaContextWithOIDC): void {
      const params = ctx.oidc.params;
      if (ctx.oidc.route === 'token' && params?.grant_type === 'client_credentials' && !params.scope) params.scope = CLIENT_CREDENTIALS_DEFAULT_SCOPE;
    },
  };
}
