/**
 * The scenarios: a server child opened for a target (the product registers its TPP client as a
 * TPP does), and for each scenario one checked operation and its load (autocannon over keep-alive
 * connections, or a closed loop of workers).
 */
import { randomBytes } from 'node:crypto';

import { authorizationFlow, FORM, form, keepAliveAgent, send, type Endpoint, type FlowTokens, type StepLatencies, type TlsIdentity } from './http.js';
import { autocannonLoad, closedLoop, type LoadResult } from './load.js';
import { config } from './options.js';
import type { BenchPki } from './pki.js';
import { BARE_CLIENT_ID, isAnchor, isProduct, REDIRECT_URI, RESOURCE_SERVER, type StorageName, type Target } from './protocol.js';
import type { BenchRedis } from './redis.js';
import type { ScenarioName } from './results.js';
import { ServerChild } from './server-child.js';

export interface Context {
  readonly pki: BenchPki;
  readonly tpp: TlsIdentity;
  readonly redis: BenchRedis | undefined;
  /** The TPP certificate's subject, RFC 4514: the baselines' tls_client_auth_subject_dn. */
  readonly subjectDn: string;
}

export interface Session {
  readonly target: Target;
  /** The storage the server really uses (the anchors: always their own memory adapter). */
  readonly storage: StorageName;
  readonly server: ServerChild;
  readonly endpoint: Endpoint;
  readonly clientId: string;
  readonly keyPrefix: string;
}

export interface Prepared {
  readonly unit: 'request' | 'flow';
  /** One operation, checked. */
  once(): Promise<void>;
  load(seconds: number): Promise<LoadResult>;
  /** The flow's latencies by page since the last call (flows only). */
  takeSteps?(): StepLatencies;
}

export async function openSession(context: Context, target: Target, storage: StorageName): Promise<Session> {
  const keyPrefix = `bench:${target}:${randomBytes(3).toString('hex')}:`;
  const used: StorageName = isAnchor(target) ? 'memory' : storage;
  const server = await ServerChild.start({
    target,
    storage: used,
    ...(used === 'redis' ? { redisUrl: context.redis!.url } : {}),
    keyPrefix,
    tls: { key: context.pki.serverKeyPem, cert: context.pki.serverCertPem },
    sandboxRootPem: context.pki.sandboxRootPem,
    signingKey: context.pki.signingKey,
    tppSubjectDn: context.subjectDn,
    revocation: config.revocation,
  });
  const endpoint: Endpoint = { port: server.port, ca: context.pki.serverCaPem };
  let clientId = BARE_CLIENT_ID;
  if (isProduct(target)) {
    // Registered as a TPP does (RFC 7591 over mutual TLS): the roles of its certificate give it
    // aisp (authorization code, refresh) and pisp (client credentials).
    const reply = await send(endpoint, {
      agent: false,
      identity: context.tpp,
      method: 'POST',
      path: '/oauth2/register',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [REDIRECT_URI], client_name: 'Bench TPP' }),
    });
    if (reply.status !== 201) throw new Error(`registration failed: ${reply.status} ${reply.text}`);
    clientId = String((JSON.parse(reply.text) as { client_id: string }).client_id);
  }
  return { target, storage: used, server, endpoint, clientId, keyPrefix };
}

function expectOk(status: number, text: string, what: string): void {
  if (status !== 200) throw new Error(`${what}: ${status} ${text.slice(0, 300)}`);
}

/** `count` authorization-code flows, BENCH_CONNECTIONS at a time: refresh and access tokens to use. */
async function tokenPool(session: Session, context: Context, count: number): Promise<FlowTokens[]> {
  const browserAgent = keepAliveAgent(session.endpoint);
  const tppAgent = keepAliveAgent(session.endpoint, context.tpp);
  const tokens: FlowTokens[] = [];
  let started = 0;
  await Promise.all(Array.from({ length: Math.min(count, config.connections) }, async () => {
    while (started < count) {
      started += 1;
      tokens.push(await authorizationFlow({ target: session.target, endpoint: session.endpoint, clientId: session.clientId, browserAgent, tppAgent }));
    }
  }));
  browserAgent.destroy();
  tppAgent.destroy();
  return tokens;
}

const basicAuthorization = `Basic ${Buffer.from(`${encodeURIComponent(RESOURCE_SERVER.id)}:${encodeURIComponent(RESOURCE_SERVER.secret)}`).toString('base64')}`;

export async function prepare(scenario: ScenarioName, session: Session, context: Context): Promise<Prepared> {
  const { endpoint, clientId } = session;
  const tppAgent = keepAliveAgent(endpoint, context.tpp);
  const tls = { ca: endpoint.ca, cert: context.tpp.cert, key: context.tpp.key };
  const token = async (body: string, agent: typeof tppAgent | false = tppAgent): Promise<string> => {
    const reply = await send(endpoint, { agent, identity: context.tpp, method: 'POST', path: '/oauth2/token', headers: { 'content-type': FORM }, body });
    expectOk(reply.status, reply.text, scenario);
    return reply.text;
  };
  const tokenLoad = (body: string | (() => string)) => (seconds: number) => autocannonLoad({
    port: endpoint.port, path: '/oauth2/token', connections: config.connections, seconds, tls, headers: { 'content-type': FORM }, body,
  });
  const ccBody = form({ grant_type: 'client_credentials', scope: 'pisp', client_id: clientId });

  switch (scenario) {
    case 'client_credentials':
      return { unit: 'request', once: async () => { await token(ccBody); }, load: tokenLoad(ccBody) };
    case 'client_credentials_new_tls': {
      const once = async () => { await token(ccBody, false); };
      return { unit: 'request', once, load: (seconds) => closedLoop(config.connections, seconds, once) };
    }
    case 'refresh_token': {
      const pool = (await tokenPool(session, context, config.pool)).map((tokens) => tokens.refresh_token);
      if (pool.some((value) => !value)) throw new Error(`${session.target}: a flow gave no refresh token`);
      let next = 0;
      const body = () => form({ grant_type: 'refresh_token', refresh_token: pool[(next += 1) % pool.length]!, client_id: clientId });
      return { unit: 'request', once: async () => { await token(body()); }, load: tokenLoad(body) };
    }
    case 'authorization_code': {
      const browserAgent = keepAliveAgent(endpoint);
      let steps: StepLatencies = new Map();
      const once = async () => { await authorizationFlow({ target: session.target, endpoint, clientId, browserAgent, tppAgent, steps }); };
      const takeSteps = () => {
        const taken = steps;
        steps = new Map();
        return taken;
      };
      return { unit: 'flow', once, load: (seconds) => closedLoop(config.connections, seconds, once), takeSteps };
    }
    case 'introspection': {
      const pool = (await tokenPool(session, context, config.pool)).map((tokens) => tokens.access_token);
      let next = 0;
      const body = () => form({ token: pool[(next += 1) % pool.length]! });
      const headers = { 'content-type': FORM, authorization: basicAuthorization };
      const rsAgent = keepAliveAgent(endpoint);
      return {
        unit: 'request',
        once: async () => {
          const reply = await send(endpoint, { agent: rsAgent, method: 'POST', path: '/oauth2/introspect', headers, body: body() });
          expectOk(reply.status, reply.text, scenario);
          if (!(JSON.parse(reply.text) as { active?: boolean }).active) throw new Error(`introspection: inactive token: ${reply.text}`);
        },
        load: (seconds) => autocannonLoad({ port: endpoint.port, path: '/oauth2/introspect', connections: config.connections, seconds, tls: { ca: endpoint.ca }, headers, body }),
      };
    }
    default:
      throw new Error(`unknown scenario ${String(scenario)}`);
  }
}
