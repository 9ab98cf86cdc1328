/**
 * The whole product on RedisStorage, on a single Redis and on a Redis Cluster of three masters:
 * registration, a PSU's authorization, tokens, refresh, client credentials, revocation,
 * management, RFC 7592, and concurrent redemption of one code or one rotated refresh token.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { expect } from 'chai';
import type { RecordAdapter as Adapter } from '../../lib/storage.js';
import type { Response } from 'supertest';

import { isRecordOf, RedisKeys } from '../../adapters/redis/keys.js';
import { RedisStorage, type RedisStorageOptions } from '../../adapters/redis/storage.js';
import type { Storage } from '../../lib/storage.js';
import { exchangeCode, pkce, redirectParams, registerClient, sandboxAuthorization, type TestClient } from '../authorization/helpers.js';
import { expectError } from '../registration/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { startRedis, startRedisCluster, type TestRedis } from '../support/redis.js';
import { startServer, type TestServer } from '../support/server.js';
import { withAdapters } from '../support/storage.js';

const run = promisify(execFile);

/** Every key under `pattern`, node by node (a cluster's keys are spread over its masters). */
async function keysByNode(redis: TestRedis, pattern: string): Promise<string[][]> {
  return Promise.all(redis.processes.map(async (node) => {
    const { stdout } = await run('redis-cli', ['-p', String(node.port), '--scan', '--pattern', pattern]);
    return stdout.split('\n').filter(Boolean);
  }));
}

/**
 * Holds two concurrent `consume` calls of one model, to replay one interleaving of concurrent
 * redemptions: the first call waits until the second has arrived (so both requests read the
 * record before either consumed it), the second waits until the test opens the gate.
 */
class ConsumeGate {
  model: string | undefined;
  calls = 0;
  #arrived: () => void = () => undefined;
  #opened: () => void = () => undefined;
  #secondArrived = new Promise<void>((resolve) => { this.#arrived = resolve; });
  #gate = new Promise<void>((resolve) => { this.#opened = resolve; });

  arm(model: string): void {
    this.model = model;
    this.calls = 0;
    this.#secondArrived = new Promise<void>((resolve) => { this.#arrived = resolve; });
    this.#gate = new Promise<void>((resolve) => { this.#opened = resolve; });
  }

  open(): void {
    this.#opened();
    this.model = undefined;
  }

  wrap(model: string, adapter: Adapter): Adapter {
    const consume = adapter.consume.bind(adapter);
    return Object.assign(Object.create(adapter) as Adapter, {
      consume: async (id: string) => {
        if (model === this.model) {
          this.calls += 1;
          // Never longer than 5 s, whatever the server does.
          const bounded = (wait: Promise<void>) => Promise.race([wait, new Promise<void>((resolve) => setTimeout(resolve, 5000).unref())]);
          if (this.calls === 1) await bounded(this.#secondArrived);
          else if (this.calls === 2) {
            this.#arrived();
            await bounded(this.#gate);
          }
        }
        return consume(id);
      },
    });
  }
}

/** RedisStorage with a {@link ConsumeGate} in front of its adapters' `consume`. */
function gated(storage: RedisStorage, gate: ConsumeGate): Storage {
  return withAdapters(storage, (model, adapter) => gate.wrap(model, adapter));
}

/**
 * Waits until every node of a cluster says cluster_state:ok and the client reaches keys of many
 * slots (the support starter checks the first node only).
 */
async function ready(redis: TestRedis): Promise<void> {
  if (redis.kind !== 'cluster') return;
  const probe = new RedisStorage(redis.client, { keyPrefix: `${redis.keyPrefix}ready:` });
  const deadline = Date.now() + 10_000;
  let last: unknown;
  for (;;) {
    try {
      const states = await Promise.all(redis.processes.map(async (node) => (await run('redis-cli', ['-p', String(node.port), 'cluster', 'info'])).stdout));
      if (states.every((state) => /cluster_state:ok/.test(state))) {
        await Promise.all(Array.from({ length: 32 }, (_, index) => probe.incrementCounter(`slot-${index}`, 60)));
        return;
      }
      last = new Error(states.join('\n'));
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`the cluster is not ready: ${String(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const STARTERS = [
  { name: 'a single Redis', start: startRedis },
  { name: 'a Redis Cluster of three masters', start: startRedisCluster },
] as const;

for (const { name, start } of STARTERS) {
  describe(`the product end to end on RedisStorage, on ${name}`, function flows() {
    this.timeout(40_000);
    let redis: TestRedis;
    let server: TestServer;
    let rotating: TestServer;
    let interleaved: TestServer;
    const gate = new ConsumeGate();
    let serial = 0;
    const opened: RedisStorage[] = [];

    /** A storage on the suite's Redis with a subscriber of its own, as a host app builds it. */
    const open = async (options: RedisStorageOptions) => {
      const storage = new RedisStorage(redis.client, { ...options, subscriber: await redis.subscriber() });
      opened.push(storage);
      return storage;
    };

    before(async () => {
      redis = await start();
      await ready(redis);
      server = await startServer({ options: { storage: await open({ keyPrefix: redis.keyPrefix }) } });
      rotating = await startServer({
        options: { storage: await open({ keyPrefix: `${redis.keyPrefix}rot:` }), tokens: { rotateRefreshTokens: true } },
      });
      interleaved = await startServer({
        options: { storage: gated(await open({ keyPrefix: `${redis.keyPrefix}gate:` }), gate), tokens: { rotateRefreshTokens: true } },
      });
    });
    after(async () => {
      gate.open();
      await server?.close();
      await rotating?.close();
      await interleaved?.close();
      await Promise.all(opened.map((storage) => storage.close()));
      await redis?.close();
    });

    /** A client of an organization of its own, holding both PSD2 roles of this suite. */
    async function organization(on: TestServer = server): Promise<TestClient & { legalId: string }> {
      serial += 1;
      const number = `RF${redis.kind.toUpperCase().slice(0, 2)}${serial}`;
      const roles: ('PSP_AI' | 'PSP_PI')[] = ['PSP_AI', 'PSP_PI'];
      const tpp = await sandboxTpp({ roles, organization: `Redis Flow ${serial}`, authorisationNumber: number });
      const client = await registerClient(on, { roles, tpp, body: { client_name: `Redis Flow ${serial}` } });
      return { ...client, legalId: `PSDFR-NCA-${number}` };
    }

    const token = (on: TestServer, client: TestClient, form: Record<string, string>) => on.request(client.tpp).post('/oauth2/token').type('form')
      .send({ client_id: client.clientId, ...form });
    const refresh = (on: TestServer, client: TestClient, refreshToken: string) => token(on, client, { grant_type: 'refresh_token', refresh_token: refreshToken });
    const clientCredentials = (client: TestClient) => token(server, client, { grant_type: 'client_credentials', scope: 'pisp' });

    /** A PSU's authorization through the pages, and its code exchanged. */
    async function consent(on: TestServer, client: TestClient): Promise<Record<string, string>> {
      const pair = pkce();
      const { location } = await sandboxAuthorization(on, client, { pair });
      const res = await exchangeCode(on, client, redirectParams(location).get('code')!, pair);
      expect(res.status, res.text).to.equal(200);
      return res.body as Record<string, string>;
    }

    it('keeps what the server stores in Redis, under the key prefix (spread over the masters of a cluster)', async () => {
      expect(server.auth.storage).to.be.instanceOf(RedisStorage);
      const client = await organization();
      await consent(server, client);
      const byNode = await keysByNode(redis, `${redis.keyPrefix}*`);
      const keys = byNode.flat();
      expect(keys.some((key) => isRecordOf(key, 'Client', client.clientId)), 'the client record').to.equal(true);
      for (const model of ['Grant', 'AccessToken', 'RefreshToken']) expect(keys.some((key) => isRecordOf(key, model)), model).to.equal(true);
      if (redis.kind === 'cluster') expect(byNode.filter((node) => node.length > 0).length, 'masters holding keys').to.be.greaterThan(1);
    });

    it('registers, authorizes, exchanges the code, refreshes, issues client credentials, and revokes a refresh token with its access tokens', async () => {
      const client = await organization();
      const tokens = await consent(server, client);
      expect(tokens).to.include({ token_type: 'bearer', scope: 'aisp' });
      expect(tokens.refresh_token).to.be.a('string');
      const { provider } = server.auth;
      const first = await provider.AccessToken.find(tokens.access_token!);
      expect(first?.clientId).to.equal(client.clientId);
      expect(first?.accountId).to.equal('sandbox-anna');

      const refreshed = await refresh(server, client, tokens.refresh_token!);
      expect(refreshed.status, refreshed.text).to.equal(200);
      expect(refreshed.body.access_token).to.be.a('string').and.not.equal(tokens.access_token);
      expect(await provider.AccessToken.find(refreshed.body.access_token)).to.not.equal(undefined);

      const cc = await clientCredentials(client);
      expect(cc.status, cc.text).to.equal(200);
      expect(cc.body.scope).to.equal('pisp');
      expect((await provider.ClientCredentials.find(cc.body.access_token))?.clientId).to.equal(client.clientId);

      const revoked = await server.request(client.tpp).post('/oauth2/revoke').type('form')
        .send({ token: tokens.refresh_token, token_type_hint: 'refresh_token', client_id: client.clientId });
      expect(revoked.status, revoked.text).to.equal(200);
      expect(await provider.RefreshToken.find(tokens.refresh_token!)).to.equal(undefined);
      expect(await provider.AccessToken.find(tokens.access_token!)).to.equal(undefined);
      expect(await provider.AccessToken.find(refreshed.body.access_token)).to.equal(undefined);
      expect(await provider.Grant.find(first!.grantId!)).to.equal(undefined);
      expectError(await refresh(server, client, tokens.refresh_token!), 400, 'invalid_grant');
      // The client credentials token belongs to no grant: it stays.
      expect(await provider.ClientCredentials.find(cc.body.access_token)).to.not.equal(undefined);
    });

    it('lists and withdraws a PSU\'s consent through management', async () => {
      const client = await organization();
      const tokens = await consent(server, client);
      const { management, provider } = server.auth;
      const mine = (await management.consentsOf('sandbox-anna')).filter((c) => c.clientId === client.clientId);
      expect(mine).to.have.length(1);
      expect(mine[0]).to.include({ providerLegalId: client.legalId, environment: 'sandbox', scope: 'aisp' });
      expect(mine[0]!.accounts.map((a) => a.id)).to.deep.equal(['sb-anna-1']);

      expect(await management.withdrawConsent('sandbox-claire', mine[0]!.grantId)).to.equal(false);
      expect(await provider.AccessToken.find(tokens.access_token!)).to.not.equal(undefined);
      expect(await management.withdrawConsent('sandbox-anna', mine[0]!.grantId)).to.equal(true);
      expect(await provider.AccessToken.find(tokens.access_token!)).to.equal(undefined);
      expect(await provider.RefreshToken.find(tokens.refresh_token!)).to.equal(undefined);
      expect((await management.consentsOf('sandbox-anna')).some((c) => c.clientId === client.clientId)).to.equal(false);
      expectError(await refresh(server, client, tokens.refresh_token!), 400, 'invalid_grant');
    });

    it('suspends an organization (its clients stop, its tokens go) and reinstates it', async () => {
      const client = await organization();
      const other = await organization();
      const tokens = await consent(server, client);
      const otherTokens = await consent(server, other);
      const { management, provider } = server.auth;
      const { clientIds } = await management.suspendOrganization(client.legalId);
      expect(clientIds).to.deep.equal([client.clientId]);
      expect(await management.isSuspended(client.legalId)).to.equal(true);
      expect(await provider.AccessToken.find(tokens.access_token!)).to.equal(undefined);
      expect(await provider.RefreshToken.find(tokens.refresh_token!)).to.equal(undefined);
      expectError(await clientCredentials(client), 401, 'invalid_client', /suspended/);
      expectError(await server.request(client.tpp).get(`/oauth2/register/${client.clientId}`), 401, 'invalid_client', /suspended/);
      // Another organization goes on.
      expect(await provider.AccessToken.find(otherTokens.access_token!)).to.not.equal(undefined);
      expect((await refresh(server, other, otherTokens.refresh_token!)).status).to.equal(200);

      await management.reinstateOrganization(client.legalId);
      expect(await management.isSuspended(client.legalId)).to.equal(false);
      const cc = await clientCredentials(client);
      expect(cc.status, cc.text).to.equal(200);
      expectError(await refresh(server, client, tokens.refresh_token!), 400, 'invalid_grant');
    });

    it('suspends across instances: another instance follows within suspensionCacheTtl, and no token it issued meanwhile survives', async function acrossInstances() {
      this.timeout(30_000);
      const options = { storage: await open({ keyPrefix: `${redis.keyPrefix}pair:` }), suspensionCacheTtl: 3 };
      const first = await startServer({ options });
      const second = await startServer({ options: { ...options, storage: await open({ keyPrefix: `${redis.keyPrefix}pair:` }) } });
      try {
        const client = await organization(first);
        const issue = (on: TestServer) => token(on, client, { grant_type: 'client_credentials', scope: 'pisp' });
        expect((await issue(second)).status, 'the second instance has read the organization').to.equal(200);

        const suspending = first.auth.management.suspendOrganization(client.legalId);
        // The suspending instance refuses at once; the other still relies on what it read.
        await new Promise((resolve) => setTimeout(resolve, 200));
        expectError(await issue(first), 401, 'invalid_client', /suspended/);
        const meanwhile = await issue(second);
        expect(meanwhile.status, 'issued within the cache delay').to.equal(200);
        const stale = (meanwhile.body as { access_token: string }).access_token;

        await suspending;
        expect(await second.auth.provider.ClientCredentials.find(stale), 'swept after the delay').to.equal(undefined);
        expectError(await issue(second), 401, 'invalid_client', /suspended/);

        await first.auth.management.reinstateOrganization(client.legalId);
        expect((await issue(first)).status).to.equal(200);
      } finally {
        await first.close();
        await second.close();
      }
    });

    it('reads and deletes a client (RFC 7592): it stops working and its records leave Redis', async () => {
      const client = await organization();
      await consent(server, client);
      const read = await server.request(client.tpp).get(`/oauth2/register/${client.clientId}`);
      expect(read.status, read.text).to.equal(200);
      expect(read.body).to.include({ client_id: client.clientId, provider_legal_id: client.legalId });
      expect(read.body.registration_access_token).to.equal(undefined);

      const deleted = await server.request(client.tpp).delete(`/oauth2/register/${client.clientId}`);
      expect(deleted.status, deleted.text).to.equal(204);
      expectError(await server.request(client.tpp).get(`/oauth2/register/${client.clientId}`), 401, 'invalid_token');
      expectError(await clientCredentials(client), 401, 'invalid_client');
      expect(await server.auth.provider.Client.find(client.clientId)).to.equal(undefined);
      const left = (await keysByNode(redis, `${redis.keyPrefix}*`)).flat()
        .filter((key) => isRecordOf(key, 'Client', client.clientId) || key === new RedisKeys(redis.keyPrefix).clientIndex(client.clientId));
      expect(left).to.deep.equal([]);
    });

    it('redeems one authorization code once, out of 10 concurrent exchanges', async () => {
      const client = await organization();
      const pair = pkce();
      const { location } = await sandboxAuthorization(server, client, { pair });
      const code = redirectParams(location).get('code')!;
      const answers = await Promise.all(Array.from({ length: 10 }, () => exchangeCode(server, client, code, pair)));
      const statuses = answers.map((res) => res.status);
      expect(statuses.filter((status) => status === 200), statuses.join(' ')).to.have.length(1);
      for (const res of answers.filter((r) => r.status !== 200)) expectError(res, 400, 'invalid_grant');
    });

    it('with rotation, redeems one refresh token once, out of 10 concurrent refreshes', async () => {
      const client = await organization(rotating);
      const tokens = await consent(rotating, client);
      const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(rotating, client, tokens.refresh_token!)));
      const statuses = answers.map((res) => res.status);
      expect(statuses.filter((status) => status === 200), statuses.join(' ')).to.have.length(1);
      for (const res of answers.filter((r) => r.status !== 200)) expectError(res, 400, 'invalid_grant');
      const winner = answers.find((r) => r.status === 200)!;
      expect(winner.body.refresh_token).to.be.a('string').and.not.equal(tokens.refresh_token);
    });

    /**
     * Two requests read the record before either consumed it (A and B); A consumes it and gets
     * tokens; C, a third request, finds it consumed, which revokes the grant and deletes the
     * record; only then does B consume it. B must lose too: exactly one 200.
     */
    async function replay(send: () => PromiseLike<Response>, model: string): Promise<{ a: Response; b: Response; c: Response }> {
      gate.arm(model);
      try {
        // supertest sends on then(): Promise.resolve starts both at once.
        const both = [Promise.resolve(send()), Promise.resolve(send())];
        // A: the one whose consume went first, let through once B's had arrived.
        const first = await Promise.race(both.map((answer, index) => answer.then((res) => ({ res, index }))));
        const c = await send();
        gate.open();
        const b = await both[1 - first.index]!;
        expect(gate.calls, 'consume calls (A and B reached it)').to.be.at.least(2);
        return { a: first.res, b, c };
      } finally {
        gate.open();
      }
    }

    it('redeems an authorization code once when a loser consumes it only after a replay revoked the grant', async () => {
      const client = await organization(interleaved);
      const pair = pkce();
      const { location } = await sandboxAuthorization(interleaved, client, { pair });
      const code = redirectParams(location).get('code')!;
      const { a, b, c } = await replay(() => exchangeCode(interleaved, client, code, pair), 'AuthorizationCode');
      expect([a.status, b.status, c.status].filter((status) => status === 200), `A ${a.status}, B ${b.status} ${b.text}, C ${c.status}`).to.have.length(1);
      expectError(c, 400, 'invalid_grant');
      expectError(b, 400, 'invalid_grant');
    });

    it('with rotation, redeems a refresh token once when a loser consumes it only after a replay revoked the grant', async () => {
      const client = await organization(interleaved);
      const tokens = await consent(interleaved, client);
      const { a, b, c } = await replay(() => refresh(interleaved, client, tokens.refresh_token!), 'RefreshToken');
      expect([a.status, b.status, c.status].filter((status) => status === 200), `A ${a.status}, B ${b.status} ${b.text}, C ${c.status}`).to.have.length(1);
      expectError(c, 400, 'invalid_grant');
      expectError(b, 400, 'invalid_grant');
    });
  });
}
