/**
 * The baseline: oidc-provider alone, configured as closely as possible to what
 * createAuthorizationServer configures (same grants, scopes, token lifetimes, cookies, PKCE,
 * tls_client_auth with certificate-bound tokens, the same storage adapter), without the PSD2
 * layer: no certificate chain or QWAC checks, no suspension checks, no PSD2 consent record, no
 * PSU pages beyond a minimal sign-in and consent form.
 */
import { randomBytes, type X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

import express, { type Router } from 'express';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

import type { Storage } from '../lib/storage.js';
import { SCOPES } from '../lib/psd2/scopes.js';
import { BARE_CLIENT_ID, COOKIE_KEY, REDIRECT_URI, RESOURCE_SERVER, SANDBOX_PSU } from './protocol.js';

const DAY = 24 * 60 * 60;

/**
 * The peer certificate of a request's TLS connection, read once per request.
 * getPeerX509Certificate() wraps the certificate OpenSSL already parsed (~2 µs); parsing its DER
 * again with `new X509Certificate(raw)` costs ~130 µs on Node 20 / OpenSSL 3.
 */
const certificates = new WeakMap<IncomingMessage, X509Certificate | null>();
function peerCertificate(ctx: KoaContextWithOIDC): X509Certificate | undefined {
  const req = ctx.req;
  let certificate = certificates.get(req);
  if (certificate === undefined) {
    certificate = (req.socket as Partial<TLSSocket>).getPeerX509Certificate?.() ?? null;
    certificates.set(req, certificate);
  }
  return certificate ?? undefined;
}

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
  const configuration: Configuration = {
    adapter: (name: string) => storage.adapterFor(name),
    jwks: { keys: [signingKey] } as Configuration['jwks'],
    cookies: {
      keys: [COOKIE_KEY],
      long: { signed: true, secure: true, sameSite: 'lax' },
      short: { signed: true, secure: true, sameSite: 'lax' },
    },
    scopes: [...SCOPES],
    responseTypes: ['code'],
    clientAuthMethods: ['tls_client_auth', 'client_secret_basic'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_certificate_bound_access_tokens: true,
      id_token_signed_response_alg: 'RS256',
    },
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
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      clientCredentials: { enabled: true },
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      revocation: { enabled: true },
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

  // PSU pages as small as can be, with the same steps (and so the same requests) as the product's.
  const interactions = express.Router();
  const form = express.urlencoded({ extended: false });
  const page = (uid: string, action: string, fields: string) => `<!doctype html><title>${action}</title><form method="post" action="${mountPath}/interaction/${uid}/${action}"><input type="hidden" name="csrf" value="${randomBytes(16).toString('base64url')}">${fields}<button>ok</button></form>`;
  interactions.get('/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      const signedIn = Boolean(details.result?.login);
      res.type('html').send(signedIn
        ? page(details.uid, 'consent', SANDBOX_PSU.accounts.map((account) => `<input type="checkbox" name="accounts" value="${account.id}">`).join(''))
        : page(details.uid, 'signin', `<input type="radio" name="psu" value="${SANDBOX_PSU.id}">`));
    } catch (error) {
      next(error);
    }
  });
  interactions.post('/:uid/signin', form, async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      await provider.interactionResult(req, res, { login: { accountId: String((req.body as Record<string, unknown>).psu) } }, { mergeWithLastSubmission: false });
      res.redirect(303, `${mountPath}/interaction/${details.uid}`);
    } catch (error) {
      next(error);
    }
  });
  interactions.post('/:uid/consent', form, async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      const accountId = String((details.result?.login as { accountId?: string } | undefined)?.accountId);
      const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
    } catch (error) {
      next(error);
    }
  });
  return { provider, interactions };
}

/** The bare provider's clients, registered through the storage (so found through it, as the product's). */
export function bareClients(subjectDn: string): Record<string, unknown>[] {
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
