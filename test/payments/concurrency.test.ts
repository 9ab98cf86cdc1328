/**
 * Concurrent decisions on one payment page (a PSU clicking ten times, two tabs), concurrent first
 * visits of one link and concurrent statusOf calls past expiry: the bank is told once, one code is
 * issued, on MemoryStorage and on RedisStorage (a real redis-server).
 */
import { expect } from 'chai';

import { RedisStorage } from '../../adapters/redis/storage.js';
import { MemoryStorage } from '../../adapters/memory.js';
import type { Storage } from '../../lib/storage.js';
import type { OpenedPaymentAuthorization } from '../../lib/index.js';
import { exchangeCode, type TestClient } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { startRedis, type TestRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';
import { Clock, expectContained, expectOutcome, paymentPage, RecordingStorage, toldOnce } from './harness.js';
import { Outcomes, pispClient, request } from './helpers.js';

const PARALLEL = 10;

/** Where each of the answers ended after following the server's redirects. */
interface Ends {
  readonly codes: string[];
  readonly errors: string[];
  /** Answers that stayed on the server (the page again, or a page saying the authorization is over). */
  readonly pages: PageResponse[];
}

/**
 * The answers that lost the race to a confirmation never tell the TPP that the PSU rejected the
 * payment. (They end on a page of the server, or, when two of them resume the authorization at
 * once, back at the TPP with the error of the pushed request consumed by the winner.)
 */
function expectNoDenial(ends: Ends): void {
  expect(ends.errors, 'errors sent to the TPP').to.not.include('access_denied');
  for (const page of ends.pages) expect(page.status).to.be.below(500);
}

const STORAGES: { name: string; create: () => Promise<{ storage: Storage; close(): Promise<void> }> }[] = [
  { name: 'MemoryStorage', create: async () => ({ storage: new MemoryStorage(), close: async () => undefined }) },
  {
    name: 'RedisStorage on a single redis-server',
    create: async () => {
      const redis: TestRedis = await startRedis();
      return { storage: new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix }), close: () => redis.close() };
    },
  },
];

for (const { name, create } of STORAGES) {
  describe(`payment authorizations: concurrent decisions, on ${name}`, function concurrency() {
    this.timeout(40_000);
    let server: TestServer;
    let client: TestClient;
    let storage: RecordingStorage;
    let close: () => Promise<void> = async () => undefined;
    const clock = new Clock();
    const outcomes = new Outcomes();
    let serial = 0;

    before(async () => {
      const created = await create();
      close = created.close;
      storage = new RecordingStorage(created.storage);
      server = await startServer({ options: { storage, now: clock.now, payments: { onOutcome: outcomes.handler } } });
      client = await pispClient(server);
    });
    after(async () => {
      await server?.close();
      await close();
    });
    afterEach(() => clock.reset());

    const open = async (): Promise<{ opened: OpenedPaymentAuthorization; state: string }> => {
      serial += 1;
      const state = `race-${serial}`;
      return { opened: await server.auth.payments.openInitiation(request(client, { state })), state };
    };

    /** Posts `decisions` at once from one browser (same cookies, same form token), then follows each answer. */
    async function race(browser: PsuBrowser, page: PageResponse, decisions: readonly string[]): Promise<Ends> {
      const action = formAction(page, '/consent');
      const csrf = csrfOf(page);
      const answers = await Promise.all(decisions.map((decision) => browser.post(action, { csrf, decision })));
      for (const answer of answers) {
        expectContained(answer, server);
        expect(answer.status, answer.text.slice(0, 300)).to.equal(303);
      }
      const ends = await Promise.all(answers.map((answer) => browser.follow(answer, server.url)));
      const result: Ends = { codes: [], errors: [], pages: [] };
      for (const end of ends) {
        expectContained(end, server);
        const location = end.location ? new URL(end.location) : undefined;
        if (!location || location.origin === new URL(server.url).origin) {
          result.pages.push(end);
          continue;
        }
        const code = location.searchParams.get('code');
        if (code) result.codes.push(code);
        else result.errors.push(location.searchParams.get('error') ?? '');
      }
      return result;
    }

    it(`${PARALLEL} confirmations at once: told once, one code issued, and it redeems`, async () => {
      const { opened } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      const codesBefore = storage.count('AuthorizationCode');
      const ends = await race(browser, page, Array.from({ length: PARALLEL }, () => 'grant'));
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'sandbox-anna' });
      expect(storage.count('AuthorizationCode') - codesBefore, 'codes issued').to.equal(1);
      expect(ends.codes, 'codes the PSU was sent back with').to.have.length(1);
      expectNoDenial(ends);
      const tokens = await exchangeCode(server, client, ends.codes[0]!, { verifier: '', challenge: '' }, { code_verifier: undefined });
      expect(tokens.status, tokens.text).to.equal(200);
      expect(tokens.body.authorization_details).to.deep.equal(opened.authorizationDetails);
      expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('confirmed');
    });

    it(`${PARALLEL} rejections at once: told once, no code`, async () => {
      const { opened } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      const codesBefore = storage.count('AuthorizationCode');
      const ends = await race(browser, page, Array.from({ length: PARALLEL }, () => 'refuse'));
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'rejected', psuId: 'sandbox-anna' });
      expect(storage.count('AuthorizationCode') - codesBefore).to.equal(0);
      expect(ends.codes).to.deep.equal([]);
      expect(ends.errors.length, 'at least the winner went back to the TPP').to.be.at.least(1);
      expect(new Set(ends.errors)).to.deep.equal(new Set(['access_denied']));
    });

    it('confirmations and rejections at once: one outcome, and the TPP learns that one', async () => {
      for (let round = 0; round < 3; round += 1) {
        const { opened } = await open();
        const { browser, page } = await paymentPage(server, opened.url);
        const codesBefore = storage.count('AuthorizationCode');
        const decisions = Array.from({ length: PARALLEL }, (_, index) => ((index + round) % 2 ? 'grant' : 'refuse'));
        const ends = await race(browser, page, decisions);
        const outcome = toldOnce(outcomes.received, opened);
        expect(outcome.status).to.be.oneOf(['confirmed', 'rejected']);
        if (outcome.status === 'confirmed') {
          expect(storage.count('AuthorizationCode') - codesBefore).to.equal(1);
          expect(ends.codes).to.have.length(1);
          expectNoDenial(ends);
        } else {
          expect(storage.count('AuthorizationCode') - codesBefore).to.equal(0);
          expect(ends.codes).to.deep.equal([]);
          expect(new Set(ends.errors)).to.deep.equal(new Set(['access_denied']));
        }
        expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal(outcome.status);
      }
    });

    it(`${PARALLEL} first visits of one link at once: one reaches the pages`, async () => {
      const { opened, state } = await open();
      const visits = await Promise.all(Array.from({ length: PARALLEL }, () => new PsuBrowser().get(opened.url)));
      const toPages = visits.filter((visit) => visit.location?.includes('/oauth2/interaction/'));
      expect(toPages, 'visits that reached the pages').to.have.length(1);
      for (const visit of visits.filter((candidate) => !toPages.includes(candidate))) {
        expectContained(visit, server);
        const params = new URL(visit.location!).searchParams;
        expect(params.get('error')).to.equal('invalid_request_uri');
        expect(params.get('state')).to.equal(state);
      }
      expect(outcomes.of(opened.id)).to.deep.equal([]);
    });

    it(`${PARALLEL} statusOf calls past expiry at once: told "expired" once`, async () => {
      const { opened } = await open();
      clock.advance(301);
      const states = await Promise.all(Array.from({ length: PARALLEL }, () => server.auth.payments.statusOf(opened.id)));
      // A call that lost the race may read the record before the winner saved the outcome.
      for (const state of states) expect(state?.status).to.be.oneOf(['expired', 'pending']);
      expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('expired');
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'expired' });
    });

    it('a confirmation racing statusOf past expiry: one outcome, "expired", and no code', async () => {
      const { opened } = await open();
      const { browser, page } = await paymentPage(server, opened.url);
      const codesBefore = storage.count('AuthorizationCode');
      clock.advance(301);
      const [ends] = await Promise.all([
        race(browser, page, Array.from({ length: PARALLEL / 2 }, () => 'grant')),
        ...Array.from({ length: PARALLEL / 2 }, () => server.auth.payments.statusOf(opened.id)),
      ]);
      expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'expired' });
      expect(storage.count('AuthorizationCode') - codesBefore).to.equal(0);
      expect(ends.codes).to.deep.equal([]);
    });
  });
}
