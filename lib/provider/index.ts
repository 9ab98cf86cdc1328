/**
 * The configured oidc-provider: its configuration (configuration.ts, features.ts), the PSD2 rules
 * its hooks carry (authorization-request.ts, token-rules.ts over lib/psd2/), the server's Koa
 * middleware and answer steps (middleware.ts, steps/), and the internals it relies on
 * (internals.ts, the only module that touches them).
 */
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

import type { Logger } from '../logger.js';
import type { ResolvedOptions } from '../options/index.js';
import type { Storage } from '../storage.js';
import { grantTag } from '../token-ids.js';
import { providerConfiguration, type ProviderParts } from './configuration.js';
import { prefixTokenIds, reuseBuiltClients, storeProductFields } from './internals.js';
import { answerMiddleware, requestMiddleware } from './middleware.js';
import { acceptPaddedVerifiers } from './pkce.js';
import { stateOf } from './request-state.js';
import { answerSteps } from './steps/index.js';
import type { MetadataFacts } from './steps/discovery.js';

export { COOKIE_NAMES, EXTRA_CLIENT_METADATA, type ProviderParts } from './configuration.js';
export { stateOf, type EntryPage, type RequestState } from './request-state.js';

export interface ProviderAssembly extends ProviderParts {
  readonly logger: Logger;
  /** Counts a revocation by its client (metrics). */
  recordRevocation(kind: 'access_token' | 'refresh_token'): void;
  readonly metadata: MetadataFacts;
  /** The page a PSU's browser gets when the storage cannot be reached during an authorization. */
  renderUnavailablePage(ctx: KoaContextWithOIDC, error: unknown): Promise<void>;
}

/** oidc-provider configured for PSD2, with the server's middleware and answer steps. */
export function createProvider(options: ResolvedOptions, storage: Storage, parts: ProviderAssembly): Provider {
  const provider = new Provider(options.issuer, providerConfiguration(options, storage, parts));
  provider.proxy = options.trustProxy;
  provider.use(requestMiddleware(options.mountPath));
  provider.use(answerMiddleware({
    provider,
    storage,
    logger: parts.logger,
    steps: answerSteps({ storage, logger: parts.logger, recordRevocation: parts.recordRevocation, mountPath: options.mountPath, metadata: parts.metadata }),
    renderUnavailablePage: parts.renderUnavailablePage,
  }));
  // What oidc-provider's events tell of a request, for the answer steps.
  provider.on('grant.error', (ctx, error) => {
    stateOf(ctx.req).grantError = error;
  });
  provider.on('server_error', (ctx, error) => {
    stateOf(ctx.req).serverError = error;
  });
  // Codes and tokens issued under a grant carry the start of the grant's id (lib/token-ids.ts).
  prefixTokenIds(provider, grantTag);
  acceptPaddedVerifiers(provider);
  // The grant keeps the PSD2 consent (accounts, time of SCA) with the PSU and the scope it already
  // holds, so it lives and dies with the grant.
  storeProductFields(provider);
  // A client is validated once per stored version of its metadata, not hashed at every look-up.
  const revisionOf = storage.recordRevision?.bind(storage);
  if (revisionOf) reuseBuiltClients(provider, (clientId) => revisionOf('Client', clientId));
  return provider;
}
