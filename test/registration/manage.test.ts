import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import { bankTpp, sandboxTpp, type TppCredentials } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';
import {
  aispBody,
  deployedTppBody,
  expectError,
  fullMetadata,
  jwkWithX5c,
  memoryOf,
  qsealc,
  register,
  watchRegistrationAccessTokens,
  type Registered,
} from './helpers.js';

const ACME = { organization: 'Acme Payments', commonName: 'acme.example', ncaId: 'FR-ACPR', authorisationNumber: '12345' } as const;
const ACME_ID = 'PSDFR-ACPR-12345';
const ACME_DN = `CN=acme.example,organizationIdentifier=${ACME_ID},O=Acme Payments,C=FR`;
const ZETA = { organization: 'Zeta Finance', commonName: 'zeta.example', ncaId: 'FR-ACPR', authorisationNumber: '67890' } as const;

describe('client management (RFC 7592) at registration_client_uri', () => {
  let server: TestServer;
  let storage: MemoryStorage;
  let acme: TppCredentials;
  let acmeAll: TppCredentials;
  let acmeBank: TppCredentials;
  let zeta: TppCredentials;

  before(async () => {
    server = await startServer({ options: { storage: new MemoryStorage() } });
    storage = memoryOf(server);
    [acme, acmeAll, acmeBank, zeta] = await Promise.all([
      sandboxTpp({ ...ACME, roles: ['PSP_AI'] }),
      sandboxTpp({ ...ACME, roles: ['PSP_AI', 'PSP_IC', 'PSP_PI'] }),
      bankTpp({ ...ACME, roles: ['PSP_AI'] }),
      sandboxTpp({ ...ZETA, roles: ['PSP_AI', 'PSP_IC', 'PSP_PI'] }),
    ]);
  });
  after(() => server.close());

  const bearer = (token: string) => `Bearer ${token}`;
  const storedClient = (clientId: string) => storage.adapterFor('Client').find(clientId);
  const storedToken = (token: string) => storage.adapterFor('RegistrationAccessToken').find(token);

  /** The PUT body: what was registered, with `changes` (undefined removes a field). */
  function putBody(registered: Registered, changes: Record<string, unknown> = {}): Record<string, unknown> {
    const body = { ...fullMetadata(registered.body), ...changes };
    for (const [key, value] of Object.entries(changes)) if (value === undefined) delete body[key];
    return body;
  }

  describe('GET', () => {
    it('answers 200 with mutual TLS alone, without any registration_access_token in the response', async () => {
      const registered = await register(server, acme);
      const res = await server.request(acme).get(registered.path);
      expect(res.status, res.text).to.equal(200);
      expect(res.headers['cache-control']).to.match(/no-store/);
      expect(res.body).not.to.have.property('registration_access_token');
      expect(res.text).not.to.include(registered.token);
      expect(res.body).to.include({
        client_id: registered.clientId,
        registration_client_uri: registered.body.registration_client_uri,
        tls_client_auth_subject_dn: ACME_DN,
        provider_legal_id: ACME_ID,
        token_endpoint_auth_method: 'tls_client_auth',
      });
      // The environment is stored, not answered (the reference bank's read answer has no such field).
      expect(res.body).not.to.have.property('psd2_environment');
      expect(await storedClient(registered.clientId)).to.include({ psd2_environment: 'sandbox' });
      expect(res.body).not.to.have.property('client_secret');
    });

    it('answers 200 with the registration access token as well', async () => {
      const registered = await register(server, acme);
      const res = await server.request(acme).get(registered.path).set('Authorization', bearer(registered.token));
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ client_id: registered.clientId, registration_access_token: registered.token });
    });

    it('refuses a wrong registration access token even with the right certificate (oidc-provider checks it)', async () => {
      const registered = await register(server, acme);
      const res = await server.request(acme).get(registered.path).set('Authorization', bearer('not-a-registration-access-token'));
      expectError(res, 401, 'invalid_token');
    });

    it('refuses the registration access token of another client of the same organization', async () => {
      const [first, second] = [await register(server, acme), await register(server, acme)];
      const res = await server.request(acme).get(first.path).set('Authorization', bearer(second.token));
      expectError(res, 401, 'invalid_token');
    });

    it('leaves no temporary registration access token in storage, and never shows it', async () => {
      const registered = await register(server, acme);
      const before = storage.size;
      const watch = watchRegistrationAccessTokens(storage);
      try {
        const res = await server.request(acme).get(registered.path);
        expect(res.status).to.equal(200);
        expect(watch.ids, 'a temporary token was used for the call').to.have.length(1);
        const [temporary] = watch.ids as [string];
        expect(temporary).not.to.equal(registered.token);
        expect(await storedToken(temporary), 'the temporary token is gone').to.equal(undefined);
        expect(res.text).not.to.include(temporary);
        expect(JSON.stringify(res.headers)).not.to.include(temporary);
      } finally {
        watch.stop();
      }
      expect(storage.size).to.equal(before);
      expect(await storedToken(registered.token), 'the real token is kept').to.be.an('object');
    });
  });

  describe('PUT', () => {
    it('replaces the whole metadata with mutual TLS alone: 200, and an omitted field disappears', async () => {
      const registered = await register(server, acme, aispBody({ client_name: 'Acme AIS', contacts: ['ops@acme.example'] }));
      const body = putBody(registered, { client_name: undefined, redirect_uris: ['https://tpp.example/new-callback'] });
      const res = await server.request(acme).put(registered.path).send(body);
      expect(res.status, res.text).to.equal(200);
      expect(res.body).not.to.have.property('client_name');
      expect(res.body).not.to.have.property('registration_access_token');
      expect(res.body).to.deep.include({ redirect_uris: ['https://tpp.example/new-callback'], contacts: ['ops@acme.example'], client_id: registered.clientId });
      const stored = await storedClient(registered.clientId);
      expect(stored).not.to.have.property('client_name');
      expect(stored?.redirect_uris).to.deep.equal(['https://tpp.example/new-callback']);
      const get = await server.request(acme).get(registered.path);
      expect(get.body).not.to.have.property('client_name');
    });

    it('replaces the metadata with the registration access token too, keeping the certificate-derived fields', async () => {
      const registered = await register(server, acme);
      const res = await server.request(acme).put(registered.path).set('Authorization', bearer(registered.token))
        .send(putBody(registered, { client_name: 'Renamed', scope: 'aisp extended_transaction_history' }));
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({
        client_name: 'Renamed',
        scope: 'aisp extended_transaction_history',
        registration_access_token: registered.token,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: ACME_DN,
        provider_legal_id: ACME_ID,
      });
      expect(await storedClient(registered.clientId)).to.include({ psd2_environment: 'sandbox', tls_client_certificate_bound_access_tokens: true });
    });

    it('accepts the full metadata the way deployed TPP clients send it (no derived fields, no token)', async () => {
      const body = deployedTppBody(jwkWithX5c(await qsealc(ACME)));
      const registered = await register(server, acme, body);
      const res = await server.request(acme).put(registered.path).send({ ...body, client_id: registered.clientId, client_name: 'Acme AIS v2' });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ client_name: 'Acme AIS v2', tls_client_auth_subject_dn: ACME_DN, provider_legal_id: ACME_ID });
    });

    const derivedChanges: [string, unknown][] = [
      ['provider_legal_id', 'PSDFR-ACPR-67890'],
      ['psd2_environment', 'bank'],
      ['token_endpoint_auth_method', 'client_secret_basic'],
      ['tls_client_auth_subject_dn', `CN=zeta.example,organizationIdentifier=PSDFR-ACPR-67890,O=Zeta Finance,C=FR`],
      ['tls_client_certificate_bound_access_tokens', false],
    ];
    for (const [field, value] of derivedChanges) {
      it(`refuses to change ${field}: 400 invalid_client_metadata, client unchanged`, async () => {
        const registered = await register(server, acme);
        const before = await storedClient(registered.clientId);
        const res = await server.request(acme).put(registered.path).send(putBody(registered, { [field]: value }));
        expectError(res, 400, 'invalid_client_metadata', new RegExp(`^${field} is derived from the client certificate`));
        expect(await storedClient(registered.clientId)).to.deep.equal(before);
      });
    }

    it('re-checks scope against the roles: adding cbpii without PSP_IC is 400 and leaves the client unchanged', async () => {
      const registered = await register(server, acme, aispBody({ scope: 'aisp' }));
      const before = await storedClient(registered.clientId);
      const res = await server.request(acme).put(registered.path).send(putBody(registered, { scope: 'aisp cbpii' }));
      expectError(res, 400, 'invalid_client_metadata', /cbpii requires the PSD2 role PSP_IC/);
      expect(await storedClient(registered.clientId)).to.deep.equal(before);
      const get = await server.request(acme).get(registered.path);
      expect(get.body.scope).to.equal('aisp');
    });

    it('re-checks scope against the roles of the certificate presented now (a renewed certificate that lost a role)', async () => {
      const registered = await register(server, acmeAll, aispBody({ scope: 'aisp cbpii' }));
      const renewed = await sandboxTpp({ ...ACME, roles: ['PSP_AI'] });
      const res = await server.request(renewed).put(registered.path).send(putBody(registered));
      expectError(res, 400, 'invalid_client_metadata', /PSP_IC/);
      expect((await storedClient(registered.clientId))?.scope).to.equal('aisp cbpii');
    });

    it('re-checks grant types: client_credentials without PSP_PI is 400', async () => {
      const registered = await register(server, acme);
      const res = await server.request(acme).put(registered.path).send(putBody(registered, { grant_types: ['client_credentials'], response_types: [], redirect_uris: undefined, scope: 'aisp' }));
      expectError(res, 400, 'invalid_client_metadata', /PSP_PI/);
    });

    it('re-checks redirect URIs: http on a public host is 400 invalid_redirect_uri', async () => {
      const registered = await register(server, acme);
      const before = await storedClient(registered.clientId);
      const res = await server.request(acme).put(registered.path).send(putBody(registered, { redirect_uris: ['http://tpp.example/cb'] }));
      expectError(res, 400, 'invalid_redirect_uri', /https/);
      expect(await storedClient(registered.clientId)).to.deep.equal(before);
    });

    it('accepts the DN it returned when the subject needs RFC 4514 escaping (commas, plus, non-ASCII)', async () => {
      const tpp = await sandboxTpp({ organization: 'Müller, Söhne + Partner S.A.', commonName: 'api.mueller.example', ncaId: 'DE-BAFIN', country: 'DE', authorisationNumber: 'HRB-42' });
      const registered = await register(server, tpp);
      expect(registered.body.tls_client_auth_subject_dn).to.equal('CN=api.mueller.example,organizationIdentifier=PSDDE-BAFIN-HRB-42,O=Müller\\, Söhne \\+ Partner S.A.,C=DE');
      const res = await server.request(tpp).put(registered.path).send(putBody(registered, { client_name: 'Müller' }));
      expect(res.status, res.text).to.equal(200);
      expect(res.body.tls_client_auth_subject_dn).to.equal(registered.body.tls_client_auth_subject_dn);
    });

    it('works with a renewed certificate of the same organization (new key)', async () => {
      const registered = await register(server, acme);
      const renewed = await sandboxTpp({ ...ACME, roles: ['PSP_AI'] });
      expect(renewed.keyPem).not.to.equal(acme.keyPem);
      const res = await server.request(renewed).put(registered.path).send(putBody(registered, { client_name: 'After renewal' }));
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ client_name: 'After renewal', tls_client_auth_subject_dn: ACME_DN, provider_legal_id: ACME_ID });
      expect((await server.request(renewed).get(registered.path)).status).to.equal(200);
    });

    it('refuses a body whose client_id is not the client of the URI', async () => {
      const registered = await register(server, acme);
      const res = await server.request(acme).put(registered.path).send(putBody(registered, { client_id: 'another-client' }));
      expectError(res, 400, 'invalid_request');
    });

    it('leaves no temporary registration access token in storage after a successful or a refused PUT', async () => {
      const registered = await register(server, acme);
      const watch = watchRegistrationAccessTokens(storage);
      try {
        const ok = await server.request(acme).put(registered.path).send(putBody(registered, { client_name: 'x' }));
        expect(ok.status).to.equal(200);
        const bad = await server.request(acme).put(registered.path).send(putBody(registered, { scope: 'cbpii' }));
        expect(bad.status).to.equal(400);
        expect(watch.ids).to.have.length(2);
        for (const id of watch.ids) {
          expect(await storedToken(id)).to.equal(undefined);
          expect(ok.text + bad.text).not.to.include(id);
        }
      } finally {
        watch.stop();
      }
    });
  });

  describe('DELETE', () => {
    it('answers 204 with mutual TLS alone, then GET is 401, and every record of the client is gone', async () => {
      const registered = await register(server, acme);
      const other = await register(server, acme);
      const { clientId } = registered;
      await storage.adapterFor('Grant').upsert('grant-of-deleted', { clientId, accountId: 'psu-1', jti: 'grant-of-deleted' }, 3600);
      await storage.adapterFor('AccessToken').upsert('at-of-deleted', { clientId, grantId: 'grant-of-deleted', jti: 'at-of-deleted' }, 3600);
      await storage.adapterFor('RefreshToken').upsert('rt-of-deleted', { clientId, grantId: 'grant-of-deleted', jti: 'rt-of-deleted' }, 3600);
      await storage.adapterFor('AccessToken').upsert('at-of-other', { clientId: other.clientId, grantId: 'grant-of-other', jti: 'at-of-other' }, 3600);

      const res = await server.request(acme).delete(registered.path);
      expect(res.status, res.text).to.equal(204);
      expect(res.text).to.equal('');

      expect(await storedClient(clientId), 'client').to.equal(undefined);
      expect(await storedToken(registered.token), 'registration access token').to.equal(undefined);
      expect(await storage.adapterFor('Grant').find('grant-of-deleted'), 'grant').to.equal(undefined);
      expect(await storage.adapterFor('AccessToken').find('at-of-deleted'), 'access token').to.equal(undefined);
      expect(await storage.adapterFor('RefreshToken').find('rt-of-deleted'), 'refresh token').to.equal(undefined);
      expect(await storage.adapterFor('AccessToken').find('at-of-other'), "another client's token stays").to.be.an('object');
      expect(await storedClient(other.clientId), 'another client stays').to.be.an('object');

      expectError(await server.request(acme).get(registered.path), 401, 'invalid_token');
      expectError(await server.request(acme).get(registered.path).set('Authorization', bearer(registered.token)), 401, 'invalid_token');
    });

    it('answers 204 with the registration access token too, and the token is gone afterwards', async () => {
      const registered = await register(server, acme);
      const res = await server.request(acme).delete(registered.path).set('Authorization', bearer(registered.token));
      expect(res.status, res.text).to.equal(204);
      expect(await storedClient(registered.clientId)).to.equal(undefined);
      expect(await storedToken(registered.token)).to.equal(undefined);
    });

    it('frees every record: storage holds what it held before the registration', async () => {
      const before = storage.size;
      const registered = await register(server, acme);
      expect(storage.size).to.be.greaterThan(before);
      expect((await server.request(acme).delete(registered.path)).status).to.equal(204);
      expect(storage.size).to.equal(before);
    });

    it('works with a renewed certificate of the same organization', async () => {
      const registered = await register(server, acme);
      const renewed = await sandboxTpp({ ...ACME, roles: ['PSP_AI'] });
      expect((await server.request(renewed).delete(registered.path)).status).to.equal(204);
      expect(await storedClient(registered.clientId)).to.equal(undefined);
    });
  });

  describe('who may manage a client', () => {
    let registered: Registered;
    beforeEach(async () => {
      registered = await register(server, acme);
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
      const res = await server.request(acme).get(registered.path).set('Authorization', bearer(registered.token));
      expect(res.status, 'the owner can still use its token').to.equal(200);
    }

    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      it(`${method}: a certificate of another organization gets 401, even with the valid registration access token`, async () => {
        for (const token of [undefined, registered.token]) {
          const res = await calls(zeta, token)[method]();
          expectError(res, 401, 'invalid_token', /does not belong to the organization and environment/);
          expect(res.text).not.to.include('Acme AIS');
        }
        await untouched();
      });

      it(`${method}: a sandbox certificate of the same organization cannot manage its bank client (401)`, async () => {
        const bank = await register(server, acmeBank);
        const agent = server.request(acme);
        for (const token of [undefined, bank.token]) {
          const test = method === 'GET' ? agent.get(bank.path) : method === 'PUT' ? agent.put(bank.path) : agent.delete(bank.path);
          if (token) test.set('Authorization', bearer(token));
          const res = await (method === 'PUT' ? test.send(putBody(bank, { client_name: 'Hijacked' })) : test);
          expectError(res, 401, 'invalid_token', /organization and environment/);
        }
        expect((await storedClient(bank.clientId))?.psd2_environment).to.equal('bank');
        expect((await server.request(acmeBank).get(bank.path)).status, 'the bank certificate still can').to.equal(200);
      });

      it(`${method}: a bank certificate of the same organization cannot manage its sandbox client (401)`, async () => {
        expectError(await calls(acmeBank)[method](), 401, 'invalid_token', /organization and environment/);
        await untouched();
      });

      it(`${method}: without a certificate, 401 even with the valid registration access token`, async () => {
        for (const token of [undefined, registered.token]) {
          expectError(await calls(undefined, token)[method](), 401, 'invalid_client', /client certificate is required/);
        }
        await untouched();
      });

      it(`${method}: an unknown client id is 401`, async () => {
        const agent = server.request(acme);
        const path = '/oauth2/register/no-such-client';
        const test = method === 'GET' ? agent.get(path) : method === 'PUT' ? agent.put(path).send({ client_id: 'no-such-client' }) : agent.delete(path);
        expectError(await test, 401, 'invalid_token');
        expectError(await (method === 'GET' ? server.request(acme).get(path) : server.request(acme).delete(path)).set('Authorization', bearer(registered.token)), 401, 'invalid_token');
      });
    }

    it('logs a warning when another organization tries to manage a client', async () => {
      const before = server.logs.length;
      await calls(zeta).GET();
      const entry = server.logs.slice(before).find((log) => log.fields.event === 'registration.foreign_certificate');
      expect(entry).to.include({ level: 'warn' });
      expect(entry?.fields).to.include({ clientId: registered.clientId, organization: 'PSDFR-ACPR-67890' });
    });

    it('refusals leave no temporary registration access token behind', async () => {
      const before = storage.size;
      for (const method of ['GET', 'PUT', 'DELETE'] as const) {
        await calls(zeta)[method]();
        await calls(undefined)[method]();
        await calls(acmeBank)[method]();
      }
      expect(storage.size).to.equal(before);
    });
  });

  describe('other methods', () => {
    it('POST on registration_client_uri by the owner: a JSON error, the client unchanged, no temporary token left', async () => {
      const registered = await register(server, acme);
      const before = storage.size;
      const stored = await storedClient(registered.clientId);
      const res = await server.request(acme).post(registered.path).send(putBody(registered, { client_name: 'Posted' }));
      expect(res.status).to.be.oneOf([404, 405]);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(res.body.error).to.be.a('string');
      expect(storage.size).to.equal(before);
      expect(await storedClient(registered.clientId)).to.deep.equal(stored);
    });
  });

  describe('PISP clients', () => {
    it('a PISP client (no redirect URIs) can be read, updated and deleted with mutual TLS alone', async () => {
      const pisp = await sandboxTpp({ ...ACME, roles: ['PSP_PI'] });
      const registered = await register(server, pisp, { client_name: 'Acme PIS', scope: 'pisp', grant_types: ['client_credentials'] });
      expect((await server.request(pisp).get(registered.path)).status).to.equal(200);
      const put = await server.request(pisp).put(registered.path).send({ client_id: registered.clientId, client_name: 'Acme PIS 2', grant_types: ['client_credentials'] });
      expect(put.status, put.text).to.equal(200);
      expect(put.body).to.deep.include({ client_name: 'Acme PIS 2', scope: 'pisp', grant_types: ['client_credentials'], response_types: [] });
      expect((await server.request(pisp).delete(registered.path)).status).to.equal(204);
    });
  });
});
