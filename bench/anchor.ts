/**
 * The anchors: what a bank would otherwise deploy. oidc-provider configured for the product's job
 * (client_credentials over mutual TLS with tls_client_auth and certificate-bound tokens, the
 * authorization-code flow with PKCE, refresh without rotation, introspection) and otherwise with
 * its own defaults: its in-memory adapter, clients from its `clients` configuration, mTLS helpers
 * as short as the documentation asks for (the chain verified by OpenSSL during the handshake
 * against the sandbox root, the peer certificate read once per request, the subject DN compared
 * as a string). Nothing of the product.
 *
 * (a) `anchorExpressApp`: mounted in an Express 5 app as oidc-provider's documentation shows,
 *     `app.use('/oauth2', provider.callback())`, the minimal pages in front of it.
 * (b) `anchorHandler`: served by node:https directly, the path prefix handed over as in the
 *     documentation's recipes for mounts outside Express (`req.originalUrl`, `req.url` without it).
 */
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

import express, { type Express } from 'express';
import Provider, { type ClientMetadata, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import { SCOPES } from '../lib/psd2/scopes.js';
import { pagesHandler, pagesRouter } from './pages.js';
import { BARE_CLIENT_ID, COOKIE_KEY, REDIRECT_URI, RESOURCE_SERVER } from './protocol.js';

const DAY = 24 * 60 * 60;

/** A certificate's subject as an RFC 4514 string (most significant RDN last), as the client registers it. */
export function subjectDnOf(certificate: X509Certificate): string {
  return certificate.subject.split('\n').reverse().join(', ');
}

/**
 * What defines the job, the same for every baseline (bare and the anchors): keys, grants, scopes,
 * endpoint paths (the product's), token lifetimes, refresh tokens issued to clients allowed the
 * grant and not rotated, tokens not ending with the session, PKCE, the interaction pages' URL.
 */
export function jobConfiguration(mountPath: string, signingKey: Record<string, unknown>): Configuration {
  return {
    jwks: { keys: [signingKey] } as Configuration['jwks'],
    cookies: { keys: [COOKIE_KEY] },
    scopes: [...SCOPES],
    responseTypes: ['code'],
    clientAuthMethods: ['tls_client_auth', 'client_secret_basic'],
    routes: { authorization: '/authorize', token: '/token', revocation: '/revoke', jwks: '/jwks', introspection: '/introspect' },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    ttl: {
      Interaction: 600,
      Session: 600,
      Grant: 210 * DAY,
      RefreshToken: 210 * DAY,
      AccessToken: 3600,
      ClientCredentials: 600,
    },
    rotateRefreshToken: () => false,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: () => false,
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `${mountPath}/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
  };
}

/** The baselines' clients: the TPP (tls_client_auth, bound tokens) and the resource server (client_secret_basic). */
export function baselineClients(subjectDn: string): ClientMetadata[] {
  return [
    {
      client_id: BARE_CLIENT_ID,
      client_name: 'Bench TPP',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      scope: 'aisp extended_transaction_history pisp',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: subjectDn,
      tls_client_certificate_bound_access_tokens: true,
    },
    {
      client_id: RESOURCE_SERVER.id,
      client_secret: RESOURCE_SERVER.secret,
      redirect_uris: [],
      grant_types: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ];
}

/**
 * The peer certificate, read once per request (the baselines' getCertificate): oidc-provider asks
 * for it several times per token request, and on Node 24 each getPeerX509Certificate() call builds
 * the certificate and its issuer chain anew (tens to hundreds of µs; parsing the DER again with
 * `new X509Certificate(raw)` costs as much). Once per request, not per connection: knowing the
 * connection's client is the product's own business, not the baselines'.
 */
const certificates = new WeakMap<IncomingMessage, X509Certificate | null>();
export function peerCertificate(ctx: KoaContextWithOIDC): X509Certificate | undefined {
  let certificate = certificates.get(ctx.req);
  if (certificate === undefined) {
    certificate = (ctx.socket as TLSSocket).getPeerX509Certificate() ?? null;
    certificates.set(ctx.req, certificate);
  }
  return certificate ?? undefined;
}

function createAnchorProvider(issuer: string, signingKey: Record<string, unknown>, subjectDn: string): Provider {
  const job = jobConfiguration(new URL(issuer).pathname, signingKey);
  return new Provider(issuer, {
    ...job,
    clients: baselineClients(subjectDn),
    features: {
      ...job.features,
      mTLS: {
        enabled: true,
        tlsClientAuth: true,
        certificateBoundAccessTokens: true,
        getCertificate: peerCertificate,
        certificateAuthorized: (ctx) => (ctx.socket as TLSSocket).authorized,
        certificateSubjectMatches: (ctx, property, expected) => {
          const certificate = peerCertificate(ctx);
          return property === 'tls_client_auth_subject_dn' && certificate !== undefined && subjectDnOf(certificate) === expected;
        },
      },
    },
  });
}

/** TLS server options of the anchors: OpenSSL verifies the client's chain against the sandbox root. */
export function anchorTlsOptions(sandboxRootPem: string): { ca: string } {
  return { ca: sandboxRootPem };
}

/** Anchor (a): oidc-provider mounted in an Express 5 app, as its documentation shows. */
export function anchorExpressApp(issuer: string, signingKey: Record<string, unknown>, subjectDn: string): Express {
  const mountPath = new URL(issuer).pathname;
  const provider = createAnchorProvider(issuer, signingKey, subjectDn);
  const app = express();
  app.use(`${mountPath}/interaction`, pagesRouter(provider, mountPath));
  app.use(mountPath, provider.callback());
  return app;
}

/** Anchor (b): oidc-provider served by node:https directly. */
export function anchorHandler(issuer: string, signingKey: Record<string, unknown>, subjectDn: string): RequestListener {
  const mountPath = new URL(issuer).pathname;
  const provider = createAnchorProvider(issuer, signingKey, subjectDn);
  const callback = provider.callback();
  const pages = pagesHandler(provider, mountPath);
  return (req: IncomingMessage, res: ServerResponse) => {
    if (pages(req, res)) return;
    const url = req.url ?? '/';
    if (!url.startsWith(`${mountPath}/`)) {
      res.writeHead(404).end();
      return;
    }
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
    req.url = url.slice(mountPath.length);
    void callback(req, res);
  };
}
