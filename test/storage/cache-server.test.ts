/**
 * The server on RedisStorage with its cache and pipelined writes: a write that fails fails the
 * request, and a client deleted or replaced on one instance is acted on at once by another that
 * kept it.
 */
import { expect } from 'chai';

import { isRecordOf } from '../../adapters/redis/keys.js';
import { RedisStorage } from '../../adapters/redis/storage.js';
import { authorizationUrl, entryPath, exchangeCode, openPages, redirectParams, registerClient, requestParams, sandboxAuthorization, submit } from '../authorization/helpers.js';
import { fullMetadata } from '../registration/helpers.js';
import { LEAK } from '../support/leak.js';
import { sandboxTpp } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser } from '../support/psu-browser.js';
import { newProbe, probed, startRedis, until, type Probe, type TestRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';

describe('the server on RedisStorage with its cache and pipelined writes', function served() {
  this.timeout(40_000);
  let redis: TestRedis;
  let probe: Probe;
  let first: TestServer;
  let second: TestServer;

  before(async () => {
    redis = await startRedis();
    probe = newProbe();
    const storages = [
      new RedisStorage(probed(redis.client, probe), { keyPrefix: redis.keyPrefix, subscriber: await redis.subscriber() }),
      new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, subscriber: await redis.subscriber() }),
    ];
    await until('both instances listen', () => storages.every((storage) => storage.caching), 10_000);
    first = await startServer({ options: { storage: storages[0] } });
    second = await startServer({ options: { storage: storages[1] } });
  });
  afterEach(() => {
    probe.failing = () => false;
  });
  after(async () => {
    await first?.close();
    await second?.close();
    await Promise.all([first, second].map((server) => (server?.auth.storage as RedisStorage | undefined)?.close()));
    await redis?.close();
  });

  it('answers a code exchange whose tokens cannot be stored with 503, and no token', async () => {
    const client = await registerClient(first, { tpp: await sandboxTpp({ organization: 'Pipelined Tokens', authorisationNumber: 'PIPE1' }) });
    const { location, pair } = await sandboxAuthorization(first, client);
    const code = redirectParams(location).get('code')!;
    probe.failing = (key) => isRecordOf(key, 'AccessToken');
    const res = await exchangeCode(first, client, code, pair);
    expect(res.status, res.text).to.equal(503);
    expect(res.body).to.include({ error: 'temporarily_unavailable' });
    expect(res.body.access_token).to.equal(undefined);
    expect(res.text).not.to.match(LEAK);
    const issued = () => first.logs.filter((line) => line.fields.event === 'token.issued' && line.fields.clientId === client.clientId);
    expect(issued(), 'no token.issued audit line for tokens that were not stored').to.deep.equal([]);

    probe.failing = () => false;
    const again = await sandboxAuthorization(first, client);
    const ok = await exchangeCode(first, client, redirectParams(again.location).get('code')!, again.pair);
    expect(ok.status, ok.text).to.equal(200);
    expect(issued(), 'logged once stored').to.have.length(1);
  });

  it('answers a PSU coming back from consent with a 503 page, not a code, when the code cannot be stored', async () => {
    const client = await registerClient(first, { tpp: await sandboxTpp({ organization: 'Pipelined Codes', authorisationNumber: 'PIPE2' }) });
    const browser = new PsuBrowser();
    probe.failing = (key) => isRecordOf(key, 'AuthorizationCode');
    const signIn = await openPages(first, browser, authorizationUrl(first, requestParams(client), entryPath('sandbox')));
    const consent = await submit(first, browser, signIn, '/signin', { psu: 'sandbox-anna' });
    const decided = await browser.post(formAction(consent, '/consent'), { csrf: csrfOf(consent), decision: 'grant', accounts: 'sb-anna-1' });
    expect(decided.location, 'the consent itself went through').to.match(new RegExp(`^${first.issuer}/`));
    const back = await browser.get(decided.location!);
    expect(back.status, back.text.slice(0, 300)).to.equal(503);
    expect(back.location).to.equal(undefined);
    expect(back.text).to.contain('Service temporarily unavailable');
  });

  it('refuses at once, on another instance that had it in memory, a client deleted with RFC 7592', async () => {
    const client = await registerClient(first, { roles: ['PSP_PI'], tpp: await sandboxTpp({ roles: ['PSP_PI'], organization: 'Deleted Elsewhere', authorisationNumber: 'PIPE3' }) });
    const issue = (on: TestServer) => on.request(client.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId });
    expect((await issue(second)).status, 'the second instance keeps the client').to.equal(200);
    const deleted = await first.request(client.tpp).delete(`/oauth2/register/${client.clientId}`);
    expect(deleted.status, deleted.text).to.equal(204);
    await until('the second instance refuses the client', async () => (await issue(second)).status === 401, 1000);
  });

  it('acts at once, on another instance that had it in memory, on metadata replaced with RFC 7592', async () => {
    const tpp = await sandboxTpp({ roles: ['PSP_AI', 'PSP_PI'], organization: 'Replaced Elsewhere', authorisationNumber: 'PIPE4' });
    const client = await registerClient(first, { tpp, body: { grant_types: ['authorization_code', 'refresh_token', 'client_credentials'], scope: 'aisp pisp' } });
    const issue = (on: TestServer) => on.request(client.tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId });
    expect((await issue(second)).status, 'the second instance keeps the client').to.equal(200);
    expect((await issue(second)).status).to.equal(200);
    const path = `/oauth2/register/${client.clientId}`;
    const current = await first.request(tpp).get(path);
    expect(current.status, current.text).to.equal(200);
    const replaced = await first.request(tpp).put(path).send({ ...fullMetadata(current.body as Record<string, unknown>), grant_types: ['authorization_code', 'refresh_token'], scope: 'aisp' });
    expect(replaced.status, replaced.text).to.equal(200);
    await until('the second instance refuses client credentials', async () => (await issue(second)).status === 400, 1000);
    expect((await issue(first)).body).to.include({ error: 'unauthorized_client' });
  });
});
