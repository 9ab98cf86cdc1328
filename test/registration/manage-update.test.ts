/**
 * Client management (RFC 7592) at registration_client_uri: PUT replaces the whole metadata, with
 * the certificate-derived fields, the roles and the redirect URIs checked again.
 */
import { setTimeout as delay } from 'node:timers/promises';

import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';

import { expectErrorPage, expectInteraction } from '../authorization/answers.js';
import { authorizationUrl, REDIRECT_URI, requestParams } from '../authorization/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { withAdapters } from '../support/storage.js';
import { beforeSuite, suiteServer } from '../support/suite.js';
import { aispBody, deployedTppBody, expectError, jwkWithX5c, qsealc, register, watchRegistrationAccessTokens } from './helpers.js';
import { ACME, ACME_DN, ACME_ID, bearer, managementSuite, putBody } from './management.js';

describe('client management (RFC 7592) at registration_client_uri', () => {
  const { server, storage, tpps, storedClient, storedToken } = managementSuite();

  describe('PUT', () => {
    it('replaces the whole metadata with mutual TLS alone: 200, and an omitted field disappears', async () => {
      const registered = await register(server, tpps.acme, aispBody({ client_name: 'Acme AIS', contacts: ['ops@acme.example'] }));
      const body = putBody(registered, { client_name: undefined, redirect_uris: ['https://tpp.example/new-callback'] });
      const res = await server.request(tpps.acme).put(registered.path).send(body);
      expect(res.status, res.text).to.equal(200);
      expect(res.body).not.to.have.property('client_name');
      expect(res.body).not.to.have.property('registration_access_token');
      expect(res.body).to.deep.include({ redirect_uris: ['https://tpp.example/new-callback'], contacts: ['ops@acme.example'], client_id: registered.clientId });
      const stored = await storedClient(registered.clientId);
      expect(stored).not.to.have.property('client_name');
      expect(stored?.redirect_uris).to.deep.equal(['https://tpp.example/new-callback']);
      const get = await server.request(tpps.acme).get(registered.path);
      expect(get.body).not.to.have.property('client_name');
    });

    it('is acted on at once: the replaced redirect URI is refused, the new one starts the pages, and once deleted the client is unknown', async () => {
      const registered = await register(server, tpps.acme, aispBody({ redirect_uris: [REDIRECT_URI] }));
      const client = { clientId: registered.clientId, tpp: tpps.acme, environment: 'sandbox' } as const;
      const authorize = (redirectUri: string) => new PsuBrowser().get(authorizationUrl(server, requestParams(client, { redirect_uri: redirectUri })));
      // Twice: the second look-up finds the client built at the first.
      expectInteraction(server, await authorize(REDIRECT_URI));
      expectInteraction(server, await authorize(REDIRECT_URI));
      const res = await server.request(tpps.acme).put(registered.path).send(putBody(registered, { redirect_uris: ['https://tpp.example/new-callback'] }));
      expect(res.status, res.text).to.equal(200);
      expectErrorPage(await authorize(REDIRECT_URI), 'en');
      expectInteraction(server, await authorize('https://tpp.example/new-callback'));
      expect((await server.request(tpps.acme).delete(registered.path)).status).to.equal(204);
      expectErrorPage(await authorize('https://tpp.example/new-callback'), 'en');
    });

    it('replaces the metadata with the registration access token too, keeping the certificate-derived fields', async () => {
      const registered = await register(server, tpps.acme);
      const res = await server.request(tpps.acme).put(registered.path).set('Authorization', bearer(registered.token))
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
      const registered = await register(server, tpps.acme, body);
      const res = await server.request(tpps.acme).put(registered.path).send({ ...body, client_id: registered.clientId, client_name: 'Acme AIS v2' });
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
        const registered = await register(server, tpps.acme);
        const before = await storedClient(registered.clientId);
        const res = await server.request(tpps.acme).put(registered.path).send(putBody(registered, { [field]: value }));
        expectError(res, 400, 'invalid_client_metadata', new RegExp(`^${field} is derived from the client certificate`));
        expect(await storedClient(registered.clientId)).to.deep.equal(before);
      });
    }

    it('re-checks scope against the roles: adding cbpii without PSP_IC is 400 and leaves the client unchanged', async () => {
      const registered = await register(server, tpps.acme, aispBody({ scope: 'aisp' }));
      const before = await storedClient(registered.clientId);
      const res = await server.request(tpps.acme).put(registered.path).send(putBody(registered, { scope: 'aisp cbpii' }));
      expectError(res, 400, 'invalid_client_metadata', /cbpii requires the PSD2 role PSP_IC/);
      expect(await storedClient(registered.clientId)).to.deep.equal(before);
      const get = await server.request(tpps.acme).get(registered.path);
      expect(get.body.scope).to.equal('aisp');
    });

    it('re-checks scope against the roles of the certificate presented now (a renewed certificate that lost a role)', async () => {
      const registered = await register(server, tpps.acmeAll, aispBody({ scope: 'aisp cbpii' }));
      const renewed = await sandboxTpp({ ...ACME, roles: ['PSP_AI'] });
      const res = await server.request(renewed).put(registered.path).send(putBody(registered));
      expectError(res, 400, 'invalid_client_metadata', /PSP_IC/);
      expect((await storedClient(registered.clientId))?.scope).to.equal('aisp cbpii');
    });

    it('re-checks grant types: client_credentials without PSP_PI is 400', async () => {
      const registered = await register(server, tpps.acme);
      const res = await server.request(tpps.acme).put(registered.path).send(putBody(registered, { grant_types: ['client_credentials'], response_types: [], redirect_uris: undefined, scope: 'aisp' }));
      expectError(res, 400, 'invalid_client_metadata', /PSP_PI/);
    });

    it('re-checks redirect URIs: http on a public host is 400 invalid_redirect_uri', async () => {
      const registered = await register(server, tpps.acme);
      const before = await storedClient(registered.clientId);
      const res = await server.request(tpps.acme).put(registered.path).send(putBody(registered, { redirect_uris: ['http://tpp.example/cb'] }));
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
      const registered = await register(server, tpps.acme);
      const renewed = await sandboxTpp({ ...ACME, roles: ['PSP_AI'] });
      expect(renewed.keyPem).not.to.equal(tpps.acme.keyPem);
      const res = await server.request(renewed).put(registered.path).send(putBody(registered, { client_name: 'After renewal' }));
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ client_name: 'After renewal', tls_client_auth_subject_dn: ACME_DN, provider_legal_id: ACME_ID });
      expect((await server.request(renewed).get(registered.path)).status).to.equal(200);
    });

    it('refuses a body whose client_id is not the client of the URI', async () => {
      const registered = await register(server, tpps.acme);
      const res = await server.request(tpps.acme).put(registered.path).send(putBody(registered, { client_id: 'another-client' }));
      expectError(res, 400, 'invalid_request');
    });

    it('leaves no temporary registration access token in storage after a successful or a refused PUT', async () => {
      const registered = await register(server, tpps.acme);
      const watch = watchRegistrationAccessTokens(storage);
      try {
        const ok = await server.request(tpps.acme).put(registered.path).send(putBody(registered, { client_name: 'x' }));
        expect(ok.status).to.equal(200);
        const bad = await server.request(tpps.acme).put(registered.path).send(putBody(registered, { scope: 'cbpii' }));
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
});

describe('client management (RFC 7592) on a storage slow to answer: a PUT body that has arrived whole before it is read', () => {
  // The client is looked up before the body is read: 50 ms is ample for the body to arrive whole.
  const storage = withAdapters(new MemoryStorage(), (model, adapter) => (model === 'Client'
    ? { ...adapter, find: async (id) => { await delay(50); return await adapter.find(id); } }
    : adapter));
  const server = suiteServer({ options: { storage } });
  const tpp = beforeSuite(async () => ({ acme: await sandboxTpp({ ...ACME, roles: ['PSP_AI'] }) }));

  it('takes back what a read answered, with a change: 200, and the change is stored', async () => {
    const registered = await register(server, tpp.acme, aispBody());
    const read = await server.request(tpp.acme).get(registered.path);
    expect(read.status, read.text).to.equal(200);
    const res = await server.request(tpp.acme).put(registered.path).send({ ...(read.body as Record<string, unknown>), client_name: 'Replaced' });
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ client_name: 'Replaced', client_id: registered.clientId });
    expect((await server.request(tpp.acme).get(registered.path)).body).to.include({ client_name: 'Replaced' });
  });

  it('takes an update without client_id (deployed TPP clients leave it out): 200', async () => {
    const registered = await register(server, tpp.acme, aispBody());
    const res = await server.request(tpp.acme).put(registered.path).send(putBody(registered, { client_id: undefined, client_name: 'No id' }));
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ client_name: 'No id', client_id: registered.clientId });
  });
});
