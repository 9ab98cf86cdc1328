import { createServer, type AddressInfo } from 'node:net';

import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import type { Psd2Role } from '../../lib/certificates/oids.js';
import { bankTpp, rogueTpp, sandboxTpp, type TppCredentials } from '../support/pki.js';
import { suiteServer } from '../support/suite.js';
import { aispBody, deployedTppBody, expectError, jwkWithX5c, memoryOf, pathOf, qsealc, register } from './helpers.js';

const ACME = { organization: 'Acme Payments', commonName: 'acme.example', ncaId: 'FR-ACPR', authorisationNumber: '12345' } as const;
const ACME_ID = 'PSDFR-ACPR-12345';
const ACME_DN = `CN=acme.example,organizationIdentifier=${ACME_ID},O=Acme Payments,C=FR`;

describe('client registration (RFC 7591) over mutual TLS', () => {
  const server = suiteServer({ options: { storage: new MemoryStorage() } });
  let storage: MemoryStorage;
  const tpps = new Map<string, Promise<TppCredentials>>();

  /** One sandbox certificate of Acme per role set (minting is the slow part). */
  const acme = (roles: readonly Psd2Role[]): Promise<TppCredentials> => {
    const key = `sandbox:${roles.join(',')}`;
    if (!tpps.has(key)) tpps.set(key, sandboxTpp({ ...ACME, roles }));
    return tpps.get(key) as Promise<TppCredentials>;
  };
  const acmeBank = (roles: readonly Psd2Role[]): Promise<TppCredentials> => {
    const key = `bank:${roles.join(',')}`;
    if (!tpps.has(key)) tpps.set(key, bankTpp({ ...ACME, roles }));
    return tpps.get(key) as Promise<TppCredentials>;
  };

  before(async () => {
    storage = memoryOf(server);
  });

  /** POSTs `body` with `tpp` and expects a refusal that stored nothing. */
  async function refused(tpp: TppCredentials, body: unknown, status: number, error: string, description?: RegExp) {
    const before = storage.size;
    const res = await server.request(tpp).post('/oauth2/register').send(body as object);
    expectError(res, status, error, description);
    expect(storage.size, 'a refused registration must store nothing').to.equal(before);
    return res;
  }

  describe('success', () => {
    it('answers 201 with the full metadata, client_id, registration_client_uri and registration_access_token', async () => {
      const tpp = await acme(['PSP_AI']);
      const res = await server.request(tpp).post('/oauth2/register').send(aispBody({ contacts: ['ops@acme.example'] }));
      expect(res.status).to.equal(201);
      expect(res.headers['content-type']).to.match(/^application\/json/);
      expect(res.headers['cache-control']).to.match(/no-store/);
      const body = res.body as Record<string, unknown>;
      expect(body.client_id).to.be.a('string').with.length.greaterThan(10);
      expect(body.registration_access_token).to.be.a('string').with.length.greaterThan(10);
      expect(body.registration_client_uri).to.equal(`${server.issuer}/register/${body.client_id as string}`);
      expect(body).not.to.have.property('client_id_issued_at');
      expect(body).to.deep.include({
        client_name: 'Acme AIS',
        redirect_uris: ['https://tpp.example/callback'],
        contacts: ['ops@acme.example'],
        scope: 'aisp',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      });
      const stored = await storage.adapterFor('Client').find(String(body.client_id));
      expect(stored, 'the client is stored').to.be.an('object');
      expect(stored?.provider_legal_id).to.equal(ACME_ID);
    });

    it('derives token_endpoint_auth_method, tls_client_auth_subject_dn (RFC 4514), provider_legal_id, bound tokens and the sandbox environment', async () => {
      const { body } = await register(server, await acme(['PSP_AI']));
      expect(body).to.include({
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: ACME_DN,
        provider_legal_id: ACME_ID,
      });
      // Token binding and environment are stored, not answered (the reference bank's answer shape).
      expect(await storage.adapterFor('Client').find(String(body.client_id))).to.include({ tls_client_certificate_bound_access_tokens: true, psd2_environment: 'sandbox' });
      for (const field of ['tls_client_auth_san_dns', 'tls_client_auth_san_uri', 'tls_client_auth_san_ip', 'tls_client_auth_san_email']) {
        expect(body).not.to.have.property(field);
      }
    });

    it('makes a client registered with a bank QTSP certificate a bank client', async () => {
      const { body } = await register(server, await acmeBank(['PSP_AI']));
      expect(body).to.include({ provider_legal_id: ACME_ID, tls_client_auth_subject_dn: ACME_DN });
      expect(await storage.adapterFor('Client').find(String(body.client_id))).to.include({ psd2_environment: 'bank' });
    });

    it('takes the DN and organizationIdentifier of each certificate', async () => {
      const other = await sandboxTpp({ organization: 'Zeta Finance', commonName: 'api.zeta.example', ncaId: 'DE-BAFIN', country: 'DE', authorisationNumber: '777' });
      const { body } = await register(server, other);
      expect(body).to.include({
        provider_legal_id: 'PSDDE-BAFIN-777',
        tls_client_auth_subject_dn: 'CN=api.zeta.example,organizationIdentifier=PSDDE-BAFIN-777,O=Zeta Finance,C=DE',
      });
    });

    it('never returns a client_secret, even when one is sent', async () => {
      const res = await server.request(await acme(['PSP_AI'])).post('/oauth2/register').send(aispBody({ client_secret: 'chosen-by-the-tpp', client_secret_expires_at: 0 }));
      expect(res.status, res.text).to.equal(201);
      expect(res.body).not.to.have.property('client_secret');
      expect(res.body).not.to.have.property('client_secret_expires_at');
      expect(res.text).not.to.include('chosen-by-the-tpp');
      const stored = await storage.adapterFor('Client').find(String(res.body.client_id));
      expect(stored).not.to.have.property('client_secret');
    });

    it('ignores a client_id chosen by the TPP', async () => {
      const res = await server.request(await acme(['PSP_AI'])).post('/oauth2/register').send(aispBody({ client_id: 'chosen-id' }));
      expect(res.status, res.text).to.equal(201);
      expect(res.body.client_id).not.to.equal('chosen-id');
      expect(await storage.adapterFor('Client').find('chosen-id')).to.equal(undefined);
    });

    it('accepts the body deployed TPP clients send (DESIGN 3.5), jwks with a QSealC in x5c included', async () => {
      const seal = await qsealc(ACME);
      const jwk = jwkWithX5c(seal);
      const body = deployedTppBody(jwk);
      const res = await server.request(await acme(['PSP_AI'])).post('/oauth2/register').send(body);
      expect(res.status, res.text).to.equal(201);
      expect(res.body).to.deep.include({
        redirect_uris: body.redirect_uris,
        token_endpoint_auth_method: 'tls_client_auth',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        client_name: 'Acme Account Information',
        scope: 'aisp extended_transaction_history',
        contacts: ['psd2-ops@tpp.example'],
        tls_client_auth_subject_dn: ACME_DN,
        provider_legal_id: ACME_ID,
      });
      const keys = (res.body.jwks as { keys: Record<string, unknown>[] }).keys;
      expect(keys).to.have.length(1);
      expect(keys[0]?.x5c).to.deep.equal([seal.der.toString('base64')]);
      expect(keys[0]).to.include({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: 'qseal-1' });
    });
  });

  describe('the certificate', () => {
    it('is required: without one, 401 invalid_client and nothing stored', async () => {
      const before = storage.size;
      const res = await server.request().post('/oauth2/register').send(aispBody());
      expectError(res, 401, 'invalid_client', /client certificate is required/);
      expect(storage.size).to.equal(before);
    });

    it('must be issued by a trusted QTSP: 401 invalid_client', async () => {
      await refused(await rogueTpp({ roles: ['PSP_AI'] }), aispBody(), 401, 'invalid_client', /not issued by a QTSP trusted/);
    });

    it('must be a website authentication certificate (a QSealC is refused): 401 invalid_client', async () => {
      await refused(await qsealc(ACME), aispBody(), 401, 'invalid_client', /not a website authentication certificate/);
    });

    it('is not taken from a header sent by the client when no proxy is configured', async () => {
      const tpp = await acme(['PSP_AI']);
      const before = storage.size;
      const res = await server.request().post('/oauth2/register')
        .set('Client-Cert', `:${tpp.der.toString('base64')}:`)
        .set('X-SSL-Client-Cert', encodeURIComponent(tpp.certPem))
        .send(aispBody());
      expectError(res, 401, 'invalid_client');
      expect(storage.size).to.equal(before);
    });
  });

  describe('scope against the certificate roles', () => {
    const accepted: [readonly Psd2Role[], Record<string, unknown>, string][] = [
      [['PSP_AI'], { scope: 'aisp' }, 'aisp'],
      [['PSP_AI'], { scope: 'aisp extended_transaction_history' }, 'aisp extended_transaction_history'],
      [['PSP_IC'], { scope: 'cbpii' }, 'cbpii'],
    ];
    for (const [roles, overrides, scope] of accepted) {
      it(`accepts ${roles.join('+')} asking for "${scope}"`, async () => {
        const { body } = await register(server, await acme(roles), aispBody(overrides));
        expect(body.scope).to.equal(scope);
        expect(body.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
      });
    }

    it('accepts PSP_PI asking for pisp with client_credentials, without redirect_uris; response_types becomes []', async () => {
      const { body } = await register(server, await acme(['PSP_PI']), { client_name: 'Acme PIS', scope: 'pisp', grant_types: ['client_credentials'] });
      expect(body).to.deep.include({ scope: 'pisp', grant_types: ['client_credentials'], response_types: [] });
      expect(body.redirect_uris ?? []).to.deep.equal([]);
    });

    const defaults: [readonly Psd2Role[], Record<string, unknown>, string, string[]][] = [
      [['PSP_AI'], aispBody({ scope: undefined }), 'aisp extended_transaction_history', ['authorization_code', 'refresh_token']],
      [['PSP_IC'], aispBody({ scope: undefined }), 'cbpii', ['authorization_code', 'refresh_token']],
      [['PSP_PI'], { client_name: 'Acme PIS' }, 'pisp', ['client_credentials']],
      [['PSP_AI', 'PSP_IC', 'PSP_PI'], aispBody({ scope: undefined }), 'aisp extended_transaction_history cbpii pisp', ['authorization_code', 'refresh_token', 'client_credentials']],
    ];
    for (const [roles, body, scope, grants] of defaults) {
      it(`defaults an omitted scope to all that ${roles.join('+')} allows ("${scope}")`, async () => {
        const registered = await register(server, await acme(roles), body);
        expect(registered.body.scope).to.equal(scope);
        expect(registered.body.grant_types).to.deep.equal(grants);
      });
    }

    const missing: [readonly Psd2Role[], string, string][] = [
      [['PSP_PI'], 'aisp', 'PSP_AI'],
      [['PSP_IC'], 'aisp extended_transaction_history', 'PSP_AI'],
      [['PSP_AI'], 'cbpii', 'PSP_IC'],
      [['PSP_AI'], 'aisp cbpii', 'PSP_IC'],
      [['PSP_AI'], 'pisp', 'PSP_PI'],
    ];
    for (const [roles, scope, role] of missing) {
      it(`refuses ${roles.join('+')} asking for "${scope}": 400 invalid_client_metadata naming ${role}`, async () => {
        await refused(await acme(roles), aispBody({ scope }), 400, 'invalid_client_metadata', new RegExp(`requires the PSD2 role ${role}\\b`));
      });
    }

    it('refuses extended_transaction_history alone', async () => {
      await refused(await acme(['PSP_AI']), aispBody({ scope: 'extended_transaction_history' }), 400, 'invalid_client_metadata', /extended_transaction_history can only be registered together with aisp/);
    });

    for (const scope of ['openid', 'aisp offline_access', 'accounts']) {
      it(`refuses the unknown scope in "${scope}"`, async () => {
        await refused(await acme(['PSP_AI']), aispBody({ scope }), 400, 'invalid_client_metadata', /is not supported; supported scopes are aisp, extended_transaction_history, cbpii, pisp/);
      });
    }

    it('refuses a certificate with PSP_AS only, with or without a scope', async () => {
      const tpp = await acme(['PSP_AS']);
      await refused(tpp, aispBody({ scope: undefined }), 400, 'invalid_client_metadata', /give access to no scope/);
      await refused(tpp, aispBody({ scope: 'aisp' }), 400, 'invalid_client_metadata', /requires the PSD2 role PSP_AI/);
    });
  });

  describe('grant types and response types', () => {
    it('refuses client_credentials without PSP_PI, naming PSP_PI', async () => {
      await refused(await acme(['PSP_AI']), aispBody({ grant_types: ['authorization_code', 'client_credentials'] }), 400, 'invalid_client_metadata', /client_credentials requires the PSD2 role PSP_PI/);
    });

    it('refuses refresh_token for a PISP-only certificate, naming the roles that allow it', async () => {
      await refused(await acme(['PSP_PI']), { scope: 'pisp', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['https://tpp.example/cb'] }, 400, 'invalid_client_metadata', /refresh_token requires the PSD2 role PSP_AI or PSP_IC/);
    });

    it('registers a PISP with authorization_code (payment authorizations), with both payment types', async () => {
      const res = await server.request(await acme(['PSP_PI'])).post('/oauth2/register').send({ scope: 'pisp', grant_types: ['authorization_code'], redirect_uris: ['https://tpp.example/cb'] });
      expect(res.status, res.text).to.equal(201);
      // Set by the server and stored; answers keep the reference bank's fields.
      expect(res.body).not.to.have.any.keys('authorization_details_types', 'require_pushed_authorization_requests');
      const stored = await storage.adapterFor('Client').find(String(res.body.client_id));
      expect(stored?.authorization_details_types).to.deep.equal(['payment_initiation', 'payment_cancellation']);
      expect(stored?.require_pushed_authorization_requests).to.equal(false);
    });

    it('refuses implicit as an unsupported grant type', async () => {
      await refused(await acme(['PSP_AI']), aispBody({ grant_types: ['implicit'], response_types: ['token'] }), 400, 'invalid_client_metadata', /grant type implicit is not supported/);
    });

    for (const type of ['token', 'id_token', 'code id_token', 'none']) {
      it(`refuses the response type "${type}"`, async () => {
        await refused(await acme(['PSP_AI']), aispBody({ response_types: [type] }), 400, 'invalid_client_metadata', /only code is/);
      });
    }
  });

  describe('redirect URIs', () => {
    it('accepts https', async () => {
      const { body } = await register(server, await acme(['PSP_AI']), aispBody({ redirect_uris: ['https://tpp.example/cb', 'https://tpp.example:8443/cb?x=1'] }));
      expect(body.redirect_uris).to.deep.equal(['https://tpp.example/cb', 'https://tpp.example:8443/cb?x=1']);
    });

    it('refuses http on a non-loopback host: 400 invalid_redirect_uri', async () => {
      await refused(await acme(['PSP_AI']), aispBody({ redirect_uris: ['http://tpp.example/cb'] }), 400, 'invalid_redirect_uri', /must use https/);
    });

    for (const uri of ['http://127.0.0.1:8080/cb', 'http://localhost:3000/cb']) {
      it(`accepts the loopback ${uri} for a sandbox certificate`, async () => {
        const { body } = await register(server, await acme(['PSP_AI']), aispBody({ redirect_uris: [uri] }));
        expect(body.redirect_uris).to.deep.equal([uri]);
      });

      it(`refuses the loopback ${uri} for a bank certificate: 400 invalid_redirect_uri`, async () => {
        await refused(await acmeBank(['PSP_AI']), aispBody({ redirect_uris: [uri] }), 400, 'invalid_redirect_uri', /allowed only in the sandbox/);
      });
    }

    it('refuses a redirect URI with a fragment', async () => {
      await refused(await acme(['PSP_AI']), aispBody({ redirect_uris: ['https://tpp.example/cb#x'] }), 400, 'invalid_redirect_uri', /fragment/);
    });

    it('refuses a relative redirect URI', async () => {
      await refused(await acme(['PSP_AI']), aispBody({ redirect_uris: ['/cb'] }), 400, 'invalid_redirect_uri', /absolute/);
    });

    it('refuses a code client without redirect URIs', async () => {
      await refused(await acme(['PSP_AI']), aispBody({ redirect_uris: undefined }), 400, 'invalid_redirect_uri', /redirect_uris/);
    });
  });

  describe('certificate-derived fields sent by the TPP', () => {
    const different: [string, unknown][] = [
      ['token_endpoint_auth_method', 'client_secret_basic'],
      ['provider_legal_id', 'PSDFR-ACPR-99999'],
      ['psd2_environment', 'bank'],
      ['tls_client_auth_subject_dn', `CN=other.example,organizationIdentifier=${ACME_ID},O=Acme Payments,C=FR`],
      ['tls_client_certificate_bound_access_tokens', false],
    ];
    for (const [field, value] of different) {
      it(`refuses ${field} with another value (${JSON.stringify(value)}): 400 invalid_client_metadata`, async () => {
        await refused(await acme(['PSP_AI']), aispBody({ [field]: value }), 400, 'invalid_client_metadata', new RegExp(`^${field} is derived from the client certificate`));
      });
    }

    it('refuses psd2_environment sandbox from a bank certificate', async () => {
      await refused(await acmeBank(['PSP_AI']), aispBody({ psd2_environment: 'sandbox' }), 400, 'invalid_client_metadata', /^psd2_environment is derived/);
    });

    it('accepts every derived field sent with the same value, the DN in OpenSSL slash form', async () => {
      const { body } = await register(server, await acme(['PSP_AI']), aispBody({
        token_endpoint_auth_method: 'tls_client_auth',
        provider_legal_id: ACME_ID,
        psd2_environment: 'sandbox',
        tls_client_auth_subject_dn: `/C=FR/O=Acme Payments/organizationIdentifier=${ACME_ID}/CN=acme.example`,
        tls_client_certificate_bound_access_tokens: true,
      }));
      expect(body.tls_client_auth_subject_dn, 'stored in RFC 4514 form').to.equal(ACME_DN);
    });

    it("accepts the DN in Node's newline-separated form", async () => {
      const { body } = await register(server, await acme(['PSP_AI']), aispBody({
        tls_client_auth_subject_dn: `C=FR\nO=Acme Payments\norganizationIdentifier=${ACME_ID}\nCN=acme.example`,
      }));
      expect(body.tls_client_auth_subject_dn).to.equal(ACME_DN);
    });
  });

  describe('metadata that would make the server fetch a URL', () => {
    it('refuses sector_identifier_uri without connecting to it (no server-side request to a TPP-chosen URL)', async () => {
      let connections = 0;
      const listener = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = listener.address() as AddressInfo;
        await refused(await acme(['PSP_AI']), aispBody({ sector_identifier_uri: `https://127.0.0.1:${port}/sector.json` }), 400, 'invalid_client_metadata', /sector_identifier_uri is not supported/);
        expect(connections, 'the server connected to the URL').to.equal(0);
      } finally {
        await new Promise<void>((resolve) => listener.close(() => resolve()));
      }
    });
  });

  describe('bad input changes nothing', () => {
    it('stores nothing after any 400, and the server keeps registering afterwards', async () => {
      const tpp = await acme(['PSP_AI']);
      const bodies: unknown[] = [
        aispBody({ scope: 'cbpii' }),
        aispBody({ redirect_uris: ['http://tpp.example/cb'] }),
        aispBody({ provider_legal_id: 'PSDFR-ACPR-99999' }),
        aispBody({ contacts: ['not an email'] }),
        aispBody({ jwks: { keys: 'nope' } }),
        aispBody({ grant_types: 'authorization_code' }),
        [aispBody()],
      ];
      for (const body of bodies) {
        const before = storage.size;
        const res = await server.request(tpp).post('/oauth2/register').send(body as object);
        expect(res.status, `${JSON.stringify(body)} → ${res.text}`).to.equal(400);
        expect(res.body.error).to.be.oneOf(['invalid_client_metadata', 'invalid_redirect_uri', 'invalid_request']);
        expect(storage.size, JSON.stringify(body)).to.equal(before);
      }
      await register(server, tpp);
    });
  });

  it('answers registration_client_uri at the issuer (a path the management tests use)', async () => {
    const { body } = await register(server, await acme(['PSP_AI']));
    expect(pathOf(body.registration_client_uri)).to.equal(`/oauth2/register/${body.client_id as string}`);
  });
});
