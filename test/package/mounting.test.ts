import { expect } from 'chai';
import express from 'express';

import { sandboxTpp } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';

const registration = { redirect_uris: ['https://tpp.example/cb'], client_name: 'Mounted', scope: 'aisp' };

function hostRoutes(app: express.Express): void {
  const api = express.Router();
  api.post('/echo', (req, res) => {
    res.json({ received: req.body as unknown });
  });
  api.get('/accounts', (_req, res) => {
    res.json({ accounts: [] });
  });
  app.use('/api', api);
  app.get('/', (_req, res) => {
    res.type('text/plain').send('home');
  });
}

for (const order of ['before', 'after'] as const) {
  describe(`the router in a host app with a body parser mounted ${order} it`, () => {
    let server: TestServer;
    before(async () => {
      const parsers = (app: express.Express) => {
        app.use(express.json());
        app.use(express.urlencoded({ extended: false }));
      };
      server = await startServer({
        beforeMount: order === 'before' ? parsers : undefined,
        afterMount: (app) => {
          if (order === 'after') parsers(app);
          hostRoutes(app);
        },
      });
    });
    after(() => server.close());

    it('registers a client through /oauth2', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_AI'] });
      const res = await server.request(tpp).post('/oauth2/register').send(registration);
      expect(res.status).to.equal(201);
      expect(res.body.client_name).to.equal('Mounted');
      expect(res.body.registration_client_uri).to.match(new RegExp(`^${server.issuer}/register/`));
    });

    it('refuses a bad registration with the same JSON error', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_AI'] });
      const res = await server.request(tpp).post('/oauth2/register').send({ ...registration, scope: 'cbpii' });
      expect(res.status).to.equal(400);
      expect(res.body.error).to.equal('invalid_client_metadata');
    });

    it('answers a form-encoded token request with an OAuth error, not a crash', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_PI'] });
      const res = await server.request(tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', client_id: 'unknown' });
      expect(res.status).to.equal(401);
      expect(res.body.error).to.equal('invalid_client');
    });

    it("keeps the host app's own routes and body parsing working", async () => {
      const echo = await server.request().post('/api/echo').send({ amount: 12 });
      expect(echo.status).to.equal(200);
      expect(echo.body).to.deep.equal({ received: { amount: 12 } });
      const home = await server.request().get('/');
      expect(home.text).to.equal('home');
      const accounts = await server.request().get('/api/accounts');
      expect(accounts.body).to.deep.equal({ accounts: [] });
    });

    it('answers unknown paths under /oauth2 with a JSON 404 and leaves other paths to the host', async () => {
      const res = await server.request().get('/oauth2/no-such-endpoint');
      expect(res.status).to.equal(404);
      expect(res.type).to.equal('application/json');
      expect(res.body).to.deep.equal({ error: 'not_found', error_description: 'there is no endpoint at GET /oauth2/no-such-endpoint' });
      const host = await server.request().get('/elsewhere');
      expect(host.status).to.equal(404);
      expect(host.type).to.equal('text/html');
    });
  });
}

describe('production-safe defaults', () => {
  let server: TestServer;
  before(async () => { server = await startServer(); });
  after(() => server.close());

  it('has no development interaction pages: an unknown interaction is an expired-session page without a form', async () => {
    const res = await server.request().get('/oauth2/interaction/abc');
    expect(res.status).to.equal(400);
    expect(res.type).to.equal('text/html');
    expect(res.text).to.not.match(/<form|<input/);
    expect(res.text).to.contain('Your session has expired');
  });

  it('publishes the configured signing key, not a development one', async () => {
    const res = await server.request().get('/oauth2/jwks');
    expect(res.status).to.equal(200);
    expect(res.body.keys).to.have.length(1);
    expect(res.body.keys[0].kty).to.equal('RSA');
    expect(res.body.keys[0]).to.not.have.property('d');
  });

  it('signs its cookies, marks them secure, and scopes the interaction cookie to its pages', async () => {
    const tpp = await sandboxTpp({ roles: ['PSP_AI'] });
    const client = await server.request(tpp).post('/oauth2/register').send(registration);
    expect(client.status).to.equal(201);
    const res = await server.request().get('/oauth2/authorize').query({
      client_id: client.body.client_id,
      redirect_uri: 'https://tpp.example/cb',
      response_type: 'code',
      scope: 'aisp',
      state: 'xyz',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    expect(res.status).to.be.within(302, 303);
    const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    const names = cookies.map((cookie) => cookie.split('=')[0]);
    expect(names).to.include('psd2_interaction');
    expect(names).to.include('psd2_interaction.sig');
    for (const cookie of cookies) expect(cookie.toLowerCase()).to.contain('secure');
    const interaction = cookies.find((cookie) => cookie.startsWith('psd2_interaction='));
    expect(interaction).to.match(/path=\/oauth2\/interaction\//i);
  });

  it('does not accept a client certificate header unless configured', async () => {
    const tpp = await sandboxTpp();
    const res = await server.request().post('/oauth2/register')
      .set('x-ssl-client-cert', encodeURIComponent(tpp.chainPem))
      .set('client-cert', `:${tpp.der.toString('base64')}:`)
      .send(registration);
    expect(res.status).to.equal(401);
    expect(res.body.error_description).to.match(/client certificate is required/);
  });
});
