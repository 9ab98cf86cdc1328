/**
 * Redis failing part-way through a PSU's authorization: a write of the interaction, grant, code or
 * session that fails answers the PSU with a 503 page, or a redirect carrying
 * temporarily_unavailable.
 */
import { expect } from 'chai';
import type { RecordAdapter as Adapter } from '../../lib/storage.js';

import { RedisStorage } from '../../adapters/redis/storage.js';
import { StorageUnavailableError } from '../../lib/errors.js';
import type { Storage } from '../../lib/storage.js';
import { authorizationUrl, entryPath, openPages, registerClient, requestParams, type TestClient } from '../authorization/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';
import { withAdapters } from '../support/storage.js';
import { expectUnavailableForPsu, timed } from './helpers.js';

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
  let storage: RedisStorage;
  const failing = new Set<string>();

  before(async () => {
    redis = await startRedis();
    storage = new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, timeout: 1000, subscriber: await redis.subscriber() });
    server = await startServer({ options: { storage: failingWrites(storage, failing) } });
    client = await registerClient(server, { tpp: await sandboxTpp({ organization: 'Part Way', authorisationNumber: 'PARTWAY1' }) });
  });
  afterEach(() => failing.clear());
  after(async () => {
    await server?.close();
    await storage?.close();
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
