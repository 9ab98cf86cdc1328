/**
 * Client management (RFC 7592) at registration_client_uri: reading and deleting a client, with
 * mutual TLS alone or with the registration access token; other methods; PISP clients.
 */
import { expect } from 'chai';

import { sandboxTpp } from '../support/pki.js';
import { expectError, register, watchRegistrationAccessTokens } from './helpers.js';
import { ACME, ACME_DN, ACME_ID, bearer, managementSuite, putBody } from './management.js';

describe('client management (RFC 7592) at registration_client_uri', () => {
  const { server, storage, tpps, storedClient, storedToken } = managementSuite();

  describe('GET', () => {
    it('answers 200 with mutual TLS alone, without any registration_access_token in the response', async () => {
      const registered = await register(server, tpps.acme);
      const res = await server.request(tpps.acme).get(registered.path);
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
      const registered = await register(server, tpps.acme);
      const res = await server.request(tpps.acme).get(registered.path).set('Authorization', bearer(registered.token));
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ client_id: registered.clientId, registration_access_token: registered.token });
    });

    it('refuses a wrong registration access token even with the right certificate (oidc-provider checks it)', async () => {
      const registered = await register(server, tpps.acme);
      const res = await server.request(tpps.acme).get(registered.path).set('Authorization', bearer('not-a-registration-access-token'));
      expectError(res, 401, 'invalid_token');
    });

    it('refuses the registration access token of another client of the same organization', async () => {
      const [first, second] = [await register(server, tpps.acme), await register(server, tpps.acme)];
      const res = await server.request(tpps.acme).get(first.path).set('Authorization', bearer(second.token));
      expectError(res, 401, 'invalid_token');
    });

    it('leaves no temporary registration access token in storage, and never shows it', async () => {
      const registered = await register(server, tpps.acme);
      const before = storage.size;
      const watch = watchRegistrationAccessTokens(storage);
      try {
        const res = await server.request(tpps.acme).get(registered.path);
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

  describe('DELETE', () => {
    it('answers 204 with mutual TLS alone, then GET is 401, and every record of the client is gone', async () => {
      const registered = await register(server, tpps.acme);
      const other = await register(server, tpps.acme);
      const { clientId } = registered;
      await storage.adapterFor('Grant').upsert('grant-of-deleted', { clientId, accountId: 'psu-1', jti: 'grant-of-deleted' }, 3600);
      await storage.adapterFor('AccessToken').upsert('at-of-deleted', { clientId, grantId: 'grant-of-deleted', jti: 'at-of-deleted' }, 3600);
      await storage.adapterFor('RefreshToken').upsert('rt-of-deleted', { clientId, grantId: 'grant-of-deleted', jti: 'rt-of-deleted' }, 3600);
      await storage.adapterFor('AccessToken').upsert('at-of-other', { clientId: other.clientId, grantId: 'grant-of-other', jti: 'at-of-other' }, 3600);

      const res = await server.request(tpps.acme).delete(registered.path);
      expect(res.status, res.text).to.equal(204);
      expect(res.text).to.equal('');

      expect(await storedClient(clientId), 'client').to.equal(undefined);
      expect(await storedToken(registered.token), 'registration access token').to.equal(undefined);
      expect(await storage.adapterFor('Grant').find('grant-of-deleted'), 'grant').to.equal(undefined);
      expect(await storage.adapterFor('AccessToken').find('at-of-deleted'), 'access token').to.equal(undefined);
      expect(await storage.adapterFor('RefreshToken').find('rt-of-deleted'), 'refresh token').to.equal(undefined);
      expect(await storage.adapterFor('AccessToken').find('at-of-other'), "another client's token stays").to.be.an('object');
      expect(await storedClient(other.clientId), 'another client stays').to.be.an('object');

      expectError(await server.request(tpps.acme).get(registered.path), 401, 'invalid_token');
      expectError(await server.request(tpps.acme).get(registered.path).set('Authorization', bearer(registered.token)), 401, 'invalid_token');
    });

    it('answers 204 with the registration access token too, and the token is gone afterwards', async () => {
      const registered = await register(server, tpps.acme);
      const res = await server.request(tpps.acme).delete(registered.path).set('Authorization', bearer(registered.token));
      expect(res.status, res.text).to.equal(204);
      expect(await storedClient(registered.clientId)).to.equal(undefined);
      expect(await storedToken(registered.token)).to.equal(undefined);
    });

    it('frees every record: storage holds what it held before the registration', async () => {
      const before = storage.size;
      const registered = await register(server, tpps.acme);
      expect(storage.size).to.be.greaterThan(before);
      expect((await server.request(tpps.acme).delete(registered.path)).status).to.equal(204);
      expect(storage.size).to.equal(before);
    });

    it('works with a renewed certificate of the same organization', async () => {
      const registered = await register(server, tpps.acme);
      const renewed = await sandboxTpp({ ...ACME, roles: ['PSP_AI'] });
      expect((await server.request(renewed).delete(registered.path)).status).to.equal(204);
      expect(await storedClient(registered.clientId)).to.equal(undefined);
    });
  });

  describe('other methods', () => {
    it('POST on registration_client_uri by the owner: a JSON error, the client unchanged, no temporary token left', async () => {
      const registered = await register(server, tpps.acme);
      const before = storage.size;
      const stored = await storedClient(registered.clientId);
      const res = await server.request(tpps.acme).post(registered.path).send(putBody(registered, { client_name: 'Posted' }));
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
