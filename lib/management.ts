import type Provider from 'oidc-provider';

import { epochSeconds } from './clock.js';
import type { Logger } from './logger.js';
import type { ResolvedOptions } from './options/index.js';
import { consentOf, destroyGrant, findClient, findGrant } from './provider/internals.js';
import type { ConsentRecord } from './psd2/authorization.js';
import { consentEnd } from './psd2/tokens.js';
import type { Storage } from './storage.js';
import type { Suspensions } from './suspensions.js';

/** A PSU's consent to a TPP, as the bank's own apps show it. */
export interface ConsentSummary {
  /** Identifies the consent (the grant) for {@link Management.withdrawConsent}. */
  readonly grantId: string;
  readonly clientId: string;
  /** The TPP's registered name (untagged). */
  readonly clientName: string | undefined;
  /** The TPP's organizationIdentifier, e.g. `PSDFR-ACPR-12345`. */
  readonly providerLegalId: string | undefined;
  readonly environment: string;
  readonly scope: string;
  readonly accounts: ConsentRecord['accounts'];
  /** Time of the PSU's strong customer authentication. */
  readonly scaTime: Date;
  /** When the consent ends. */
  readonly expiresAt: Date;
}

/** What the bank's own apps (online banking, back office) do with consents and TPPs. */
export interface Management {
  /** The PSU's consents that are still in force, newest first. */
  consentsOf(psuId: string): Promise<ConsentSummary[]>;
  /**
   * Withdraws one of the PSU's consents: the grant and every token issued under it are revoked at
   * once. False when the PSU holds no such consent.
   */
  withdrawConsent(psuId: string, grantId: string): Promise<boolean>;
  /**
   * Suspends a TPP organization: its clients stop working (registration, token, revocation,
   * authorization) and every grant and token they hold is revoked. Returns its clients. With
   * `suspensionCacheTtl`, this instance refuses the organization at once and other instances
   * within that delay; the call returns after sweeping the organization's tokens again once it passed.
   */
  suspendOrganization(providerLegalId: string): Promise<{ clientIds: string[] }>;
  /** Lifts a suspension; revoked consents stay revoked. */
  reinstateOrganization(providerLegalId: string): Promise<void>;
  isSuspended(providerLegalId: string): Promise<boolean>;
}

export interface ManagementParts {
  readonly provider: Provider;
  readonly storage: Storage;
  readonly suspensions: Suspensions;
  readonly options: Pick<ResolvedOptions, 'tokens' | 'now'>;
  readonly logger: Logger;
}

export function createManagement({ provider, storage, suspensions, options, logger }: ManagementParts): Management {
  const sweep = async (providerLegalId: string): Promise<string[]> => {
    const clientIds = await storage.clientIdsOf(providerLegalId);
    for (const clientId of clientIds) await storage.removeClient(clientId, { keepMetadata: true });
    return clientIds;
  };

  const revokeGrant = async (grantId: string): Promise<void> => {
    await Promise.all([
      provider.AccessToken.revokeByGrantId(grantId),
      provider.RefreshToken.revokeByGrantId(grantId),
      provider.AuthorizationCode.revokeByGrantId(grantId),
      destroyGrant(provider, grantId),
    ]);
  };

  return {
    async consentsOf(psuId) {
      const summaries: ConsentSummary[] = [];
      for (const grantId of await storage.grantIdsOf(psuId)) {
        const grant = await findGrant(provider, grantId);
        const consent = consentOf(grant);
        if (!grant || !consent || grant.accountId !== psuId || !grant.clientId) continue;
        const end = consentEnd(consent, options.tokens.consentLifetime);
        if (end <= epochSeconds(options.now)) continue;
        const client = await findClient(provider, grant.clientId);
        if (!client) continue;
        const metadata = client.metadata();
        summaries.push({
          grantId,
          clientId: grant.clientId,
          clientName: typeof metadata.client_name === 'string' ? metadata.client_name : undefined,
          providerLegalId: typeof metadata.provider_legal_id === 'string' ? metadata.provider_legal_id : undefined,
          environment: consent.environment,
          scope: grant.getOIDCScope(),
          accounts: consent.accounts,
          scaTime: new Date(consent.scaTime * 1000),
          expiresAt: new Date(end * 1000),
        });
      }
      return summaries.sort((a, b) => b.scaTime.getTime() - a.scaTime.getTime());
    },

    async withdrawConsent(psuId, grantId) {
      const grant = await findGrant(provider, grantId);
      if (!grant || grant.accountId !== psuId) return false;
      await revokeGrant(grantId);
      logger.info({ event: 'consent.withdrawn', grantId, clientId: grant.clientId, psu: psuId }, 'consent withdrawn');
      return true;
    },

    async suspendOrganization(providerLegalId) {
      await suspensions.suspend(providerLegalId);
      const clientIds = await sweep(providerLegalId);
      const delay = suspensions.propagationDelay;
      if (delay > 0) {
        // Other instances may have issued tokens until they read the suspension: sweep once more.
        await new Promise((resolve) => setTimeout(resolve, delay + 50));
        await sweep(providerLegalId);
      }
      logger.warn({ event: 'organization.suspended', organization: providerLegalId, clients: clientIds.length }, 'TPP organization suspended');
      return { clientIds };
    },

    async reinstateOrganization(providerLegalId) {
      await suspensions.reinstate(providerLegalId);
      logger.warn({ event: 'organization.reinstated', organization: providerLegalId }, 'TPP organization reinstated');
    },

    isSuspended: (providerLegalId) => suspensions.isSuspended(providerLegalId),
  };
}
