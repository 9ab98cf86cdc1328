import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import express from 'express';
import type Provider from 'oidc-provider';
import supertest from 'supertest';

import { createAuthorizationServer, type AuthorizationServer, type AuthorizationServerOptions } from '../../lib/index.js';
import { openApiDocument } from '../../lib/openapi/index.js';
import { resolveOptions } from '../../lib/options/index.js';
import { createOpenApiValidator, type OpenApiValidator } from './openapi.js';
import type { TppCredentials } from './pki.js';
import { testPki } from './pki.js';
import { SANDBOX_PSUS, TestBank } from './psus.js';

let signingKey: Record<string, unknown> | undefined;

/** One RSA signing key per test process. */
export function testSigningKey(): Record<string, unknown> {
  signingKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return signingKey;
}

export interface LogEntry {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export interface TestServer {
  readonly url: string;
  readonly issuer: string;
  readonly server: Server;
  /** The server, with its oidc-provider instance for tests that read what it stored. */
  readonly auth: AuthorizationServer & { readonly provider: Provider };
  readonly logs: LogEntry[];
  /** The first entry of {@link logs} that `matches`, logged already or when it is. */
  logged(matches: (entry: LogEntry) => boolean): Promise<LogEntry>;
  /** The bank authenticator and account directory the server uses (unless options replace them). */
  readonly bank: TestBank;
  /**
   * A supertest agent presenting `tpp` (or no certificate) over mutual TLS. Every response it
   * receives is checked against the OpenAPI document of the server's options ({@link openApi}):
   * an undocumented status, content type or field fails the test.
   */
  request(tpp?: TppCredentials): TlsAgent;
  /** The validator of the server's OpenAPI document. */
  readonly openApi: OpenApiValidator;
  close(): Promise<void>;
}

type Method = 'get' | 'post' | 'put' | 'delete';
export type TlsAgent = Record<Method, (path: string) => supertest.Test>;

export interface StartOptions {
  readonly options?: Partial<AuthorizationServerOptions>;
  /** Extra setup on the host app before the router is mounted. */
  readonly beforeMount?: (app: express.Express) => void;
  /** Where the host app mounts the router; default /oauth2 (the issuer's path). */
  readonly mountPath?: string;
  /** Extra setup on the host app after the router is mounted. */
  readonly afterMount?: (app: express.Express) => void;
  /** Address to listen on; default 127.0.0.1 (`::` for a dual-stack listener). */
  readonly host?: string;
}

/**
 * The server with its events emitter typed as what it is, oidc-provider's instance: tests read what
 * it stored (the public declarations name no oidc-provider type).
 */
export function withProvider(server: AuthorizationServer): AuthorizationServer & { readonly provider: Provider } {
  return server as AuthorizationServer & { readonly provider: Provider };
}

/**
 * Starts a host Express app that mounts the authorization server under /oauth2, over HTTPS with
 * `requestCert` on an ephemeral port, trusting the test PKI's sandbox and bank QTSPs.
 */
export async function startServer(start: StartOptions = {}): Promise<TestServer> {
  const pki = await testPki();
  const logs: LogEntry[] = [];
  const waiting = new Set<{ matches: (entry: LogEntry) => boolean; resolve: (entry: LogEntry) => void }>();
  const record = (level: string) => (fields: object, message: string) => {
    const entry = { level, fields: fields as Record<string, unknown>, message };
    logs.push(entry);
    for (const waiter of waiting) {
      if (waiter.matches(entry)) {
        waiting.delete(waiter);
        waiter.resolve(entry);
      }
    }
  };
  const logged = (matches: (entry: LogEntry) => boolean) => new Promise<LogEntry>((resolve) => {
    const found = logs.find(matches);
    if (found) resolve(found);
    else waiting.add({ matches, resolve });
  });
  const app = express();
  start.beforeMount?.(app);
  const server = createServer({
    key: pki.server.keyPem,
    cert: pki.server.certPem,
    requestCert: true,
    rejectUnauthorized: false,
  }, app);
  await new Promise<void>((resolve) => server.listen(0, start.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `https://localhost:${port}`;
  const issuer = `${url}/oauth2`;
  const bank = new TestBank();
  const input: AuthorizationServerOptions = {
    issuer,
    signingKeys: { keys: [testSigningKey()] },
    cookieKeys: ['test-cookie-key-0123456789abcdef0123456789'],
    environments: {
      sandbox: { trustAnchors: pki.sandboxRoot.certPem, requireQualifiedStatements: false, testPsus: SANDBOX_PSUS },
      bank: { trustAnchors: pki.bankCa.certPem, authenticator: bank, accounts: bank },
    },
    logger: { info: record('info'), warn: record('warn'), error: record('error') },
    // The test PKI's certificates name no OCSP responder or CRL: the revocation tests turn it on.
    revocation: { sandbox: 'off', bank: 'off' },
    ...start.options,
  };
  const auth = withProvider(createAuthorizationServer(input));
  const mountPath = start.mountPath ?? '/oauth2';
  // The document the router serves at openapi.json, built from the same options; its paths start
  // where the router is mounted (the issuer's path, unless a test mounts it elsewhere).
  const openApi = createOpenApiValidator(openApiDocument(resolveOptions(input)), mountPath);
  app.use(mountPath, auth.router);
  start.afterMount?.(app);

  const request = (tpp?: TppCredentials): TlsAgent => {
    const agent = supertest(url);
    const wrap = (method: Method) => (path: string) => {
      const test = agent[method](path).ca(pki.serverCa.certPem);
      if (tpp) test.cert(tpp.chainPem).key(tpp.keyPem);
      // Every response is checked against the OpenAPI document, before the test's own expectations
      // (the message names the status and the body). A redirect followed on purpose is checked at
      // its last URL when the method stays GET; after a POST or PUT the final method is unknown.
      return test.expect((res: supertest.Response) => {
        const followed = (res as supertest.Response & { redirects?: string[] }).redirects ?? [];
        if (!followed.length) openApi.checkResponse(method, path, res);
        else if (method === 'get') openApi.checkResponse(method, followed[followed.length - 1]!, res);
      });
    };
    return { get: wrap('get'), post: wrap('post'), put: wrap('put'), delete: wrap('delete') };
  };

  return {
    url,
    issuer,
    server,
    auth,
    logs,
    logged,
    bank,
    request,
    openApi,
    close: async () => {
      await auth.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
