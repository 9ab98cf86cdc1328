/**
 * Redis too slow to answer: requests that need the storage fail with a quick `503
 * temporarily_unavailable` (a page, or a redirect, for PSUs) within the storage timeout while Redis
 * still sleeps; metadata answers at once; the server carries on once Redis wakes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';
import { createClient } from 'redis';
import type { Response } from 'supertest';

import { RedisStorage } from '../../adapters/redis/storage.js';
import { REDIRECT_URI, authorizationUrl, registerClient, requestParams, type TestClient } from '../authorization/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { freePort, RedisProcess } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';
import { expectUnavailableForPsu, expectUnavailableJson, timed, until } from './helpers.js';

describe('storage faults: Redis too slow to answer (DEBUG SLEEP 5)', function slow() {
  this.timeout(40_000);
  let dir: string;
  let redisProcess: RedisProcess;
  let client: ReturnType<typeof createClient>;
  let subscriber: ReturnType<typeof createClient>;
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
    subscriber = client.duplicate();
    subscriber.on('error', () => { /* as above */ });
    await subscriber.connect();
    sleeper = createClient({ url: redisProcess.url });
    sleeper.on('error', () => { /* only sleeps */ });
    await sleeper.connect();
    server = await startServer({ options: { storage: new RedisStorage(client, { keyPrefix: 'slow:', timeout: 1000, subscriber }) } });

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
    await (server?.auth.storage as RedisStorage | undefined)?.close();
    subscriber?.destroy();
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
