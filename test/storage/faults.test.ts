/**
 * Redis failing under load: stopped while requests run, then started again; and Redis too slow to
 * answer. API callers get a quick `503 temporarily_unavailable` with Retry-After, PSUs a page (or
 * a redirect to the TPP carrying that code), endpoints without storage keep answering, and the
 * server recovers by itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';
import type { Adapter } from 'oidc-provider';
import { createClient } from 'redis';
import type { Response } from 'supertest';

import { RedisStorage, type RedisCommands } from '../../adapters/redis.js';
import type { Storage } from '../../lib/storage.js';
import { StorageUnavailableError } from '../../lib/errors.js';
import {
  REDIRECT_URI, authorizationUrl, entryPath, exchangeCode, openPages, pkce, redirectParams, registerClient, requestParams, sandboxAuthorization, type TestClient,
} from '../authorization/helpers.js';
import { LEAK } from '../support/leak.js';
import { sandboxTpp } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { freePort, RedisProcess, startRedis, type TestRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';
import { withAdapters } from '../support/storage.js';

const SECRET = 'faults-resource-server-secret-0123456789';
/** What "answers quickly" means here: the storage timeout is 1 s in these tests (2 s by default). */
const QUICK_MS = 3000;

/** Polls `probe` every 50 ms until it returns a value, or fails after `ms`. */
async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs `request` and measures how long it took. */
async function timed<T>(request: () => PromiseLike<T>): Promise<{ res: T; ms: number }> {
  const started = Date.now();
  const res = await request();
  return { res, ms: Date.now() - started };
}

/** An API answer while the storage is out: 503 JSON temporarily_unavailable, Retry-After, no stack trace. */
function expectUnavailableJson(what: string, res: Response, ms: number): void {
  expect(res.status, `${what}: ${res.status} ${res.text}`).to.equal(503);
  expect(res.headers['content-type'], what).to.match(/^application\/json/);
  expect(res.body.error, what).to.equal('temporarily_unavailable');
  expect(res.body.error_description, what).to.be.a('string').and.not.equal('');
  expect(res.headers['retry-after'], `${what}: Retry-After`).to.match(/^\d+$/);
  expect(res.text, what).not.to.match(LEAK);
  expect(ms, `${what}: answered in ${ms} ms`).to.be.below(QUICK_MS);
}

/** A PSU's answer while the storage is out: a 503 page in `language`, or a redirect to the TPP with temporarily_unavailable. */
function expectUnavailableForPsu(what: string, res: PageResponse, ms: number, title = 'Service temporarily unavailable'): void {
  expect(ms, `${what}: answered in ${ms} ms`).to.be.below(QUICK_MS);
  expect(res.text, what).not.to.match(LEAK);
  if (res.status >= 300 && res.status < 400) {
    const back = redirectParams(res.location);
    expect(back.get('error'), `${what}: ${res.location}`).to.equal('temporarily_unavailable');
    return;
  }
  expect(res.status, `${what}: ${res.status} ${res.text.slice(0, 400)}`).to.equal(503);
  expect(res.headers['content-type'], what).to.match(/^text\/html/);
  expect(res.text, what).to.contain(title);
  expect(res.headers['retry-after'], `${what}: Retry-After`).to.match(/^\d+$/);
  const details = /<details>[\s\S]*?<\/details>/.exec(res.text)?.[0] ?? '';
  expect(details, `${what}: the page's technical details name server_error`).not.to.contain('server_error');
}

interface Outcome {
  readonly kind: 'token' | 'metadata';
  readonly res: Response;
  readonly ms: number;
  readonly at: number;
}

/**
 * Requests in a loop, `workers` in flight at a time: client credentials token requests and
 * metadata reads, each outcome recorded with when it started.
 */
function load(server: TestServer, client: TestClient, workers: number): { outcomes: Outcome[]; stop(): Promise<void> } {
  const outcomes: Outcome[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      for (const kind of ['token', 'metadata'] as const) {
        const at = Date.now();
        const { res, ms } = await timed(() => kind === 'token'
          ? server.request(client.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId })
          : server.request().get('/oauth2/.well-known/oauth-authorization-server'));
        outcomes.push({ kind, res, ms, at });
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, worker));
  return {
    outcomes,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** Records what escapes to the process while `body` runs. */
function watchProcess(): { readonly escaped: unknown[]; stop(): void } {
  const escaped: unknown[] = [];
  const record = (error: unknown) => { escaped.push(error); };
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  return {
    escaped,
    stop: () => {
      process.off('unhandledRejection', record);
      process.off('uncaughtException', record);
    },
  };
}

describe('storage faults: Redis stopped under load, then started again', function outage() {
  this.timeout(40_000);
  let redis: TestRedis;
  let server: TestServer;
  let serial = 0;
  let client: TestClient;
  let tokens: Record<string, string>;
  let watch: ReturnType<typeof watchProcess>;
  let running: ReturnType<typeof load> | undefined;
  let stoppedAt: number;
  let firstRefusal: { res: Response; ms: number };
  /** A PSU on the sign-in page when Redis goes away, and one who has just decided (on the way back through the authorization endpoint). */
  let waiting: PsuBrowser;
  let signIn: PageResponse;
  let deciding: PsuBrowser;
  let decided: PageResponse;

  async function organization(): Promise<TestClient> {
    serial += 1;
    const roles: ('PSP_AI' | 'PSP_PI')[] = ['PSP_AI', 'PSP_PI'];
    const tpp = await sandboxTpp({ roles, organization: `Fault ${serial}`, authorisationNumber: `FAULT${serial}` });
    return registerClient(server, { roles, tpp, body: { client_name: `Fault ${serial}` } });
  }

  const clientCredentials = (who: TestClient) => server.request(who.tpp).post('/oauth2/token').type('form')
    .send({ grant_type: 'client_credentials', scope: 'pisp', client_id: who.clientId });

  before(async function setUp() {
    redis = await startRedis();
    if (redis.kind !== 'single') this.skip();
    server = await startServer({
      options: { storage: new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, timeout: 1000 }), resourceServers: [{ id: 'api', secret: SECRET }] },
    });
    watch = watchProcess();
    client = await organization();
    const pair = pkce();
    const { location } = await sandboxAuthorization(server, client, { pair });
    const exchanged = await exchangeCode(server, client, redirectParams(location).get('code')!, pair);
    expect(exchanged.status, exchanged.text).to.equal(200);
    tokens = exchanged.body as Record<string, string>;

    waiting = new PsuBrowser();
    signIn = await openPages(server, waiting, authorizationUrl(server, requestParams(client), entryPath('sandbox')));
    deciding = new PsuBrowser();
    const first = await openPages(server, deciding, authorizationUrl(server, requestParams(client), entryPath('sandbox')));
    const consentPage = await deciding.follow(await deciding.post(formAction(first, '/signin'), { csrf: csrfOf(first), psu: 'sandbox-anna' }), server.url);
    decided = await deciding.post(formAction(consentPage, '/consent'), { csrf: csrfOf(consentPage), decision: 'grant', accounts: 'sb-anna-1' });
    expect(decided.status, decided.text).to.equal(303);
    expect(decided.location).to.match(new RegExp(`^${server.issuer}/`));

    running = load(server, client, 3);
    await until('the load runs', 5000, async () => running!.outcomes.some((o) => o.kind === 'token' && o.res.status === 200) || undefined);
    stoppedAt = Date.now();
    await redis.processes[0]!.stop();
    firstRefusal = await until('a token request refused after Redis stopped', QUICK_MS, async () => {
      const answer = await timed(() => clientCredentials(client));
      return answer.res.status === 200 ? undefined : answer;
    });
  });
  after(async () => {
    watch?.stop();
    await running?.stop();
    await server?.close();
    await redis?.close();
  });

  it('answers token, registration, management, revocation and introspection requests with a quick 503 temporarily_unavailable', async () => {
    expectUnavailableJson('first token request after the stop', firstRefusal.res, firstRefusal.ms);
    const api: [string, () => PromiseLike<Response>][] = [
      ['client_credentials', () => clientCredentials(client)],
      ['refresh_token', () => server.request(client.tpp).post('/oauth2/token').type('form').send({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: client.clientId })],
      ['registration', () => server.request(client.tpp).post('/oauth2/register').send({ redirect_uris: [REDIRECT_URI], client_name: 'During outage' })],
      ['RFC 7592 read', () => server.request(client.tpp).get(`/oauth2/register/${client.clientId}`)],
      ['RFC 7592 delete', () => server.request(client.tpp).delete(`/oauth2/register/${client.clientId}`)],
      ['revocation', () => server.request(client.tpp).post('/oauth2/revoke').type('form').send({ token: tokens.refresh_token, client_id: client.clientId })],
      ['introspection', () => server.request().post('/oauth2/introspect').type('form')
        .set('Authorization', `Basic ${Buffer.from(`api:${SECRET}`).toString('base64')}`).send({ token: tokens.access_token })],
    ];
    for (const [what, send] of api) {
      const { res, ms } = await timed(send);
      expectUnavailableJson(what, res, ms);
    }
  });

  it('keeps serving metadata and JWKS, which need no storage', async () => {
    for (const path of ['/oauth2/.well-known/oauth-authorization-server', '/oauth2/.well-known/openid-configuration', '/oauth2/jwks']) {
      const { res, ms } = await timed(() => server.request().get(path));
      expect(res.status, `${path}: ${res.text}`).to.equal(200);
      expect(ms, path).to.be.below(QUICK_MS);
    }
  });

  it('answers an authorization request with a 503 page (localized) or a redirect carrying temporarily_unavailable', async () => {
    const authorize = await timed(() => new PsuBrowser().get(authorizationUrl(server, requestParams(client))));
    expectUnavailableForPsu('GET /authorize', authorize.res, authorize.ms);
    const entry = await timed(() => new PsuBrowser().get(authorizationUrl(server, requestParams(client), entryPath('sandbox', 'fr'))));
    expectUnavailableForPsu('GET of the French entry page', entry.res, entry.ms, 'Service temporairement indisponible');
  });

  it('answers the PSU pages of an interaction started before the outage with a 503 page', async () => {
    const page = await timed(() => waiting.get(signIn.url));
    expectUnavailableForPsu('GET of a PSU page', page.res, page.ms);
    const post = await timed(() => waiting.post(formAction(signIn, '/signin'), { csrf: csrfOf(signIn), psu: 'sandbox-anna' }));
    expectUnavailableForPsu('POST of the sign-in form', post.res, post.ms);
  });

  it('answers a PSU coming back from a decision (authorization resume) with a 503 page or a redirect carrying temporarily_unavailable', async () => {
    const resume = await timed(() => deciding.get(decided.location!));
    expectUnavailableForPsu('GET of the authorization resume', resume.res, resume.ms);
  });

  it('answered every request of the load quickly: 200 before the stop, 503 JSON after it, metadata always 200', async () => {
    await until('load during the outage', 10_000, async () => running!.outcomes.filter((o) => o.at > stoppedAt + 200 && o.kind === 'token').length >= 15 || undefined);
    await running!.stop();
    const { outcomes } = running!;
    running = undefined;
    for (const { kind, res, ms, at } of outcomes) {
      const what = `${kind} at +${at - stoppedAt} ms`;
      expect(res.status, `${what}: ${res.text}`).to.be.oneOf([200, 503]);
      if (kind === 'metadata') expect(res.status, what).to.equal(200);
      if (res.status === 503) expectUnavailableJson(what, res, ms);
      else expect(ms, `${what}: answered in ${ms} ms`).to.be.below(QUICK_MS);
      if (kind === 'token' && at > stoppedAt + 200) expect(res.status, what).to.equal(503);
    }
    expect(outcomes.filter((o) => o.kind === 'token' && o.at < stoppedAt && o.res.status === 200).length, 'tokens before the stop').to.be.greaterThan(0);
    expect(server.server.listening).to.equal(true);
    expect(server.logs.some((line) => line.level === 'error' && line.fields.event === 'storage.unavailable'), 'the outage is logged').to.equal(true);
  });

  it('recovers by itself once Redis is started again (empty: a new registration works, the lost client is unknown)', async () => {
    await redis.processes[0]!.start();
    const startedAt = Date.now();
    const again = await until('a registration after Redis started again', 5000, async () => {
      serial += 1;
      const tpp = await sandboxTpp({ roles: ['PSP_AI', 'PSP_PI'], organization: `Fault ${serial}`, authorisationNumber: `FAULT${serial}` });
      const res = await server.request(tpp).post('/oauth2/register').send({ redirect_uris: [REDIRECT_URI], client_name: 'After outage' });
      return res.status === 201 ? { clientId: String(res.body.client_id), tpp, environment: 'sandbox' as const } : undefined;
    });
    expect(Date.now() - startedAt, 'recovery time').to.be.below(5000);
    const cc = await clientCredentials(again);
    expect(cc.status, cc.text).to.equal(200);
    const fresh = pkce();
    const flow = await sandboxAuthorization(server, again, { pair: fresh });
    const exchanged = await exchangeCode(server, again, redirectParams(flow.location).get('code')!, fresh);
    expect(exchanged.status, exchanged.text).to.equal(200);
    const lost = await clientCredentials(client);
    expect(lost.status, lost.text).to.equal(401);
    expect(lost.body.error).to.equal('invalid_client');
  });

  it('let no error escape to the process', () => {
    expect(watch.escaped, 'errors that escaped to the process').to.deep.equal([]);
  });
});

describe('storage faults: Redis too slow to answer (DEBUG SLEEP 5)', function slow() {
  this.timeout(40_000);
  let dir: string;
  let redisProcess: RedisProcess;
  let client: ReturnType<typeof createClient>;
  let sleeper: ReturnType<typeof createClient>;
  let server: TestServer;
  let registered: TestClient;
  let sleeping: Promise<unknown>;
  let sleptAt: number;
  let answered: number;
  let answers: {
    cc: { res: Response; ms: number };
    registration: { res: Response; ms: number };
    authorize: { res: PageResponse; ms: number };
    metadata: { res: Response; ms: number };
  };

  const token = (who: TestClient) => server.request(who.tpp).post('/oauth2/token').type('form')
    .send({ grant_type: 'client_credentials', scope: 'pisp', client_id: who.clientId });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'redis-slow-'));
    // DEBUG is refused by Redis 7 unless enabled.
    redisProcess = new RedisProcess(await freePort(), dir, ['--enable-debug-command', 'local']);
    await redisProcess.start();
    client = createClient({ url: redisProcess.url });
    client.on('error', () => { /* reported by the storage */ });
    await client.connect();
    sleeper = createClient({ url: redisProcess.url });
    sleeper.on('error', () => { /* only sleeps */ });
    await sleeper.connect();
    server = await startServer({ options: { storage: new RedisStorage(client as unknown as RedisCommands, { keyPrefix: 'slow:', timeout: 1000 }) } });

    const roles: ('PSP_AI' | 'PSP_PI')[] = ['PSP_AI', 'PSP_PI'];
    registered = await registerClient(server, { roles, tpp: await sandboxTpp({ roles, organization: 'Slow Pay', authorisationNumber: 'SLOW1' }) });
    const other = await sandboxTpp({ roles, organization: 'Slow Two', authorisationNumber: 'SLOW2' });
    const before = await token(registered);
    expect(before.status, before.text).to.equal(200);

    sleeping = sleeper.sendCommand(['DEBUG', 'SLEEP', '5']);
    sleptAt = Date.now();
    const [cc, registration, authorize, metadata] = await Promise.all([
      timed(() => token(registered)),
      timed(() => server.request(other).post('/oauth2/register').send({ redirect_uris: [REDIRECT_URI], client_name: 'Slow Two' })),
      timed(() => new PsuBrowser().get(authorizationUrl(server, requestParams(registered)))),
      timed(() => server.request().get('/oauth2/.well-known/oauth-authorization-server')),
    ]);
    answered = Date.now();
    answers = { cc, registration, authorize, metadata };
  });
  after(async () => {
    await sleeping?.catch(() => undefined);
    await server?.close();
    client?.destroy();
    sleeper?.destroy();
    await redisProcess?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers API requests with 503 temporarily_unavailable within the storage timeout, while Redis still sleeps', () => {
    expect(answered - sleptAt, 'answered while Redis was still asleep').to.be.below(4500);
    expectUnavailableJson('client credentials token', answers.cc.res, answers.cc.ms);
    expectUnavailableJson('registration', answers.registration.res, answers.registration.ms);
  });

  it('answers an authorization request with a 503 page or a redirect carrying temporarily_unavailable', () => {
    expectUnavailableForPsu('GET /authorize', answers.authorize.res, answers.authorize.ms);
  });

  it('keeps answering metadata at once', () => {
    expect(answers.metadata.res.status).to.equal(200);
    expect(answers.metadata.ms, 'metadata needs no storage').to.be.below(1000);
  });

  it('carries on once Redis wakes', async () => {
    expect(await sleeping).to.equal('OK');
    const after = await until('a token once Redis is awake', 5000, async () => {
      const res = await token(registered);
      return res.status === 200 ? res : undefined;
    });
    expect(after.body.access_token).to.be.a('string');
  });
});

/**
 * RedisStorage whose writes of the models in `failing` fail the way RedisStorage fails when Redis
 * stops answering in the middle of a request.
 */
function failingWrites(storage: RedisStorage, failing: Set<string>): Storage {
  return withAdapters(storage, (model, adapter) => Object.assign(Object.create(adapter) as Adapter, {
    upsert: async (...args: Parameters<Adapter['upsert']>) => {
      if (failing.has(model)) throw new StorageUnavailableError(`the token store did not answer (injected for ${model})`);
      return adapter.upsert(...args);
    },
  }));
}

describe('storage faults: Redis failing part-way through a PSU\'s authorization', function partWay() {
  this.timeout(40_000);
  let redis: TestRedis;
  let server: TestServer;
  let client: TestClient;
  const failing = new Set<string>();

  before(async () => {
    redis = await startRedis();
    server = await startServer({ options: { storage: failingWrites(new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, timeout: 1000 }), failing) } });
    client = await registerClient(server, { tpp: await sandboxTpp({ organization: 'Part Way', authorisationNumber: 'PARTWAY1' }) });
  });
  afterEach(() => failing.clear());
  after(async () => {
    await server?.close();
    await redis?.close();
  });

  /** A PSU who signed in and granted access: the answer to the consent form, not followed. */
  async function decide(browser: PsuBrowser): Promise<PageResponse> {
    const signIn = await openPages(server, browser, authorizationUrl(server, requestParams(client), entryPath('sandbox')));
    const consent = await browser.follow(await browser.post(formAction(signIn, '/signin'), { csrf: csrfOf(signIn), psu: 'sandbox-anna' }), server.url);
    expect(consent.status, consent.text).to.equal(200);
    return browser.post(formAction(consent, '/consent'), { csrf: csrfOf(consent), decision: 'grant', accounts: 'sb-anna-1' });
  }

  it('answers an authorization request whose interaction cannot be saved with a 503 page', async () => {
    failing.add('Interaction');
    const answer = await timed(() => new PsuBrowser().get(authorizationUrl(server, requestParams(client), entryPath('sandbox'))));
    expectUnavailableForPsu('authorization request, Interaction not saved', answer.res, answer.ms);
  });

  it('answers a consent whose grant cannot be saved with a 503 page', async () => {
    failing.add('Grant');
    const browser = new PsuBrowser();
    const answer = await timed(() => decide(browser));
    expectUnavailableForPsu('consent form, Grant not saved', answer.res, answer.ms);
  });

  for (const model of ['AuthorizationCode', 'Session']) {
    it(`answers the authorization resume with a 503 page or a redirect carrying temporarily_unavailable when the ${model} cannot be saved`, async () => {
      const browser = new PsuBrowser();
      const decided = await decide(browser);
      expect(decided.status, decided.text).to.equal(303);
      expect(decided.location).to.match(new RegExp(`^${server.issuer}/`));
      failing.add(model);
      const answer = await timed(() => browser.get(decided.location!));
      expectUnavailableForPsu(`authorization resume, ${model} not saved`, answer.res, answer.ms);
    });
  }
});
