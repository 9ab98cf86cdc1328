/**
 * Introspection (RFC 7662) for the bank's resource servers: HTTP Basic or a pinned certificate,
 * never a TPP; the PSD2 facts of an active token; inactive once revoked, withdrawn or past the
 * consent's end.
 */
import { createHash } from 'node:crypto';

import { expect } from 'chai';
import fc from 'fast-check';

import { exchangeCode, redirectParams, registerClient, sandboxAuthorization, suiteClient } from '../authorization/helpers.js';
import { expectError } from '../registration/helpers.js';
import { LEAK } from '../support/leak.js';
import { sandboxTpp, testPki, type TppCredentials } from '../support/pki.js';
import { startServer } from '../support/server.js';
import { suiteClock, suiteServer } from '../support/suite.js';

const SECRET = 'resource-server-secret-0123456789abcdef';
const DAY = 24 * 60 * 60 * 1000;

describe('token introspection (RFC 7662)', function introspection() {
  this.timeout(30_000);
  let apiCertificate: TppCredentials;
  const clock = suiteClock();
  const server = suiteServer(async () => {
    const pki = await testPki();
    // The bank's API presents a certificate of its own PKI (not a QWAC), pinned by thumbprint.
    apiCertificate = { ...pki.server, chainPem: pki.server.certPem } as TppCredentials;
    return {
      options: {
        now: clock.now,
        resourceServers: [
          { id: 'psd2-api', secret: SECRET },
          { id: 'psd2-api-mtls', certificateThumbprints: [createHash('sha256').update(pki.server.der).digest('base64url')] },
        ],
      },
    };
  });
  const client = suiteClient(server);

  const basic = (id = 'psd2-api', secret = SECRET) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  /** `authorization: null` sends no Authorization header. */
  const ask = (token: string, authorization: string | null = basic(), tpp?: TppCredentials) => {
    const req = server.request(tpp).post('/oauth2/introspect').type('form');
    if (authorization !== null) req.set('Authorization', authorization);
    return req.send({ token });
  };

  async function tokens(scope = 'aisp'): Promise<Record<string, string>> {
    const { location, pair } = await sandboxAuthorization(server, client, { params: { scope }, accounts: ['sb-anna-1', 'sb-anna-2'] });
    const res = await exchangeCode(server, client, redirectParams(location).get('code')!, pair);
    return res.body as Record<string, string>;
  }

  it('tells a resource server everything about an active PSU token', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { access_token: accessToken } = await tokens();
    const res = await ask(accessToken!);
    expect(res.status, res.text).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    const body = res.body as Record<string, unknown>;
    expect(body).to.include({
      active: true,
      iss: server.issuer,
      client_id: client.clientId,
      token_type: 'Bearer',
      scope: 'aisp',
      sub: 'sandbox-anna',
      provider_legal_id: 'PSDFR-NCA-EXAMPLETPP',
      psd2_environment: 'sandbox',
    });
    expect(body.accounts).to.deep.equal([{ id: 'sb-anna-1', iban: 'DE89370400440532013000' }, { id: 'sb-anna-2', iban: 'DE02120300000000202051' }]);
    expect(body.cnf).to.deep.equal({ 'x5t#S256': createHash('sha256').update(client.tpp.der).digest('base64url') });
    expect(body.sca_time).to.be.within(before - 2, before + 10);
    expect(body.consent_expires_at).to.equal((body.sca_time as number) + 180 * 86_400);
    expect(body.exp).to.be.within(before + 3590, before + 3610);
  });

  it('tells about a client credentials token, without PSU', async () => {
    const tpp = await sandboxTpp({ roles: ['PSP_PI'], organization: 'Pay Ltd', authorisationNumber: 'PAY9' });
    const pisp = await registerClient(server, { roles: ['PSP_PI'], tpp, body: { scope: 'pisp', redirect_uris: undefined } });
    const token = await server.request(tpp).post('/oauth2/token').type('form').send({ grant_type: 'client_credentials', scope: 'pisp', client_id: pisp.clientId });
    const res = await ask(token.body.access_token);
    expect(res.body).to.include({ active: true, scope: 'pisp', client_id: pisp.clientId, provider_legal_id: 'PSDFR-NCA-PAY9' });
    expect(res.body).to.not.have.any.keys('sub', 'accounts', 'sca_time');
  });

  it('accepts a resource server presenting its pinned certificate', async () => {
    const { access_token: accessToken } = await tokens();
    const res = await ask(accessToken!, null, apiCertificate);
    expect(res.status, res.text).to.equal(200);
    expect(res.body.active).to.equal(true);
  });

  it('refuses TPPs and wrong credentials with 401 invalid_client and a Basic challenge', async () => {
    const { access_token: accessToken } = await tokens();
    for (const [what, res] of [
      ['a TPP with its QWAC', await ask(accessToken!, null, client.tpp)],
      ['no credentials', await ask(accessToken!, null)],
      ['a wrong secret', await ask(accessToken!, basic('psd2-api', `${SECRET}x`))],
      ['an unknown id', await ask(accessToken!, basic('other', SECRET))],
      ['a certificate-only server with a secret', await ask(accessToken!, basic('psd2-api-mtls', SECRET))],
      ['garbage', await ask(accessToken!, 'Basic %%%')],
    ] as const) {
      expect(res.status, what).to.equal(401);
      expectError(res, 401, 'invalid_client');
      expect(res.headers['www-authenticate'], what).to.match(/^Basic realm="introspection"/);
      expect(res.body).to.not.have.property('active');
    }
  });

  it('answers active false for unknown, revoked, refresh and expired-consent tokens', async () => {
    expect((await ask('no-such-token')).body).to.deep.equal({ active: false });
    const first = await tokens();
    expect((await ask(first.refresh_token!)).body).to.deep.equal({ active: false });
    await server.request(client.tpp).post('/oauth2/revoke').type('form').send({ token: first.access_token, client_id: client.clientId });
    expect((await ask(first.access_token!)).body).to.deep.equal({ active: false });
    const second = await tokens();
    clock.offset = 180 * DAY + 1000;
    expect((await ask(second.access_token!)).body).to.deep.equal({ active: false });
  });

  it('needs the token parameter', async () => {
    expectError(await ask(''), 400, 'invalid_request', /token/);
  });

  it('is off for TPPs even with no resource server configured', async () => {
    const bare = await startServer();
    try {
      const tpp = await sandboxTpp();
      const res = await bare.request(tpp).post('/oauth2/introspect').type('form').send({ token: 'x' });
      expectError(res, 401, 'invalid_client');
    } finally {
      await bare.close();
    }
  });

  it('never answers a 5xx or leaks a stack trace, whatever is sent', async () => {
    await fc.assert(fc.asyncProperty(
      fc.string({ maxLength: 80 }),
      fc.oneof(fc.constant(basic()), fc.string({ maxLength: 60 }).map((text) => `Basic ${Buffer.from(text).toString('base64')}`), fc.string({ maxLength: 40 })),
      async (token, authorization) => {
        const res = await server.request().post('/oauth2/introspect').type('form').set('Authorization', authorization.replace(/[\r\n]/g, '')).send({ token, token_type_hint: token });
        expect(res.status, res.text).to.be.below(500);
        expect(res.text).not.to.match(LEAK);
        expect(res.headers['content-type']).to.match(/^application\/json/);
      },
    ), { numRuns: 100 });
  });
});
