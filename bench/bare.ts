/**
 * The PSD2-layer baseline ("bare"): oidc-provider configured as closely as possible to what
 * createAuthorizationServer configures (the job of bench/anchor.ts, plus the product's cookie
 * options, disabled features and client defaults), on the product's own storage adapter and
 * mounted the same way, without the PSD2 layer: no certificate chain or QWAC checks, no suspension
 * checks, no PSD2 consent record, no PSU pages beyond a minimal sign-in and consent form. What it
 * measures is the cost of the PSD2 layer; the anchors measure the cost against what a bank would
 * otherwise deploy.
 */
import type { Router } from 'express';
import Provider, { type Configuration } from 'oidc-provider';

import type { Storage } from '../lib/index.js';
import { jobConfiguration, peerCertificate } from './anchor.js';
import { pagesRouter } from './pages.js';

/** A DN as a sorted set of `type=value`, whatever its order, separators, case or attribute names. */
function looseDn(dn: string): string {
  const names: Record<string, string> = { organizationidentifier: '2.5.4.97', commonname: 'cn', countryname: 'c', organizationname: 'o' };
  return dn.split(/\n|,(?=\s*[A-Za-z0-9.]+=)/)
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const eq = part.indexOf('=');
      const type = part.slice(0, eq).trim().toLowerCase();
      return `${names[type] ?? type}=${part.slice(eq + 1).trim().toLowerCase()}`;
    })
    .sort()
    .join(',');
}

export interface BareServer {
  readonly provider: Provider;
  /** The minimal PSU pages, to mount at /oauth2/interaction. */
  readonly interactions: Router;
}

export function createBareProvider(issuer: string, storage: Storage, signingKey: Record<string, unknown>): BareServer {
  const mountPath = new URL(issuer).pathname;
  const job = jobConfiguration(mountPath, signingKey);
  const configuration: Configuration = {
    ...job,
    adapter: (name: string) => storage.adapterFor(name),
    cookies: {
      ...job.cookies,
      long: { signed: true, secure: true, sameSite: 'lax' },
      short: { signed: true, secure: true, sameSite: 'lax' },
    },
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
      id_token_signed_response_alg: 'RS256',
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      introspection: { enabled: true, allowedPolicy: async () => true },
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        certificateBoundAccessTokens: true,
        getCertificate: (ctx) => peerCertificate(ctx),
        certificateAuthorized: (ctx) => peerCertificate(ctx) !== undefined,
        certificateSubjectMatches: (ctx, property, expected) => {
          const certificate = peerCertificate(ctx);
          return property === 'tls_client_auth_subject_dn' && certificate !== undefined && looseDn(certificate.subject) === looseDn(expected);
        },
      },
    },
  };
  const provider = new Provider(issuer, configuration);
  return { provider, interactions: pagesRouter(provider, mountPath) };
}
