/**
 * The sign-in limits over the wire, on the memory storage and on RedisStorage (a single Redis and a
 * three-master Redis Cluster): an address over its limit creates no counters (storage does not grow
 * with an attacker's request rate), and the one-time-code budget belongs to the PSU the bank named,
 * whichever of their identifiers was typed.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

import { expect } from 'chai';

import { RedisStorage } from '../../adapters/redis/storage.js';
import type { Storage } from '../../lib/storage.js';
import { LoginLimits } from '../../interactions/login-limits.js';
import { redirectParams, registerClient, submit, type TestClient } from '../authorization/helpers.js';
import { csrfOf, formAction, PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import { BANK_CUSTOMERS, TestBank, type BankCustomer } from '../support/psus.js';
import { startRedis, startRedisCluster, type TestRedis } from '../support/redis.js';
import { eachTestClient, eachTestServer, testEnvironments } from '../support/pages.js';
import { startServer, type TestServer } from '../support/server.js';
import { catalogs, message, openSignIn, stepOf } from './helpers.js';

const run = promisify(execFile);
const en = catalogs().en;

const PER_PSU = 5;
const PER_IP = 20;

/** Marie has a second identifier: the bank knows both as one customer. */
const MARIE = BANK_CUSTOMERS.find((customer) => customer.login === 'marie')!;
const CUSTOMERS: BankCustomer[] = [...BANK_CUSTOMERS, { ...MARIE, login: 'marie.dupont' }];

interface Backend {
  readonly name: string;
  /** A storage for one server, and a way to list every key it wrote (undefined: not a key store). */
  start(): Promise<{ storage?: Storage; keys?: () => Promise<string[]>; close(): Promise<void> }>;
}

function redisBackend(name: string, start: () => Promise<TestRedis>): Backend {
  return {
    name,
    start: async () => {
      const redis = await start();
      const storage = new RedisStorage(redis.client, { keyPrefix: redis.keyPrefix, cache: false });
      return {
        storage,
        // Node by node: a cluster's keys are spread over its masters.
        keys: async () => (await Promise.all(redis.processes.map(async (node) => {
          const { stdout } = await run('redis-cli', ['-p', String(node.port), '--scan', '--pattern', `${redis.keyPrefix}*`]);
          return stdout.split('\n').filter(Boolean);
        }))).flat(),
        close: async () => {
          await storage.close();
          await redis.close();
        },
      };
    },
  };
}

const BACKENDS: Backend[] = [
  { name: 'the memory storage', start: async () => ({ close: async () => {} }) },
  redisBackend('RedisStorage on a single Redis', startRedis),
  redisBackend('RedisStorage on a three-master Redis Cluster', startRedisCluster),
];

for (const backend of BACKENDS) {
  describe(`PSU pages: sign-in limits on ${backend.name}`, function limits() {
    this.timeout(60_000);
    let store: Awaited<ReturnType<Backend['start']>>;
    let server: TestServer;
    let bank: TestBank;
    let client: TestClient;

    before(async function startAll() {
      if (backend.name.includes('Redis') && process.env.REDIS_URL) this.skip();
      store = await backend.start();
      bank = new TestBank(CUSTOMERS);
      const loginLimits = { perPsu: { attempts: PER_PSU, windowSeconds: 900 }, perIp: { attempts: PER_IP, windowSeconds: 900 } };
      server = await startServer({
        options: {
          ...(store.storage ? { storage: store.storage } : {}),
          environments: await testEnvironments(bank, { sandbox: false, loginLimits }),
        },
      });
      client = await registerClient(server, { environment: 'bank' });
    });

    after(async () => {
      await server?.close();
      await store?.close();
    });

    beforeEach(() => {
      bank.credentialAttempts.length = 0;
      bank.secondFactorAttempts.length = 0;
    });

    /** A browser from a loopback address of its own, so that each test has the address's whole budget. */
    let nextAddress = 2;
    const freshAddress = () => new PsuBrowser(undefined, undefined, `127.0.0.${nextAddress++}`);

    const signIn = (browser: PsuBrowser, page: PageResponse, login: string, password: string) => submit(server, browser, page, '/signin', { login, password });

    /** How many of `logins` have an attempt counted against them. */
    const countedLogins = async (logins: readonly string[]): Promise<number> => {
      const values = await Promise.all(logins.map((login) => server.auth.storage.readCounter(LoginLimits.psuKey(login))));
      return values.filter((value) => value !== 0).length;
    };

    it(`300 sign-ins with random identifiers from one address: the bank is asked ${PER_IP} times, and at most ${PER_IP} identifiers are counted`, async () => {
      const browser = freshAddress();
      const { page } = await openSignIn(server, browser, client);
      const before = await store.keys?.();
      const logins = Array.from({ length: 300 }, () => `someone-${randomBytes(8).toString('hex')}`);
      const statuses: number[] = [];
      for (const login of logins) statuses.push((await browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), login, password: 'guess' })).status);

      expect(statuses.slice(0, PER_IP - 1).every((status) => status === 401), statuses.join(' ')).to.equal(true);
      expect(statuses.slice(PER_IP - 1).every((status) => status === 429), statuses.join(' ')).to.equal(true);
      expect(bank.credentialAttempts).to.have.length(PER_IP);
      expect(await countedLogins(logins), 'identifiers with a counter').to.be.at.most(PER_IP);
      if (before && store.keys) {
        // The server's PSD2 statistics, flushed every few seconds, add counters of their own (per day and slot, not per attempt).
        const added = (await store.keys()).filter((key) => !before.includes(key) && !key.includes('psd2-statistics:'));
        // The identifiers' counters and the address's own.
        expect(added.length, added.join('\n')).to.be.at.most(PER_IP + 1);
      }
    });

    it(`100 concurrent sign-ins with random identifiers from one address: at most ${PER_IP} reach the bank or leave a counter`, async () => {
      const browser = freshAddress();
      const { page } = await openSignIn(server, browser, client);
      const before = await store.keys?.();
      const logins = Array.from({ length: 100 }, () => `someone-${randomBytes(8).toString('hex')}`);
      const answers = await Promise.all(logins.map((login) => browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), login, password: 'guess' })));

      expect(answers.filter((answer) => answer.status === 401).length).to.be.at.most(PER_IP);
      expect(answers.every((answer) => answer.status === 401 || answer.status === 429), answers.map((answer) => answer.status).join(' ')).to.equal(true);
      expect(bank.credentialAttempts.length).to.be.at.most(PER_IP);
      expect(await countedLogins(logins), 'identifiers with a counter').to.be.at.most(PER_IP);
      if (before && store.keys) {
        // The server's PSD2 statistics, flushed every few seconds, add counters of their own (per day and slot, not per attempt).
        const added = (await store.keys()).filter((key) => !before.includes(key) && !key.includes('psd2-statistics:'));
        expect(added.length, added.join('\n')).to.be.at.most(PER_IP + 1);
      }
    });

    it('an address over its limit does not count against a PSU: the PSU still signs in from elsewhere', async () => {
      const attacker = freshAddress();
      const { page } = await openSignIn(server, attacker, client);
      for (let attempt = 0; attempt < PER_IP; attempt += 1) await signIn(attacker, page, `someone-${randomBytes(8).toString('hex')}`, 'guess');
      // The address is used up: these are refused before anything is counted for Lukas.
      for (let attempt = 0; attempt < 2 * PER_PSU; attempt += 1) expect((await signIn(attacker, page, 'lukas', `guess-${attempt}`)).status).to.equal(429);
      expect(await server.auth.storage.readCounter(LoginLimits.psuKey('lukas'))).to.equal(0);

      const lukas = freshAddress();
      const { page: own } = await openSignIn(server, lukas, client);
      expect(stepOf(await signIn(lukas, own, 'lukas', 'battery staple'))).to.equal('consent');
    });

    /** Signs in as `login` with the right password, then posts wrong codes until refused; the answers' statuses. */
    const wrongCodes = async (login: string, max: number): Promise<number[]> => {
      const browser = freshAddress();
      const { page } = await openSignIn(server, browser, client);
      const after = await signIn(browser, page, login, MARIE.password);
      if (stepOf(after) !== 'second-factor') return [after.status];
      const statuses: number[] = [];
      for (let attempt = 1; attempt <= max && statuses.at(-1) !== 429; attempt += 1) {
        statuses.push((await browser.post(formAction(after, '/second-factor'), { csrf: csrfOf(after), code: `00000${attempt}` })).status);
      }
      return statuses;
    };

    it(`one-time codes are counted per PSU: wrong codes typed under two identifiers of one customer share one budget of ${PER_PSU}`, async () => {
      const first = await wrongCodes('marie', 10);
      expect(first.at(-1)).to.equal(429);
      const second = await wrongCodes('marie.dupont', 10);
      expect(second.at(-1), 'the other identifier is locked too').to.equal(429);
      const codesChecked = bank.secondFactorAttempts.length;
      expect(codesChecked, `codes the bank checked for one customer: ${first.join(' ')} | ${second.join(' ')}`).to.be.at.most(PER_PSU);
      expect(bank.secondFactorAttempts.every((attempt) => attempt.psuId === MARIE.psuId)).to.equal(true);

      // The right code, under either identifier: refused without asking the bank.
      for (const login of ['marie', 'marie.dupont']) {
        const browser = freshAddress();
        const { page } = await openSignIn(server, browser, client);
        let answer = await signIn(browser, page, login, MARIE.password);
        if (stepOf(answer) === 'second-factor') answer = await submit(server, browser, answer, '/second-factor', { code: MARIE.code! });
        expect(answer.status, `${login}: ${answer.text}`).to.equal(429);
        expect(answer.text).to.contain(message(en, 'signin.locked.title'));
      }
      expect(bank.secondFactorAttempts, 'the bank was not asked again').to.have.length(codesChecked);

      // Other customers are not concerned.
      const lukas = freshAddress();
      const { page: own } = await openSignIn(server, lukas, client);
      expect(stepOf(await signIn(lukas, own, 'lukas', 'battery staple'))).to.equal('consent');
    });

    it('the PSU\'s count is kept under a hash of the PSU id, and a completed sign-in under one identifier clears it for all', async () => {
      const customer = { ...MARIE, login: 'claire.a', psuId: 'psu-claire' };
      const aliases = [customer, { ...customer, login: 'claire.b' }, { ...customer, login: 'claire.c' }];
      CUSTOMERS.push(...aliases);
      try {
        expect(await wrongCodes('claire.a', 2)).to.deep.equal([401, 401]);
        expect(await server.auth.storage.readCounter(LoginLimits.psuIdKey('psu-claire'))).to.equal(2);
        const keys = await store.keys?.();
        if (keys) expect(keys.filter((key) => /claire|marie|lukas/.test(key)), 'no identifier or PSU id in a key').to.deep.equal([]);

        // One more wrong code and the right one, under the second identifier: the count is cleared.
        const browser = freshAddress();
        const { page } = await openSignIn(server, browser, client);
        const secondFactor = await signIn(browser, page, 'claire.b', customer.password);
        expect(stepOf(secondFactor)).to.equal('second-factor');
        expect((await submit(server, browser, secondFactor, '/second-factor', { code: '000000' })).status).to.equal(401);
        expect(await server.auth.storage.readCounter(LoginLimits.psuIdKey('psu-claire'))).to.equal(3);
        expect(stepOf(await submit(server, browser, secondFactor, '/second-factor', { code: customer.code! }))).to.equal('consent');
        expect(await server.auth.storage.readCounter(LoginLimits.psuIdKey('psu-claire'))).to.equal(0);

        // A third identifier has the whole budget: the password and four codes, as any customer.
        expect(await wrongCodes('claire.c', 10)).to.deep.equal([401, 401, 401, 429]);
      } finally {
        CUSTOMERS.splice(CUSTOMERS.indexOf(customer), aliases.length);
      }
    });
  });
}

describe('PSU pages: sign-in limits at their defaults', function limits() {
  /** Posts the sign-in form of `page` and follows redirects on the server. */
  const signIn = (server: TestServer, browser: PsuBrowser, page: PageResponse, login: string, password: string) => submit(server, browser, page, '/signin', { login, password });
  // A server per test: the attempts of one test use up the limits.
  const server = eachTestServer();
  const client = eachTestClient(server, { environment: 'bank' });

  it('locks a login after 5 failures: the 6th attempt, with the right password, sees the locked page and the authenticator is not asked', async () => {
    const browser = new PsuBrowser();
    const { page } = await openSignIn(server, browser, client);
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const failed = await signIn(server, browser, page, 'marie', `wrong-${attempt}`);
      statuses.push(failed.status);
    }
    expect(statuses.slice(0, 4)).to.deep.equal([401, 401, 401, 401]);
    expect([401, 429], 'the 5th failure').to.include(statuses[4]);
    expect(server.bank.credentialAttempts).to.have.length(5);

    const locked = await signIn(server, browser, page, 'marie', 'correct horse');
    expect(locked.status, locked.text).to.equal(429);
    expect(locked.location).to.equal(undefined);
    expect(locked.text).to.contain(message(en, 'signin.locked.title'));
    expect(locked.text).not.to.contain('name="password"');
    expect(server.bank.credentialAttempts, 'the authenticator was not asked').to.have.length(5);

    // The lock is on the login, whatever the authorization, case or surrounding spaces.
    for (const login of ['marie', 'Marie', ' MARIE ']) {
      const other = new PsuBrowser();
      const { page: again } = await openSignIn(server, other, client);
      const refused = await signIn(server, other, again, login, 'correct horse');
      expect(refused.status, login).to.equal(429);
    }
    expect(server.bank.credentialAttempts).to.have.length(5);

    // Other customers from the same address still sign in.
    const lukas = new PsuBrowser();
    const { page: lukasPage } = await openSignIn(server, lukas, client);
    const consent = await signIn(server, lukas, lukasPage, 'lukas', 'battery staple');
    expect(stepOf(consent)).to.equal('consent');
  });

  it('wrong one-time codes count towards the login\'s limit', async () => {
    const browser = new PsuBrowser();
    const { page } = await openSignIn(server, browser, client);
    const secondFactor = await signIn(server, browser, page, 'marie', 'correct horse');
    let last: PageResponse = secondFactor;
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      last = await browser.post(formAction(secondFactor, '/second-factor'), { csrf: csrfOf(secondFactor), code: `00000${attempt}` });
    }
    expect(last.status).to.equal(429);
    const factors = server.bank.secondFactorAttempts.length;
    const refused = await browser.post(formAction(secondFactor, '/second-factor'), { csrf: csrfOf(secondFactor), code: '123456' });
    expect(refused.status).to.equal(429);
    expect(server.bank.secondFactorAttempts).to.have.length(factors);
    const other = new PsuBrowser();
    const { page: again } = await openSignIn(server, other, client);
    const calls = server.bank.credentialAttempts.length;
    expect((await signIn(server, other, again, 'marie', 'correct horse')).status).to.equal(429);
    expect(server.bank.credentialAttempts).to.have.length(calls);
  });

  it('locks an address after 20 failures across different logins', async () => {
    const browser = new PsuBrowser();
    const { page } = await openSignIn(server, browser, client);
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 20; attempt += 1) {
      statuses.push((await signIn(server, browser, page, `customer-${attempt}`, 'guess')).status);
    }
    expect(statuses.slice(0, 19).every((status) => status === 401), statuses.join(' ')).to.equal(true);
    expect(server.bank.credentialAttempts).to.have.length(20);

    const other = new PsuBrowser();
    const { page: fresh } = await openSignIn(server, other, client);
    const locked = await signIn(server, other, fresh, 'lukas', 'battery staple');
    expect(locked.status, locked.text).to.equal(429);
    expect(locked.text).to.contain(message(en, 'signin.locked.title'));
    expect(server.bank.credentialAttempts, 'the authenticator was not asked').to.have.length(20);
  });

  it('the locked page still offers to cancel back to the TPP', async () => {
    const browser = new PsuBrowser();
    const { page, params } = await openSignIn(server, browser, client);
    let locked: PageResponse = page;
    for (let attempt = 1; attempt <= 6 && locked.status !== 429; attempt += 1) locked = await signIn(server, browser, page, 'marie', `wrong-${attempt}`);
    expect(locked.status).to.equal(429);
    expect(locked.text).to.contain(message(en, 'page.cancel', { tpp: 'Acme Money' }));
    const back = await submit(server, browser, locked, '/cancel', {});
    const query = redirectParams(back.location);
    expect(query.get('error')).to.equal('access_denied');
    expect(query.get('state')).to.equal(params.state);
  });
});
