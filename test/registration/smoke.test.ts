import { expect } from 'chai';

import { sandboxTpp } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';

describe('smoke', () => {
  let server: TestServer;
  before(async () => { server = await startServer(); });
  after(() => server.close());

  it('registers', async () => {
    const tpp = await sandboxTpp({ roles: ['PSP_AI'] });
    const res = await server.request(tpp).post('/oauth2/register').send({
      redirect_uris: ['https://tpp.example/cb'],
      client_name: 'Acme',
      scope: 'aisp extended_transaction_history',
    });
    console.log(res.status, res.body);
    expect(res.status).to.equal(201);
    const get = await server.request(tpp).get(new URL(res.body.registration_client_uri).pathname);
    console.log(get.status, get.body);
    const meta = await server.request().get('/oauth2/.well-known/oauth-authorization-server');
    console.log(meta.status, meta.body);
  });
});
