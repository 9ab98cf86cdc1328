/**
 * A small HTTPS client for the benchmark: requests over node:https (keep-alive agents, or a new
 * TLS connection per request), a PSU's browser with a cookie jar, and the whole authorization-code
 * flow of a PSU and a TPP, step by step as test/authorization/helpers.ts drives it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:https';

import { isProduct, REDIRECT_URI, SANDBOX_PSU, type Target } from './protocol.js';

export interface Endpoint {
  readonly port: number;
  /** CA of the server certificate. */
  readonly ca: string;
}

export interface TlsIdentity {
  readonly cert: string;
  readonly key: string;
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
}

/** A keep-alive agent; with `identity`, presenting that client certificate. */
export function keepAliveAgent(endpoint: Endpoint, identity?: TlsIdentity, maxSockets = 64): Agent {
  return new Agent({ keepAlive: true, maxSockets, ca: endpoint.ca, ...(identity ?? {}) });
}

/**
 * One request. `agent: false` opens a new TLS connection (a full handshake: no session is reused)
 * and closes it after the answer.
 */
export function send(endpoint: Endpoint, options: {
  readonly agent: Agent | false;
  readonly identity?: TlsIdentity;
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      servername: 'localhost',
      port: endpoint.port,
      method: options.method,
      path: options.path,
      agent: options.agent,
      ...(options.agent === false ? { ca: endpoint.ca, ...(options.identity ?? {}) } : {}),
      headers: {
        host: `localhost:${endpoint.port}`,
        ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
        ...(options.agent === false ? { connection: 'close' } : {}),
        ...options.headers,
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export function form(fields: Record<string, string | readonly string[]>): string {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const item of typeof value === 'string' ? [value] : value) body.append(name, item);
  }
  return body.toString();
}

export const FORM = 'application/x-www-form-urlencoded';

/** A PSU's browser: cookies by path, no redirect followed by itself. */
class Browser {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  constructor(readonly endpoint: Endpoint, readonly agent: Agent) {}

  get origin(): string {
    return `https://localhost:${this.endpoint.port}`;
  }

  async request(method: string, path: string, fields?: Record<string, string | readonly string[]>): Promise<Reply> {
    const cookie = [...this.#cookies.values()]
      .filter((c) => path.startsWith(c.path))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
    const reply = await send(this.endpoint, {
      agent: this.agent,
      method,
      path,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(fields ? { 'content-type': FORM, origin: this.origin } : {}),
      },
      ...(fields ? { body: form(fields) } : {}),
    });
    const setCookies = reply.headers['set-cookie'] ?? [];
    for (const line of typeof setCookies === 'string' ? [setCookies] : setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attribute = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const cookiePath = attribute('path') ?? '/';
      const expires = attribute('expires');
      const gone = !value || (expires !== undefined && Date.parse(expires) <= Date.now());
      if (gone) this.#cookies.delete(`${name} ${cookiePath}`);
      else this.#cookies.set(`${name} ${cookiePath}`, { name, value, path: cookiePath });
    }
    return reply;
  }
}

function expectStatus(reply: Reply, status: number, step: string): Reply {
  if (reply.status !== status) throw new Error(`${step}: expected ${status}, got ${reply.status}: ${reply.text.slice(0, 300)}`);
  return reply;
}

function pathOf(location: unknown, step: string): string {
  if (typeof location !== 'string') throw new Error(`${step}: no Location`);
  const url = new URL(location, 'https://localhost');
  return url.pathname + url.search;
}

function csrfOf(page: Reply): string {
  const match = /name="csrf" value="([^"]+)"/.exec(page.text);
  if (!match?.[1]) throw new Error('no CSRF field on the page');
  return match[1];
}

function formAction(page: Reply, suffix: string): string {
  const actions = [...page.text.matchAll(/<form method="post" action="([^"]+)"/g)].map((m) => (m[1] ?? '').replace(/&amp;/g, '&'));
  const action = actions.find((a) => new URL(a, 'https://localhost').pathname.endsWith(suffix));
  if (!action) throw new Error(`no form posting to …${suffix}; forms: ${actions.join(', ')}`);
  return pathOf(action, suffix);
}

export interface FlowContext {
  readonly target: Target;
  readonly endpoint: Endpoint;
  readonly clientId: string;
  /** The PSU's browser connections (no client certificate). */
  readonly browserAgent: Agent;
  /** The TPP's connections to the token endpoint (its certificate). */
  readonly tppAgent: Agent;
  /** When given, each request's latency (ms) is added to the list of its step. */
  readonly steps?: StepLatencies;
}

export interface FlowTokens {
  readonly access_token: string;
  readonly refresh_token?: string;
}

/** The requests of one flow, in order: authorize, sign-in page, sign-in, consent page, consent, resume, token. */
export const FLOW_STEPS = ['authorize', 'sign-in page', 'sign-in', 'consent page', 'consent', 'resume', 'code exchange'] as const;
export type FlowStep = (typeof FLOW_STEPS)[number];
export type StepLatencies = Map<FlowStep, number[]>;

/** HTTP requests one flow makes. */
export const FLOW_REQUESTS = FLOW_STEPS.length;

/**
 * A PSU's whole authorization with a fresh browser (the product's sandbox entry page or the bare
 * provider's authorization endpoint, the sign-in and consent pages, back to the TPP with a code),
 * then the TPP's code exchange over mutual TLS.
 */
export async function authorizationFlow(context: FlowContext): Promise<FlowTokens> {
  const browser = new Browser(context.endpoint, context.browserAgent);
  const step = async (name: FlowStep, status: number, request: () => Promise<Reply>): Promise<Reply> => {
    const started = performance.now();
    const reply = expectStatus(await request(), status, name);
    if (context.steps) {
      let list = context.steps.get(name);
      if (!list) context.steps.set(name, (list = []));
      list.push(performance.now() - started);
    }
    return reply;
  };
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: context.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'aisp',
    state: randomBytes(6).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const entry = isProduct(context.target) ? '/oauth2/en/sandbox/signin.html' : '/oauth2/authorize';
  const start = await step('authorize', 303, () => browser.request('GET', `${entry}?${query}`));
  const signIn = await step('sign-in page', 200, () => browser.request('GET', pathOf(start.headers.location, 'authorize')));
  const signedIn = await step('sign-in', 303, () => browser.request('POST', formAction(signIn, '/signin'), { csrf: csrfOf(signIn), psu: SANDBOX_PSU.id }));
  const consent = await step('consent page', 200, () => browser.request('GET', pathOf(signedIn.headers.location, 'sign-in')));
  const granted = await step('consent', 303, () => browser.request('POST', formAction(consent, '/consent'), {
    csrf: csrfOf(consent),
    decision: 'grant',
    accounts: [SANDBOX_PSU.accounts[0]!.id],
  }));
  const back = await step('resume', 303, () => browser.request('GET', pathOf(granted.headers.location, 'consent')));
  const location = String(back.headers.location);
  if (!location.startsWith(REDIRECT_URI)) throw new Error(`resume: not back to the TPP: ${location}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`resume: no code: ${location}`);
  const token = await step('code exchange', 200, () => send(context.endpoint, {
    agent: context.tppAgent,
    method: 'POST',
    path: '/oauth2/token',
    headers: { 'content-type': FORM },
    body: form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_id: context.clientId }),
  }));
  return JSON.parse(token.text) as FlowTokens;
}
