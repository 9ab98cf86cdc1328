import type Provider from 'oidc-provider';

import { epochSeconds } from './clock.js';
import type { Logger } from './logger.js';
import type { ConsentSummary, Management, StatisticsRange } from './management-types.js';
import { StatisticsRangeError, type PsdStatistics } from './observability/index.js';
import type { ResolvedOptions } from './options/index.js';
import { consentOf, destroyGrant, findClient, findGrant } from './provider/internals.js';
import { consentEnd } from './psd2/tokens.js';
import type { Storage } from './storage.js';
import type { Suspensions } from './suspensions.js';

export interface ManagementParts {
  readonly provider: Provider;
  readonly storage: Storage;
  readonly suspensions: Suspensions;
  readonly options: Pick<ResolvedOptions, 'tokens' | 'now'>;
  readonly logger: Logger;
  /** The PSD2 statistics, read for the bank's reports. */
  readonly statistics: Pick<PsdStatistics, 'report' | 'csv'>;
  /** Counts the revocations the bank makes here (the server's metrics). */
  readonly metrics?: { recordRevocation(kind: 'consent_withdrawn' | 'organization_suspended'): void };
  /** Told of each reinstatement (the register of TPP licences stops suspending the organization again). */
  readonly onReinstated?: (providerLegalId: string) => Promise<void>;
}

/** The days of `range`, which a caller in JavaScript may give as anything. */
function daysOf(range: StatisticsRange): [unknown, unknown] {
  if (typeof range !== 'object' || range === null) throw new StatisticsRangeError('the range must be { from, to }, days as YYYY-MM-DD');
  return [range.from, range.to];
}

export function createManagement({ provider, storage, suspensions, options, logger, metrics, statistics, onReinstated }: ManagementParts): Management {
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
      metrics?.recordRevocation('consent_withdrawn');
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
      metrics?.recordRevocation('organization_suspended');
      logger.warn({ event: 'organization.suspended', organization: providerLegalId, clients: clientIds.length }, 'TPP organization suspended');
      return { clientIds };
    },

    async reinstateOrganization(providerLegalId) {
      await onReinstated?.(providerLegalId);
      await suspensions.reinstate(providerLegalId);
      logger.warn({ event: 'organization.reinstated', organization: providerLegalId }, 'TPP organization reinstated');
    },

    isSuspended: (providerLegalId) => suspensions.isSuspended(providerLegalId),

    statistics: async (range) => statistics.report(...daysOf(range)),
    statisticsCsv: async (range) => statistics.csv(...daysOf(range)),
  };
}
