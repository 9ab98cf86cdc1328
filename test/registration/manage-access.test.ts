/**
 * Client management (RFC 7592) at registration_client_uri: who may manage a client (its
 * organization, in its environment, with a certificate).
 */
import { expect } from 'chai';

import { type TppCredentials } from '../support/pki.js';
import { expectError, register, type Registered } from './helpers.js';
import { bearer, managementSuite, putBody } from './management.js';

describe('client management (RFC 7592) at registration_client_uri', () => {
  const { server, storage, tpps, storedClient, storedToken } = managementSuite();

  describe('who may manage a client', () => {
    let registered: Registered;
    beforeEach(async () => {
      registered = await register(server, tpps.acme);
    });

    const calls = (tpp: TppCredentials | undefined, token?: string) => {
      const agent = server.request(tpp);
      const withToken = <T extends { set(name: string, value: string): T }>(test: T): T => (token ? test.set('Authorization', bearer(token)) : test);
      return {
        GET: () => withToken(agent.get(registered.path)),
        PUT: () => withToken(agent.put(registered.path)).send(putBody(registered, { client_name: 'Hijacked' })),
        DELETE: () => withToken(agent.delete(registered.path)),
      };
    };

    /** The client and its token are exactly as registered. */
    async function untouched(): Promise<void> {
      const stored = await storedClient(registered.clientId);
      expect(stored, 'the client still exists').to.be.an('object');
      expect(stored?.client_name).to.equal('Acme AIS');
      expect(await storedToken(registered.token), 'its registration access token still exists').to.be.an('object');
      const res = await server.request(tpps.acme).get(registered.path).set('Authorization', bearer(registered.token));
      expect(res.status, 'the owner can still use its token').to.equal(200);
    }

    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      it(`${method}: a certificate of another organization gets 401, even with the valid registration access token`, async () => {
        for (const token of [undefined, registered.token]) {
          const res = await calls(tpps.zeta, token)[method]();
          expectError(res, 401, 'invalid_token', /does not belong to the organization and environment/);
          expect(res.text).not.to.include('Acme AIS');
        }
        await untouched();
      });

      it(`${method}: a sandbox certificate of the same organization cannot manage its bank client (401)`, async () => {
        const bank = await register(server, tpps.acmeBank);
        const agent = server.request(tpps.acme);
        for (const token of [undefined, bank.token]) {
          const test = method === 'GET' ? agent.get(bank.path) : method === 'PUT' ? agent.put(bank.path) : agent.delete(bank.path);
          if (token) test.set('Authorization', bearer(token));
          const res = await (method === 'PUT' ? test.send(putBody(bank, { client_name: 'Hijacked' })) : test);
          expectError(res, 401, 'invalid_token', /organization and environment/);
        }
        expect((await storedClient(bank.clientId))?.psd2_environment).to.equal('bank');
        expect((await server.request(tpps.acmeBank).get(bank.path)).status, 'the bank certificate still can').to.equal(200);
      });

      it(`${method}: a bank certificate of the same organization cannot manage its sandbox client (401)`, async () => {
        expectError(await calls(tpps.acmeBank)[method](), 401, 'invalid_token', /organization and environment/);
        await untouched();
      });

      it(`${method}: without a certificate, 401 even with the valid registration access token`, async () => {
        for (const token of [undefined, registered.token]) {
          expectError(await calls(undefined, token)[method](), 401, 'invalid_client', /client certificate is required/);
        }
        await untouched();
      });

      it(`${method}: an unknown client id is 401`, async () => {
        const agent = server.request(tpps.acme);
        const path = '/oauth2/register/no-such-client';
        const test = method === 'GET' ? agent.get(path) : method === 'PUT' ? agent.put(path).send({ client_id: 'no-such-client' }) : agent.delete(path);
        expectError(await test, 401, 'invalid_token');
        expectError(await (method === 'GET' ? server.request(tpps.acme).get(path) : server.request(tpps.acme).delete(path)).set('Authorization', bearer(registered.token)), 401, 'invalid_token');
      });
    }

    it('logs a warning when another organization tries to manage a client', async () => {
      const before = server.logs.length;
      await calls(tpps.zeta).GET();
      const entry = server.logs.slice(before).find((log) => log.fields.event === 'registration.foreign_certificate');
      expect(entry).to.include({ level: 'warn' });
      expect(entry?.fields).to.include({ clientId: registered.clientId, organization: 'PSDFR-ACPR-67890' });
    });

    it('refusals leave no temporary registration access token behind', async () => {
      const before = storage.size;
      for (const method of ['GET', 'PUT', 'DELETE'] as const) {
        await calls(tpps.zeta)[method]();
        await calls(undefined)[method]();
        await calls(tpps.acmeBank)[method]();
      }
      expect(storage.size).to.equal(before);
    });
  });
});
