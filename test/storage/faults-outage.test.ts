/**
 * Redis stopped under load, then started again: API callers get a quick `503
 * temporarily_unavailable` with Retry-After, PSUs a page (or a redirect to the TPP carrying that
 * code), endpoints without storage keep answering, and the server recovers by itself.
 */
import { expect } from 'chai';
import type { Response } from 'supertest';

import { RedisStorage } from '../../adapters/redis/storage.js';
import {
  REDIRECT_URI, authorizationUrl, entryPath, exchangeCode, openPages, pkce, redirectParams, registerClient, requestParams, sandboxAuthorization, type TestClient,
} from '../authorization/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';
import { expectUnavailableForPsu, expectUnavailableJson, QUICK_MS, timed, until } from './helpers.js';

const SECRET = 'faults-resource-server-secret-0123456789';

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
      options: { storage: new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, timeout: 1000, subscriber: await redis.subscriber() }), resourceServers: [{ id: 'api', secret: SECRET }] },
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
    await (server?.auth.storage as RedisStorage | undefined)?.close();
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
