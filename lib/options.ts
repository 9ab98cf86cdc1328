import { X509Certificate } from 'node:crypto';

import { z } from 'zod';

import type { PaymentOutcome } from './payments/service.js';

import type { Storage } from './storage.js';
import type { EnvironmentName, EnvironmentTrust } from './certificates/identity.js';
import type { ExtendedKeyUsageName } from './certificates/oids.js';
import { ConfigurationError } from './errors.js';
import { LANGUAGES, type Language } from './language.js';
import type { Logger } from './logger.js';
import type { AccountLookup, PsuAuthenticator, SandboxPsu } from './psu.js';
import { RESERVED_PATHS, entryPattern, isReservedPath } from './routes.js';
import { NO_PROXIES, TrustedProxies } from './trusted-proxies.js';

/** Trust settings of one environment (`sandbox` or `bank`). */
export interface EnvironmentOptions {
  /**
   * PEM bundle of the certificate authorities (QTSP roots or intermediates) whose TPP certificates
   * this environment accepts. Required.
   */
  trustAnchors: string | Buffer;
  /**
   * Require the ETSI QcCompliance statement and QcType web (ETSI EN 319 412-5), i.e. a qualified
   * website authentication certificate. Default `true`; some test QTSPs issue sandbox certificates
   * without them. A certificate whose QcType is not web (e.g. an eseal) is refused either way.
   */
  requireQualifiedStatements?: boolean;
  /**
   * Extended key usages a certificate must list when it carries the extension. Default `[]`: real
   * QWACs carry serverAuth and clientAuth, but some QTSPs are dropping clientAuth.
   */
  requiredExtendedKeyUsages?: ExtendedKeyUsageName[];
  /**
   * Smallest RSA key, in bits, accepted anywhere on a TPP's certificate path: the TPP's certificate,
   * its CAs and the trust anchor. Default 2048 (ETSI TS 119 312; CA/Browser Forum Baseline
   * Requirements §6.1.5); between 2048 and 16384. A bank whose policy already asks for 3072 sets it.
   */
  minimumRsaKeySize?: number;
  /**
   * Curves accepted for EC and EdDSA keys anywhere on the path, among `P-256`, `P-384`, `P-521`,
   * `Ed25519` and `Ed448`. Default all five (ETSI TS 119 312). Other curves (e.g. secp256k1) and
   * other key types (e.g. DSA) are always refused.
   */
  ellipticCurves?: ('P-256' | 'P-384' | 'P-521' | 'Ed25519' | 'Ed448')[];
  /**
   * Hashes accepted in the signatures of the path's certificates (the trust anchor's signature on
   * itself excepted), among `SHA-256`, `SHA-384` and `SHA-512`; EdDSA signatures are accepted with
   * their curve. Default all three. SHA-1, MD5 and SHA-224 are always refused (RFC 5280 §6.1.3(a)
   * leaves the choice to the relying party; CA/Browser Forum Baseline Requirements §7.1.3.2).
   */
  signatureHashes?: ('SHA-256' | 'SHA-384' | 'SHA-512')[];
  /**
   * Accept CA certificates whose extended key usage (RFC 5280 §4.2.1.12) allows serverAuth but not
   * clientAuth, as in TLS server hierarchies that browser root programs now want dedicated to
   * serverAuth. Default `false`: a CA certificate below the trust anchor that restricts its
   * extended key usage must allow clientAuth or anyExtendedKeyUsage. (A TPP certificate with
   * serverAuth and without clientAuth is accepted either way, unless `requiredExtendedKeyUsages`
   * lists clientAuth.)
   */
  acceptServerAuthOnlyCAs?: boolean;
  /**
   * Accept `http` redirect URIs on loopback hosts (RFC 8252 §7.3) for TPP development.
   * Default `true` for `sandbox`, `false` for `bank`.
   */
  allowLoopbackRedirectUris?: boolean;
}

/** The sandbox environment: simulated PSUs, no password. */
export interface SandboxEnvironmentOptions extends EnvironmentOptions {
  /**
   * Path of the sandbox sign-in page, relative to the mount path; `{lang}` stands for the page's
   * language. An alias of the authorization endpoint for sandbox clients.
   * Default `/{lang}/sandbox/signin.html`.
   */
  entryPath?: string;
  /** The simulated customers offered on the sandbox sign-in page, with their accounts. Required. */
  testPsus: SandboxPsu[];
}

/** Limit of failed sign-ins within a window. */
export interface AttemptLimit {
  /** Failed attempts allowed within the window; the next one is refused without being checked. */
  attempts: number;
  /** Window length in seconds, counted from the first failure. */
  windowSeconds: number;
}

/** The bank environment: real PSUs, signed in by the bank's authenticator. */
export interface BankEnvironmentOptions extends EnvironmentOptions {
  /**
   * Path of the bank sign-in page, relative to the mount path; `{lang}` stands for the page's
   * language. Default `/{lang}/banque/oauth2_authorization.aspx`.
   */
  entryPath?: string;
  /** The bank's PSU login, with strong customer authentication. Required. */
  authenticator: PsuAuthenticator;
  /** The bank's account directory, for the accounts a PSU may share. Required. */
  accounts: AccountLookup;
  /**
   * Failed sign-ins allowed per PSU identifier and per client IP address.
   * Default `{ perPsu: { attempts: 5, windowSeconds: 900 }, perIp: { attempts: 20, windowSeconds: 900 } }`.
   */
  loginLimits?: { perPsu?: AttemptLimit; perIp?: AttemptLimit };
}

/** The PSU pages: sign-in and consent. */
export interface PagesOptions {
  /** Languages offered, among `de`, `en`, `fr`. Default all three. */
  languages?: Language[];
  /** Language used when the PSU's is not offered. Default `en`; must be among `languages`. */
  defaultLanguage?: Language;
  /** The bank's name in the page header. Default: a generic "Online banking" in the page's language. */
  bankName?: string;
  /** Extra CSS appended to the pages' own, to apply the bank's colours and fonts. */
  stylesheet?: string;
  /** Seconds a PSU has to complete sign-in and consent. Default 600. */
  interactionLifetime?: number;
}

/** Consent lifetime in seconds per environment (see {@link TokenOptions.consentLifetime}). */
export interface ConsentLifetimes {
  /** Sandbox consents: between 60 seconds and 180 days. Default 180 days. */
  sandbox?: number;
  /** Bank consents: between 3600 seconds and 180 days (RTS Art. 10a). Default 180 days. */
  bank?: number;
}

/** Lifetimes and refresh behaviour of tokens (DESIGN 3.3). */
export interface TokenOptions {
  /**
   * Access token lifetime in seconds per scope; a token holding several scopes gets the shortest.
   * Default `{ aisp: 3600, cbpii: 3600, pisp: 600 }`.
   */
  accessTokenLifetime?: { aisp?: number; cbpii?: number; pisp?: number };
  /**
   * Seconds a PSU's consent lasts after their strong customer authentication: refresh tokens stop
   * working then, whatever happens in between (RTS Art. 10a), and the refresh answers
   * `400 invalid_grant` "Refresh token has expired". One number for both environments, or one per
   * environment, e.g. `{ sandbox: 60 }` so that TPPs can test their re-consent path in the sandbox.
   * The bank's is between 3600 seconds and 180 days (15552000 seconds, RTS Art. 10a's limit); the
   * sandbox's between 60 seconds and 180 days. Default 180 days in both.
   */
  consentLifetime?: number | ConsentLifetimes;
  /**
   * Issue a new refresh token at each refresh; reusing a rotated one then revokes the whole grant.
   * Default `false`: refresh tokens are already bound to the client's certificate by its
   * authentication (RFC 8705 §4).
   */
  rotateRefreshTokens?: boolean;
}

/** Payment initiation and cancellation authorizations, opened by the bank's payment API. */
export interface PaymentOptions {
  /**
   * Seconds the PSU has, from the moment the authorization is opened, to use its URL and decide.
   * Between 60 and 1800. Default 300.
   */
  requestLifetime?: number;
  /**
   * Told the outcome of each authorization once: confirmed (with the time of SCA), rejected or
   * expired. A failure is logged; the outcome stays readable with `payments.statusOf`.
   */
  onOutcome?: (outcome: PaymentOutcome) => void | Promise<void>;
  /**
   * Resource indicator (RFC 8707) of the bank's payment API: the audience of the access tokens of
   * confirmed payments. Default: `/payments` on the issuer's origin.
   */
  resource?: string;
}

/** A resource server of the bank (its PSD2 API) allowed to introspect tokens (RFC 7662). */
export interface ResourceServerOptions {
  /** Its identifier: the HTTP Basic user name, and its name in the logs. */
  id: string;
  /** Its HTTP Basic secret, at least 32 characters. */
  secret?: string;
  /**
   * SHA-256 thumbprints (base64url, as in `x5t#S256`) of the TLS client certificates it may present
   * instead of HTTP Basic credentials.
   */
  certificateThumbprints?: string[];
}

/** Where client certificates come from when a TLS-terminating proxy sits in front of the app. */
export interface ClientCertificateHeaderOptions {
  /**
   * Header the proxy sets to the client certificate: URL-encoded PEM (e.g. nginx
   * `$ssl_client_escaped_cert`) or an RFC 9440 `Client-Cert` byte sequence; recognised by its form.
   * The proxy must remove this header from what clients send.
   */
  header: string;
  /** Header holding intermediate certificates (RFC 9440 `Client-Cert-Chain`). Optional. */
  chainHeader?: string;
  /**
   * The proxies allowed to set these headers: IPv4 and IPv6 addresses and CIDR ranges (e.g.
   * `10.0.0.0/8`, `2001:db8::/32`), compared with the TCP peer address of each request; an IPv4
   * entry also matches the address seen as IPv4-mapped IPv6. Required. A request from any other
   * peer that carries the header is refused (401 `invalid_client`); `X-Forwarded-For`, used for the
   * PSU sign-in limits, is believed only from them.
   */
  trustedProxies: string[];
}

/** What the server does when it cannot establish a certificate's revocation status. */
export type RevocationMode = 'hard' | 'soft' | 'off';

/**
 * Revocation checking of TPP certificates and their intermediates, through the OCSP responder
 * (Authority Information Access) and the CRL distribution points they name (RFC 6960, RFC 5280).
 * A revoked certificate is refused in every mode but `off`.
 */
export interface RevocationOptions {
  /**
   * Sandbox certificates: `hard` refuses a certificate whose status cannot be established, `soft`
   * accepts it (and logs a warning), `off` checks nothing. Default `soft`.
   */
  sandbox?: RevocationMode;
  /** Bank certificates, as for `sandbox`. Default `hard`: soft fail must be chosen explicitly. */
  bank?: RevocationMode;
  /**
   * Seconds a good status is kept at most (less when the OCSP response or CRL says it is fresh for
   * less, `nextUpdate`). Between 1 and 86400. Default 3600.
   */
  maxAge?: number;
  /**
   * Seconds a status that could not be established (responder down, answer not trustworthy) is
   * remembered, so that an outage costs one timeout, not one per request. Between 1 and 3600. Default 60.
   */
  unreachableTtl?: number;
  /** Milliseconds to wait for an OCSP responder or CRL server. Between 100 and 30000. Default 5000. */
  timeout?: number;
  /**
   * Seconds between two background checks of the certificates of clients that authenticated, so
   * that a revocation takes effect even for a TPP that does not call again. 0 turns it off.
   * Between 0 and 86400. Default 900.
   */
  sweepInterval?: number;
}

/** Options of {@link createAuthorizationServer}. */
export interface AuthorizationServerOptions {
  /**
   * Issuer identifier (RFC 8414 §2): the https URL where the router is mounted, e.g.
   * `https://api.bank.example/oauth2`. Every endpoint URL is derived from it.
   */
  issuer: string;
  /** Private JSON Web Key Set used to sign what the server signs (at least one RSA or EC key). */
  signingKeys: { keys: Record<string, unknown>[] };
  /** Secrets that sign cookies, newest first (rotate by prepending). At least one, 32+ characters. */
  cookieKeys: string[];
  /** Trust settings per environment; at least one of `sandbox` and `bank`. */
  environments: { sandbox?: SandboxEnvironmentOptions; bank?: BankEnvironmentOptions };
  /** The PSU pages. */
  pages?: PagesOptions;
  /** Token lifetimes and refresh behaviour. */
  tokens?: TokenOptions;
  /** Payment authorizations. */
  payments?: PaymentOptions;
  /** The bank's resource servers allowed to introspect tokens; TPPs never may. Default: none. */
  resourceServers?: ResourceServerOptions[];
  /**
   * Read client certificates from a header set by the bank's TLS-terminating proxy instead of
   * from the TLS connection. Default: off, and such headers sent by clients are ignored.
   */
  clientCertificateHeader?: ClientCertificateHeaderOptions;
  /** Revocation checking of TPP certificates (OCSP and CRL). Default: on, `hard` for the bank and `soft` for the sandbox. */
  revocation?: RevocationOptions;
  /**
   * Trust `X-Forwarded-*` headers for the request's protocol and host (set when behind a proxy).
   * Default `false`.
   */
  trustProxy?: boolean;
  /**
   * The `Strict-Transport-Security` header (RFC 6797) of every page and API answer under the mount
   * path: browsers reach the issuer's host over HTTPS only, for a year (`max-age=31536000`).
   * `includeSubDomains` (RFC 6797 §6.1.2) extends that to every subdomain of the host; default
   * `true`, `false` when a subdomain must still be reachable over plain HTTP.
   */
  strictTransportSecurity?: { includeSubDomains?: boolean };
  /** Where clients, grants and tokens are kept. Default: in-memory (development only). */
  storage?: Storage;
  /**
   * Seconds an instance relies on what it last read of an organization's suspension, instead of
   * asking the storage on every TPP request. The instance that suspends an organization refuses it
   * at once; other instances within this delay, and the suspension sweeps the organization's tokens
   * once more after it, so that none issued meanwhile survives. 0 asks every time. Default 2.
   */
  suspensionCacheTtl?: number;
  /** Where log entries go; a pino logger fits. Default: `info` and up as JSON lines on stderr. */
  logger?: Logger;
  /** Clock used for certificate validity checks. Default: the system clock. */
  now?: () => Date;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function parseBundle(value: string | Buffer, ctx: z.RefinementCtx): X509Certificate[] {
  const blocks = String(value).match(PEM_CERTIFICATE) ?? [];
  if (!blocks.length) {
    ctx.addIssue({ code: 'custom', message: 'must be a PEM bundle holding at least one certificate' });
    return z.NEVER;
  }
  const certificates: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      const certificate = new X509Certificate(block);
      if (!certificate.ca) {
        ctx.addIssue({ code: 'custom', message: `certificate ${index + 1} of the bundle is not a CA certificate` });
        return z.NEVER;
      }
      certificates.push(certificate);
    } catch {
      ctx.addIssue({ code: 'custom', message: `certificate ${index + 1} of the bundle cannot be parsed` });
      return z.NEVER;
    }
  }
  return certificates;
}

const trustSchema = {
  trustAnchors: z.union([z.string(), z.instanceof(Buffer)]).transform(parseBundle),
  requireQualifiedStatements: z.boolean().default(true),
  requiredExtendedKeyUsages: z.array(z.enum(['serverAuth', 'clientAuth'])).default([]),
  minimumRsaKeySize: z.int().min(2048, 'must be at least 2048: shorter RSA keys are within reach of factoring').max(16384).default(2048),
  ellipticCurves: z.array(z.enum(['P-256', 'P-384', 'P-521', 'Ed25519', 'Ed448'])).min(1, 'must hold at least one curve')
    .default(['P-256', 'P-384', 'P-521', 'Ed25519', 'Ed448']),
  signatureHashes: z.array(z.enum(['SHA-256', 'SHA-384', 'SHA-512'])).min(1, 'must hold at least one hash')
    .default(['SHA-256', 'SHA-384', 'SHA-512']),
  acceptServerAuthOnlyCAs: z.boolean().default(false),
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
});

const functionsOf = <T>(names: string[], what?: string) => z.custom<T>(
  (value) => names.every((name) => typeof (value as Record<string, unknown> | undefined)?.[name] === 'function'),
  what ? `must implement the ${what} interface (${names.join(', ')})` : `must have the method${names.length > 1 ? 's' : ''} ${names.join(', ')}`,
);

const limitSchema = z.strictObject({
  attempts: z.int().min(1),
  windowSeconds: z.int().min(1),
});

const sandboxSchema = z.strictObject({
  ...trustSchema,
  entryPath: entryPathSchema.default('/{lang}/sandbox/signin.html'),
  testPsus: z.array(z.strictObject({
    id: z.string().min(1),
    name: z.string().min(1),
    accounts: z.array(accountSchema).min(1, 'must hold at least one account'),
  }), { error: 'is required: the simulated customers of the sandbox sign-in page' }).min(1, 'must hold at least one PSU')
    .refine((psus) => new Set(psus.map((psu) => psu.id)).size === psus.length, 'must not repeat a PSU id'),
});

const bankSchema = z.strictObject({
  ...trustSchema,
  entryPath: entryPathSchema.default('/{lang}/banque/oauth2_authorization.aspx'),
  authenticator: functionsOf<PsuAuthenticator>(['verifyCredentials', 'verifySecondFactor'], 'PsuAuthenticator'),
  accounts: functionsOf<AccountLookup>(['accountsOf'], 'AccountLookup'),
  loginLimits: z.strictObject({
    perPsu: limitSchema.default({ attempts: 5, windowSeconds: 900 }),
    perIp: limitSchema.default({ attempts: 20, windowSeconds: 900 }),
  }).default({ perPsu: { attempts: 5, windowSeconds: 900 }, perIp: { attempts: 20, windowSeconds: 900 } }),
});

const pagesSchema = z.strictObject({
  languages: z.array(z.enum(LANGUAGES)).min(1, 'must hold at least one language').default([...LANGUAGES]),
  defaultLanguage: z.enum(LANGUAGES).default('en'),
  bankName: z.string().min(1).max(100).optional(),
  stylesheet: z.string().refine((css) => !/<\/style/i.test(css), 'must be CSS, without </style>').optional(),
  interactionLifetime: z.int().min(60).max(3600).default(600),
}).refine((pages) => pages.languages.includes(pages.defaultLanguage), { message: 'must be among pages.languages', path: ['defaultLanguage'] });

const MAX_CONSENT_LIFETIME = 180 * 86_400;
const consentLifetime = (min: number) => z.int().min(min)
  .max(MAX_CONSENT_LIFETIME, 'must be at most 180 days (15552000 seconds): RTS Art. 10a').default(MAX_CONSENT_LIFETIME);
// One number applies to both environments, each held to its own bounds.
const consentLifetimesSchema = z.preprocess(
  (value) => (typeof value === 'number' ? { sandbox: value, bank: value } : value),
  z.strictObject({ sandbox: consentLifetime(60), bank: consentLifetime(3600) }),
);

const jwkSchema = z.looseObject({
  kty: z.enum(['RSA', 'EC', 'OKP']),
  d: z.string({ error: 'must be a private key (the d parameter is missing)' }).min(1),
});

const schema = z.strictObject({
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
  tokens: z.strictObject({
    accessTokenLifetime: z.strictObject({
      aisp: z.int().min(60).max(86_400).default(3600),
      cbpii: z.int().min(60).max(86_400).default(3600),
      pisp: z.int().min(60).max(86_400).default(600),
    }).default({ aisp: 3600, cbpii: 3600, pisp: 600 }),
    consentLifetime: consentLifetimesSchema.default({ sandbox: MAX_CONSENT_LIFETIME, bank: MAX_CONSENT_LIFETIME }),
    rotateRefreshTokens: z.boolean().default(false),
  }).default({
    accessTokenLifetime: { aisp: 3600, cbpii: 3600, pisp: 600 },
    consentLifetime: { sandbox: MAX_CONSENT_LIFETIME, bank: MAX_CONSENT_LIFETIME },
    rotateRefreshTokens: false,
  }),
  payments: z.strictObject({
    requestLifetime: z.int().min(60).max(1800).default(300),
    onOutcome: z.custom<(outcome: PaymentOutcome) => void | Promise<void>>((value) => typeof value === 'function', 'must be a function').optional(),
    resource: z.url({ error: 'must be an absolute URL' }).refine((value) => !value.includes('#'), 'must not hold a fragment').optional(),
  }).default({ requestLifetime: 300 }),
  resourceServers: z.array(z.strictObject({
    id: z.string().regex(/^[\x21-\x39\x3b-\x7e]+$/, 'must be printable ASCII without spaces or colons'),
    secret: z.string().min(32, 'must be at least 32 characters').optional(),
    certificateThumbprints: z.array(z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url SHA-256 thumbprint')).min(1).optional(),
  }).refine((server) => server.secret || server.certificateThumbprints, 'needs a secret or certificateThumbprints'))
    .refine((servers) => new Set(servers.map((server) => server.id)).size === servers.length, 'must not repeat an id')
    .default([]),
  pages: pagesSchema.default({ languages: [...LANGUAGES], defaultLanguage: 'en', interactionLifetime: 600 }),
  clientCertificateHeader: z.strictObject({
    header: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'),
    chainHeader: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name').optional(),
    trustedProxies: z.array(z.string(), {
      error: 'is required with a certificate header: the addresses or CIDR ranges of the proxies allowed to set it',
    }).min(1, 'must name at least one proxy address or CIDR range')
      .superRefine((entries, ctx) => {
        const problem = TrustedProxies.problemWith(entries);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
  }).optional(),
  revocation: z.strictObject({
    sandbox: z.enum(['hard', 'soft', 'off']).default('soft'),
    bank: z.enum(['hard', 'soft', 'off']).default('hard'),
    maxAge: z.int().min(1).max(86_400).default(3600),
    unreachableTtl: z.int().min(1).max(3600).default(60),
    timeout: z.int().min(100).max(30_000).default(5000),
    sweepInterval: z.int().min(0).max(86_400).default(900),
  }).default({ sandbox: 'soft', bank: 'hard', maxAge: 3600, unreachableTtl: 60, timeout: 5000, sweepInterval: 900 }),
  trustProxy: z.boolean().default(false),
  strictTransportSecurity: z.strictObject({ includeSubDomains: z.boolean().default(true) }).default({ includeSubDomains: true }),
  suspensionCacheTtl: z.number().min(0).max(60).default(2),
  storage: functionsOf<Storage>(['adapterFor', 'removeClient', 'grantIdsOf', 'clientIdsOf', 'incrementCounter', 'readCounter', 'resetCounter', 'incrementCountersWithin'], 'Storage').optional(),
  logger: functionsOf<Logger>(['info', 'warn', 'error']).optional(),
  now: z.custom<() => Date>((value) => typeof value === 'function', 'must be a function').optional(),
});

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

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly issuer: string;
  /** Path of the issuer URL without trailing slash: where the router must be mounted. */
  readonly mountPath: string;
  readonly signingKeys: { keys: Record<string, unknown>[] };
  readonly cookieKeys: string[];
  readonly environments: readonly (EnvironmentTrust & { readonly allowLoopbackRedirectUris: boolean })[];
  readonly sandbox: ResolvedSandboxPages | undefined;
  readonly bank: ResolvedBankPages | undefined;
  readonly pages: { readonly languages: readonly Language[]; readonly defaultLanguage: Language; readonly bankName: string | undefined; readonly stylesheet: string | undefined; readonly interactionLifetime: number };
  readonly tokens: {
    readonly accessTokenLifetime: { readonly aisp: number; readonly cbpii: number; readonly pisp: number };
    /** Seconds a consent lasts after the PSU's SCA, per environment. */
    readonly consentLifetime: { readonly sandbox: number; readonly bank: number };
    readonly rotateRefreshTokens: boolean;
  };
  readonly payments: {
    readonly requestLifetime: number;
    readonly onOutcome: ((outcome: PaymentOutcome) => void | Promise<void>) | undefined;
    readonly resource: string;
  };
  readonly resourceServers: readonly ResourceServerOptions[];
  readonly clientCertificateHeader: ClientCertificateHeaderOptions | undefined;
  /** The proxies whose certificate and X-Forwarded-For headers are believed; none without a header. */
  readonly proxies: TrustedProxies;
  readonly revocation: Required<RevocationOptions>;
  readonly trustProxy: boolean;
  readonly strictTransportSecurity: { readonly includeSubDomains: boolean };
  readonly storage: Storage | undefined;
  readonly suspensionCacheTtl: number;
  readonly logger: Logger | undefined;
  readonly now: () => Date;
}

function describePath(path: readonly PropertyKey[]): string {
  return path.map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index ? '.' : ''}${String(key)}`)).join('');
}

/** Validates options once at start-up; throws {@link ConfigurationError} naming the option path. */
export function resolveOptions(input: unknown): ResolvedOptions {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const unknown = issue?.code === 'unrecognized_keys' ? issue.keys : undefined;
    const path = describePath([...(issue?.path ?? []), ...(unknown?.length === 1 ? unknown : [])]);
    throw new ConfigurationError(path, unknown ? `unknown option${unknown.length > 1 ? `s ${unknown.join(', ')}` : ''}` : issue?.message ?? 'invalid');
  }
  const options = result.data;
  const environments = (['sandbox', 'bank'] as const).flatMap((name: EnvironmentName) => {
    const env = options.environments[name];
    if (!env) return [];
    return [{
      name,
      anchors: env.trustAnchors,
      requireQualifiedStatements: env.requireQualifiedStatements,
      requiredExtendedKeyUsages: env.requiredExtendedKeyUsages,
      minimumRsaKeySize: env.minimumRsaKeySize,
      ellipticCurves: env.ellipticCurves,
      signatureHashes: env.signatureHashes,
      acceptServerAuthOnlyCAs: env.acceptServerAuthOnlyCAs,
      allowLoopbackRedirectUris: env.allowLoopbackRedirectUris ?? name === 'sandbox',
    }];
  });
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
    trustProxy: options.trustProxy,
    strictTransportSecurity: options.strictTransportSecurity,
    storage: options.storage,
    suspensionCacheTtl: options.suspensionCacheTtl,
    logger: options.logger,
    now: options.now ?? (() => new Date()),
  };
}
