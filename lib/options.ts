import { X509Certificate } from 'node:crypto';

import { z } from 'zod';

import type { Storage } from '../adapters/storage.js';
import type { EnvironmentName, EnvironmentTrust } from './certificates/identity.js';
import type { ExtendedKeyUsageName } from './certificates/oids.js';
import { ConfigurationError } from './errors.js';
import type { Logger } from './logger.js';

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
   * Accept `http` redirect URIs on loopback hosts (RFC 8252 §7.3) for TPP development.
   * Default `true` for `sandbox`, `false` for `bank`.
   */
  allowLoopbackRedirectUris?: boolean;
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
  environments: { sandbox?: EnvironmentOptions; bank?: EnvironmentOptions };
  /**
   * Read client certificates from a header set by the bank's TLS-terminating proxy instead of
   * from the TLS connection. Default: off, and such headers sent by clients are ignored.
   */
  clientCertificateHeader?: ClientCertificateHeaderOptions;
  /**
   * Trust `X-Forwarded-*` headers for the request's protocol and host (set when behind a proxy).
   * Default `false`.
   */
  trustProxy?: boolean;
  /** Where clients, grants and tokens are kept. Default: in-memory (development only). */
  storage?: Storage;
  /** Where log entries go; a pino logger fits. Default: warnings and errors as JSON on stderr. */
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

const environmentSchema = z.strictObject({
  trustAnchors: z.union([z.string(), z.instanceof(Buffer)]).transform(parseBundle),
  requireQualifiedStatements: z.boolean().default(true),
  requiredExtendedKeyUsages: z.array(z.enum(['serverAuth', 'clientAuth'])).default([]),
  allowLoopbackRedirectUris: z.boolean().optional(),
});

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
    sandbox: environmentSchema.optional(),
    bank: environmentSchema.optional(),
  }).refine((value) => value.sandbox || value.bank, 'configure at least one of sandbox and bank'),
  clientCertificateHeader: z.strictObject({
    header: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name'),
    chainHeader: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a header name').optional(),
  }).optional(),
  trustProxy: z.boolean().default(false),
  storage: z.custom<Storage>(
    (value) => typeof (value as Storage | undefined)?.adapterFor === 'function'
      && typeof (value as Storage).removeClient === 'function',
    'must implement the Storage interface (adapterFor, removeClient)',
  ).optional(),
  logger: z.custom<Logger>(
    (value) => ['info', 'warn', 'error'].every((level) => typeof (value as Record<string, unknown> | undefined)?.[level] === 'function'),
    'must have info, warn and error methods',
  ).optional(),
  now: z.custom<() => Date>((value) => typeof value === 'function', 'must be a function').optional(),
});

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly issuer: string;
  /** Path of the issuer URL without trailing slash: where the router must be mounted. */
  readonly mountPath: string;
  readonly signingKeys: { keys: Record<string, unknown>[] };
  readonly cookieKeys: string[];
  readonly environments: readonly (EnvironmentTrust & { readonly allowLoopbackRedirectUris: boolean })[];
  readonly clientCertificateHeader: ClientCertificateHeaderOptions | undefined;
  readonly trustProxy: boolean;
  readonly storage: Storage | undefined;
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
      allowLoopbackRedirectUris: env.allowLoopbackRedirectUris ?? name === 'sandbox',
    }];
  });
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
    clientCertificateHeader: options.clientCertificateHeader,
    trustProxy: options.trustProxy,
    storage: options.storage,
    logger: options.logger,
    now: options.now ?? (() => new Date()),
  };
}
