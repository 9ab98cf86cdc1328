import type { z } from 'zod';

import type { EnvironmentName, EnvironmentTrust } from '../certificates/identity.js';
import { ConfigurationError } from '../errors.js';
import { LANGUAGES } from '../language.js';
import type { AccountLookup, PsuAuthenticator, SandboxPsu } from '../psu.js';
import { entryPattern } from '../routes.js';
import type { TrustedListSettings } from '../trusted-lists/source.js';
import { NO_PROXIES, TrustedProxies } from '../trusted-proxies.js';
import { optionsSchema } from './schema.js';
import type { AttemptLimit } from './types.js';

/** The options as the schema gives them: every default applied. */
type Parsed = z.output<typeof optionsSchema>;

/** The PSU side of the sandbox environment, resolved. */
export interface ResolvedSandboxPages {
  readonly entryPath: string;
  readonly testPsus: readonly SandboxPsu[];
}

/** The PSU side of the bank environment, resolved. */
export interface ResolvedBankPages {
  readonly entryPath: string;
  readonly authenticator: PsuAuthenticator;
  readonly accounts: AccountLookup;
  readonly loginLimits: { readonly perPsu: AttemptLimit; readonly perIp: AttemptLimit };
}

/** The trust settings of one environment, resolved. */
export type ResolvedEnvironment = EnvironmentTrust & { readonly allowLoopbackRedirectUris: boolean };

/** Options after validation, with defaults applied. */
export interface ResolvedOptions extends Readonly<Pick<Parsed, 'signingKeys' | 'cookieKeys' | 'tokens' | 'resourceServers'
  | 'revocation' | 'tppRegister' | 'trustProxy' | 'strictTransportSecurity' | 'suspensionCacheTtl' | 'now'>> {
  /** The issuer URL without trailing slash. */
  readonly issuer: string;
  /** Path of the issuer URL without trailing slash: where the router must be mounted. */
  readonly mountPath: string;
  readonly environments: readonly ResolvedEnvironment[];
  readonly sandbox: ResolvedSandboxPages | undefined;
  readonly bank: ResolvedBankPages | undefined;
  readonly pages: Readonly<Parsed['pages']> & { readonly bankName: string | undefined; readonly stylesheet: string | undefined };
  readonly payments: Readonly<Parsed['payments']> & { readonly onOutcome: Parsed['payments']['onOutcome'] | undefined; readonly resource: string };
  readonly clientCertificateHeader: Parsed['clientCertificateHeader'] | undefined;
  /** The proxies whose certificate and X-Forwarded-For headers are believed; none without a header. */
  readonly proxies: TrustedProxies;
  readonly storage: Parsed['storage'] | undefined;
  readonly logger: Parsed['logger'] | undefined;
  /** The bank environment's trusted-list source settings, when it has one. */
  readonly trustedList: TrustedListSettings | undefined;
  readonly metrics: Parsed['metrics'];
}

function describePath(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index ? '.' : ''}${String(key)}`)).join('');
}

function parse(input: unknown): Parsed {
  const result = optionsSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const unknown = issue?.code === 'unrecognized_keys' ? issue.keys : undefined;
  const path = describePath([...(issue?.path ?? []), ...(unknown?.length === 1 ? unknown : [])]);
  throw new ConfigurationError(path, unknown ? `unknown option${unknown.length > 1 ? `s ${unknown.join(', ')}` : ''}` : issue?.message ?? 'invalid');
}

function environmentsOf(options: Parsed): ResolvedEnvironment[] {
  return (['sandbox', 'bank'] as const).flatMap((name: EnvironmentName) => {
    const env = options.environments[name];
    if (!env) return [];
    return [{
      name,
      anchors: env.trustAnchors ?? [],
      requireQualifiedStatements: env.requireQualifiedStatements,
      requiredExtendedKeyUsages: env.requiredExtendedKeyUsages,
      minimumRsaKeySize: env.minimumRsaKeySize,
      ellipticCurves: env.ellipticCurves,
      signatureHashes: env.signatureHashes,
      acceptServerAuthOnlyCAs: env.acceptServerAuthOnlyCAs,
      allowLoopbackRedirectUris: env.allowLoopbackRedirectUris,
    }];
  });
}

/** What the schema cannot see alone: the two environments must stay apart. */
function checkEnvironmentsApart(options: Parsed, environments: readonly ResolvedEnvironment[]): void {
  const { sandbox, bank } = options.environments;
  if (sandbox && bank) {
    // Neither entry path may catch the other's URLs, in any language.
    const concrete = (path: string) => LANGUAGES.map((language) => path.replace('{lang}', language));
    if (concrete(bank.entryPath).some((path) => entryPattern(sandbox.entryPath).test(path))
      || concrete(sandbox.entryPath).some((path) => entryPattern(bank.entryPath).test(path))) {
      throw new ConfigurationError('environments.bank.entryPath', 'must differ from the sandbox entry path, in every language');
    }
  }
  const [first, second] = environments;
  if (first && second) {
    const shared = first.anchors.find((a) => second.anchors.some((b) => a.fingerprint256 === b.fingerprint256));
    if (shared) {
      throw new ConfigurationError('environments', `the sandbox and bank environments must not share a trust anchor (${shared.subject.replace(/\n/g, ', ')})`);
    }
  }
}

/** Validates options once at start-up; throws {@link ConfigurationError} naming the option path. */
export function resolveOptions(input: unknown): ResolvedOptions {
  const options = parse(input);
  const environments = environmentsOf(options);
  checkEnvironmentsApart(options, environments);
  const { sandbox, bank } = options.environments;
  return {
    issuer: options.issuer.replace(/\/$/, ''),
    mountPath: new URL(options.issuer).pathname.replace(/\/$/, ''),
    signingKeys: options.signingKeys,
    cookieKeys: options.cookieKeys,
    environments,
    sandbox: sandbox && { entryPath: sandbox.entryPath, testPsus: sandbox.testPsus },
    bank: bank && { entryPath: bank.entryPath, authenticator: bank.authenticator, accounts: bank.accounts, loginLimits: bank.loginLimits },
    tokens: options.tokens,
    payments: {
      requestLifetime: options.payments.requestLifetime,
      onOutcome: options.payments.onOutcome,
      resource: options.payments.resource ?? new URL('/payments', options.issuer).href,
    },
    resourceServers: options.resourceServers,
    pages: { ...options.pages, bankName: options.pages.bankName, stylesheet: options.pages.stylesheet },
    clientCertificateHeader: options.clientCertificateHeader,
    proxies: options.clientCertificateHeader ? new TrustedProxies(options.clientCertificateHeader.trustedProxies) : NO_PROXIES,
    revocation: options.revocation,
    tppRegister: options.tppRegister,
    trustProxy: options.trustProxy,
    strictTransportSecurity: options.strictTransportSecurity,
    storage: options.storage,
    suspensionCacheTtl: options.suspensionCacheTtl,
    logger: options.logger,
    trustedList: bank?.trustedList,
    metrics: options.metrics,
    now: options.now,
  };
}
