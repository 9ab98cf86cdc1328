/**
 * RFC 7592 §2.2 forbids the read-only fields of a read answer in an update; the server ignores them,
 * so that a TPP can PUT back what it read, changed where it wants: the response-only fields of §3
 * (`registration_access_token`, `registration_client_uri`, `client_id_issued_at`,
 * `client_secret_expires_at`) and the certificate-derived fields the read answer holds, when they
 * are sent back unchanged.
 */
import { expect } from 'chai';

import { deployedTppBody, expectError, jwkWithX5c, qsealc, register } from './helpers.js';
import { ACME, managementSuite } from './management.js';

describe('RFC 7592 update: the read-only fields of a read answer are ignored', () => {
  const { server, tpps, storedClient } = managementSuite();

  it('takes back the read answer as it came, with mutual TLS alone: 200, the client unchanged', async () => {
    const registered = await register(server, tpps.acme, deployedTppBody(jwkWithX5c(await qsealc(ACME))));
    const read = await server.request(tpps.acme).get(registered.path);
    expect(read.status, read.text).to.equal(200);
    expect(read.body).to.have.property('registration_client_uri');
    const before = await storedClient(registered.clientId);

    const res = await server.request(tpps.acme).put(registered.path).send(read.body);
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal(read.body);
    expect(await storedClient(registered.clientId)).to.deep.equal(before);
  });

  it('takes back the read answer made with the registration access token, the token in it', async () => {
    const registered = await register(server, tpps.acme);
    const read = await server.request(tpps.acme).get(registered.path).set('Authorization', `Bearer ${registered.token}`);
    expect(read.status, read.text).to.equal(200);
    expect(read.body).to.include({ registration_access_token: registered.token });

    const res = await server.request(tpps.acme).put(registered.path).set('Authorization', `Bearer ${registered.token}`)
      .send({ ...read.body, client_name: 'Acme AIS v2' });
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ client_name: 'Acme AIS v2', registration_access_token: registered.token });
    const again = await server.request(tpps.acme).get(registered.path).set('Authorization', `Bearer ${registered.token}`);
    expect(again.status, again.text).to.equal(200);
    expect(again.body).to.include({ client_name: 'Acme AIS v2' });
  });

  it('ignores client_id_issued_at, client_secret_expires_at and a registration_client_uri, whatever they say', async () => {
    const registered = await register(server, tpps.acme);
    const issuedAt = (await storedClient(registered.clientId))?.client_id_issued_at;
    expect(issuedAt).to.be.a('number');
    const read = await server.request(tpps.acme).get(registered.path);

    const res = await server.request(tpps.acme).put(registered.path).send({
      ...read.body,
      client_name: 'Acme AIS renamed',
      client_id_issued_at: 1,
      client_secret_expires_at: 0,
      registration_client_uri: 'https://elsewhere.example/register/another-client',
    });
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.include({ client_id: registered.clientId, client_name: 'Acme AIS renamed', registration_client_uri: read.body.registration_client_uri });
    expect(res.body).not.to.have.any.keys('client_id_issued_at', 'client_secret_expires_at');
    const stored = await storedClient(registered.clientId);
    expect(stored).to.include({ client_name: 'Acme AIS renamed', client_id_issued_at: issuedAt });
    expect(stored).not.to.have.property('client_secret_expires_at');
  });

  it('still refuses a certificate-derived field sent back with another value, and a body naming another client', async () => {
    const registered = await register(server, tpps.acme);
    const read = await server.request(tpps.acme).get(registered.path);
    const before = await storedClient(registered.clientId);

    const foreign = await server.request(tpps.acme).put(registered.path).send({ ...read.body, provider_legal_id: 'PSDFR-ACPR-67890' });
    expectError(foreign, 400, 'invalid_client_metadata', /^provider_legal_id is derived from the client certificate/);
    const other = await server.request(tpps.acme).put(registered.path).send({ ...read.body, client_id: 'another-client' });
    expectError(other, 400, 'invalid_request');
    expect(await storedClient(registered.clientId)).to.deep.equal(before);
  });
});
