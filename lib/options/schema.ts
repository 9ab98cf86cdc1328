// The options' one runtime schema: every rule and every default. Messages are what a host reads in
// a ConfigurationError, after the option's path.
import { z } from 'zod';

import type { Storage } from '../storage.js';
import { ELLIPTIC_CURVES, SIGNATURE_HASHES } from '../certificates/algorithms.js';
import { EXTENDED_KEY_USAGES, type ExtendedKeyUsageName } from '../certificates/oids.js';
import { DEFAULT_PATH_VALIDATION } from '../certificates/path-validation.js';
import { systemClock, type Clock } from '../clock.js';
import { LANGUAGES } from '../language.js';
import type { Logger } from '../logger.js';
import type { AccountLookup, PsuAuthenticator } from '../psu.js';
import { RESERVED_PATHS, entryPattern, isReservedPath } from '../routes.js';
import type { TppRegister } from '../tpp-register/types.js';
import { TrustedProxies } from '../trusted-proxies.js';
import { parseBundle } from './pem.js';
import { trustedListSchema } from './trusted-list.js';
import type * as Declared from './types.js';

const EXTENDED_KEY_USAGE_NAMES = Object.keys(EXTENDED_KEY_USAGES) as [ExtendedKeyUsageName, ...ExtendedKeyUsageName[]];

// The trust settings every environment has (EnvironmentOptions).
const trustShape = {
  trustAnchors: z.union([z.string(), z.instanceof(Buffer)]).transform(parseBundle),
  requireQualifiedStatements: z.boolean().default(true),
  requiredExtendedKeyUsages: z.array(z.enum(EXTENDED_KEY_USAGE_NAMES)).default([]),
  minimumRsaKeySize: z.int().min(2048, 'must be at least 2048: shorter RSA keys are within reach of factoring').max(16384)
    .default(DEFAULT_PATH_VALIDATION.minimumRsaKeySize),
  ellipticCurves: z.array(z.enum(ELLIPTIC_CURVES)).min(1, 'must hold at least one curve').default([...ELLIPTIC_CURVES]),
  signatureHashes: z.array(z.enum(SIGNATURE_HASHES)).min(1, 'must hold at least one hash').default([...SIGNATURE_HASHES]),
  acceptServerAuthOnlyCAs: z.boolean().default(DEFAULT_PATH_VALIDATION.acceptServerAuthOnlyCAs),
  allowLoopbackRedirectUris: z.boolean().optional(),
};

const entryPathSchema = z.string()
  .regex(/^(\/([A-Za-z0-9._~-]|\{lang\})+)+$/, 'must be a path such as /{lang}/signin.html: segments of letters, digits, . _ ~ - and {lang}')
  .refine((value) => (value.match(/\{lang\}/g) ?? []).length <= 1, 'must hold {lang} at most once')
  .refine(
    (value) => !isReservedPath(value) && !RESERVED_PATHS.some((reserved) => entryPattern(value).test(reserved)),
    `must not shadow an endpoint (${RESERVED_PATHS.join(', ')})`,
  );

const accountSchema = z.strictObject({
  id: z.string().min(1),
  iban: z.string().regex(/^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$/, 'must be an IBAN without spaces').optional(),
  name: z.string().min(1),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code').optional(),
}).readonly();

const functionsOf = <T>(names: string[], what?: string) => z.custom<T>(
  (value) => names.every((name) => typeof (value as Record<string, unknown> | undefined)?.[name] === 'function'),
  what ? `must implement the ${what} interface (${names.join(', ')})` : `must have the method${names.length > 1 ? 's' : ''} ${names.join(', ')}`,
);

const aFunction = <T>() => z.custom<T>((value) => typeof value === 'function', 'must be a function');

const limitSchema = z.strictObject({
  attempts: z.int().min(1),
  windowSeconds: z.int().min(1),
});

const sandboxSchema = z.strictObject({
  ...trustShape,
  allowLoopbackRedirectUris: trustShape.allowLoopbackRedirectUris.default(true),
  entryPath: entryPathSchema.default('/{lang}/sandbox/signin.html'),
  // Read-only as SandboxPsu is, so that a host's read-only lists of accounts are accepted.
  testPsus: z.array(z.strictObject({
    id: z.string().min(1),
    name: z.string().min(1),
    accounts: z.array(accountSchema).min(1, 'must hold at least one account').readonly(),
  }).readonly(), { error: 'is required: the simulated customers of the sandbox sign-in page' }).min(1, 'must hold at least one PSU')
    .refine((psus) => new Set(psus.map((psu) => psu.id)).size === psus.length, 'must not repeat a PSU id'),
});

const bankSchema = z.strictObject({
  ...trustShape,
  trustAnchors: trustShape.trustAnchors.optional(),
  trustedList: trustedListSchema.optional(),
  allowLoopbackRedirectUris: trustShape.allowLoopbackRedirectUris.default(false),
  entryPath: entryPathSchema.default('/{lang}/banque/oauth2_authorization.aspx'),
  authenticator: functionsOf<PsuAuthenticator>(['verifyCredentials', 'verifySecondFactor'], 'PsuAuthenticator'),
  accounts: functionsOf<AccountLookup>(['accountsOf'], 'AccountLookup'),
  loginLimits: z.strictObject({
    perPsu: limitSchema.default({ attempts: 5, windowSeconds: 900 }),
    perIp: limitSchema.default({ attempts: 20, windowSeconds: 900 }),
  }).prefault({}),
}).refine((bank) => bank.trustAnchors || bank.trustedList, { message: 'is required unless trustedList is set', path: ['trustAnchors'] });

const pagesSchema = z.strictObject({
  languages: z.array(z.enum(LANGUAGES)).min(1, 'must hold at least one language').default([...LANGUAGES]),
  defaultLanguage: z.enum(LANGUAGES).default('en'),
  bankName: z.string().min(1).max(100).optional(),
  // Served as a CSS file of its own: only its text can go wrong, not the pages around it.
  stylesheet: z.string().refine((css) => !/[^\P{Cc}\t\n\f\r]/u.test(css), 'must be CSS text, without control characters').optional(),
  interactionLifetime: z.int().min(60).max(3600).default(600),
}).refine((pages) => pages.languages.includes(pages.defaultLanguage), { message: 'must be among pages.languages', path: ['defaultLanguage'] });

const MAX_CONSENT_LIFETIME = 180 * 86_400;
const consentLifetime = (min: number) => z.int().min(min)
  .max(MAX_CONSENT_LIFETIME, 'must be at most 180 days (15552000 seconds): RTS Art. 10a').default(MAX_CONSENT_LIFETIME);
const consentLifetimesSchema = z.strictObject({ sandbox: consentLifetime(60), bank: consentLifetime(3600) });

const tokensSchema = z.strictObject({
  accessTokenLifetime: z.strictObject({
    aisp: z.int().min(60).max(86_400).default(3600),
    cbpii: z.int().min(60).max(86_400).default(3600),
    pisp: z.int().min(60).max(86_400).default(600),
  }).prefault({}),
  // One number applies to both environments, each held to its own bounds.
  consentLifetime: z.preprocess(
    (value: number | z.input<typeof consentLifetimesSchema>) => (typeof value === 'number' ? { sandbox: value, bank: value } : value),
    consentLifetimesSchema,
  ).prefault({}),
  rotateRefreshTokens: z.boolean().default(false),
});

const paymentsSchema = z.strictObject({
  requestLifetime: z.int().min(60).max(1800).default(300),
  onOutcome: aFunction<NonNullable<Declared.PaymentOptions['onOutcome']>>().optional(),
  resource: z.url({ error: 'must be an absolute URL' }).refine((value) => !value.includes('#'), 'must not hold a fragment').optional(),
});

const resourceServerSchema = z.strictObject({
  id: z.string().regex(/^[\x21-\x39\x3b-\x7e]+$/, 'must be printable ASCII without spaces or colons'),
  secret: z.string().min(32, 'must be at least 32 characters').optional(),
  certificateThumbprints: z.array(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url SHA-256 thumbprint')).min(1).optional(),
});

const clientCertificateHeaderSchema = z.strictObject({
  header: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'),
  chainHeader: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name').optional(),
  trustedProxies: z.array(z.string(), {
    error: 'is required with a certificate header: the addresses or CIDR ranges of the proxies allowed to set it',
  }).min(1, 'must name at least one proxy address or CIDR range')
    .superRefine((entries, ctx) => {
      const problem = TrustedProxies.problemWith(entries);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
});

const tppRegisterSchema = z.strictObject({
  register: functionsOf<TppRegister>(['load'], 'TppRegister').refine((register) => typeof register.name === 'string' && register.name.length > 0, 'must have a name'),
  country: z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code, e.g. FR'),
  environments: z.array(z.enum(['sandbox', 'bank'])).min(1).default(['bank']),
  refreshInterval: z.int().min(1).max(604_800).default(86_400),
  sweepInterval: z.int().min(0).max(604_800).default(86_400),
  maxShrink: z.number().min(0).max(1).default(0.2),
  retryDelay: z.int().min(1).max(3600).default(60),
  maxSuspensions: z.int().min(1).default(5),
  maxSuspensionShare: z.number().min(0).max(1).default(0.1),
  exemptions: z.array(z.string().regex(/^PSD[A-Z]{2}-[A-Z0-9]{1,8}-.+$/, 'must be a PSD2 organization identifier, e.g. PSDFR-ACPR-12345')).default([]),
});

const revocationModeSchema = z.enum(['hard', 'soft', 'off']);

const revocationSchema = z.strictObject({
  sandbox: revocationModeSchema.default('soft'),
  bank: revocationModeSchema.default('hard'),
  maxAge: z.int().min(1).max(86_400).default(3600),
  unreachableTtl: z.int().min(1).max(3600).default(60),
  timeout: z.int().min(100).max(30_000).default(5000),
  sweepInterval: z.int().min(0).max(86_400).default(900),
});

// Declared as any JSON object (AuthorizationServerOptions.signingKeys), checked for the members read here.
const jwkSchema: z.ZodType<Record<string, unknown>, Record<string, unknown>> = z.looseObject({
  kty: z.enum(['RSA', 'EC', 'OKP']),
  d: z.string({ error: 'must be a private key (the d parameter is missing)' }).min(1),
});

export const optionsSchema = z.strictObject({
  issuer: z.url({ protocol: /^https$/, error: 'must be an https URL' }).refine(
    (value) => !new URL(value).search && !new URL(value).hash,
    'must have no query or fragment',
  ),
  signingKeys: z.strictObject({ keys: z.array(jwkSchema).min(1, 'must hold at least one key') }),
  cookieKeys: z.array(z.string().min(32, 'each key must be at least 32 characters')).min(1, 'must hold at least one key'),
  environments: z.strictObject({
    sandbox: sandboxSchema.optional(),
    bank: bankSchema.optional(),
  }).refine((value) => value.sandbox || value.bank, 'configure at least one of sandbox and bank'),
  tokens: tokensSchema.prefault({}),
  payments: paymentsSchema.prefault({}),
  resourceServers: z.array(resourceServerSchema
    .refine((server) => server.secret || server.certificateThumbprints, 'needs a secret or certificateThumbprints'))
    .refine((servers) => new Set(servers.map((server) => server.id)).size === servers.length, 'must not repeat an id')
    .default([]),
  pages: pagesSchema.prefault({}),
  clientCertificateHeader: clientCertificateHeaderSchema.optional(),
  revocation: revocationSchema.prefault({}),
  tppRegister: tppRegisterSchema.optional(),
  trustProxy: z.boolean().default(false),
  strictTransportSecurity: z.strictObject({ includeSubDomains: z.boolean().default(true) }).prefault({}),
  suspensionCacheTtl: z.number().min(0).max(60).default(2),
  storage: functionsOf<Storage>(['adapterFor', 'removeClient', 'grantIdsOf', 'clientIdsOf', 'incrementCounter', 'readCounter', 'resetCounter', 'incrementCountersWithin'], 'Storage').optional(),
  logger: functionsOf<Logger>(['info', 'warn', 'error']).optional(),
  metrics: z.union([z.literal(false), z.custom<Exclude<Declared.AuthorizationServerOptions['metrics'], false | undefined>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), 'must be false or the metrics\' settings ({ registry, prefix, providerLegalIds })')]).optional(),
  // A function default is called for the value: this one gives the clock itself.
  now: aFunction<Clock>().default(() => systemClock),
});

// Each option type a host reads (types.ts) is exactly what its schema accepts: neither changes alone.
type Same<A, B> = (<X>() => X extends A ? 1 : 2) extends (<X>() => X extends B ? 1 : 2) ? true : false;
type Check<T extends Record<string, true>> = T;
type _Agreement = Check<{
  AuthorizationServerOptions: Same<Declared.AuthorizationServerOptions, z.input<typeof optionsSchema>>;
  EnvironmentOptions: Same<Declared.EnvironmentOptions, z.input<z.ZodObject<typeof trustShape>>>;
  SandboxEnvironmentOptions: Same<Declared.SandboxEnvironmentOptions, z.input<typeof sandboxSchema>>;
  BankEnvironmentOptions: Same<Declared.BankEnvironmentOptions, z.input<typeof bankSchema>>;
  TrustedListOptions: Same<Declared.TrustedListOptions, z.input<typeof trustedListSchema>>;
  AttemptLimit: Same<Declared.AttemptLimit, z.input<typeof limitSchema>>;
  PagesOptions: Same<Declared.PagesOptions, z.input<typeof pagesSchema>>;
  ClientCertificateHeaderOptions: Same<Declared.ClientCertificateHeaderOptions, z.input<typeof clientCertificateHeaderSchema>>;
  RevocationOptions: Same<Declared.RevocationOptions, z.input<typeof revocationSchema>>;
  RevocationMode: Same<Declared.RevocationMode, z.input<typeof revocationModeSchema>>;
  TppRegisterOptions: Same<Declared.TppRegisterOptions, z.input<typeof tppRegisterSchema>>;
  TokenOptions: Same<Declared.TokenOptions, z.input<typeof tokensSchema>>;
  ConsentLifetimes: Same<Declared.ConsentLifetimes, z.input<typeof consentLifetimesSchema>>;
  PaymentOptions: Same<Declared.PaymentOptions, z.input<typeof paymentsSchema>>;
  ResourceServerOptions: Same<Declared.ResourceServerOptions, z.input<typeof resourceServerSchema>>;
}>;
