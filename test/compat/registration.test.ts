/**
 * Registration as a deployed aggregator does it (issue 17, items 4–7): keys given by their QSealC
 * alone with `"kid": null`, the kid it reads back from the last key, read answers a strict mapper
 * accepts, and an update without client_id that adds a key and a redirect URI to what it read.
 */
import { createPublicKey, webcrypto } from 'node:crypto';

import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import { jwkThumbprint } from '../../lib/registration/keys.js';
import { sandboxTpp, type TppCredentials } from '../support/pki.js';
import { suiteServer } from '../support/suite.js';
import { expectError, pathOf } from '../registration/helpers.js';

const ACME = { organization: 'Acme Payments', commonName: 'acme.example', ncaId: 'FR-ACPR', authorisationNumber: '12345' } as const;
const ZETA = { organization: 'Zeta Finance', commonName: 'zeta.example', ncaId: 'FR-ACPR', authorisationNumber: '67890' } as const;

/** The fields of the reference bank's read answer: a strict mapper knows these and no other. */
const READ_FIELDS = [
  'client_id', 'registration_client_uri', 'redirect_uris', 'token_endpoint_auth_method', 'tls_client_auth_subject_dn',
  'grant_types', 'response_types', 'client_name', 'logo_uri', 'scope', 'contacts', 'jwks', 'provider_legal_id',
];

async function rsaKeys(): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  ) as webcrypto.CryptoKeyPair;
}

/** The aggregator's registration body, as its code writes it (no n/e, kid null). */
function aggregatorBody(x5c: string): string {
  return `{"redirect_uris":["https://aggregator.example/callback"],"token_endpoint_auth_method":"tls_client_auth","grant_types":["authorization_code","refresh_token"],"response_types":["code"],"client_name":"Aggregator","scope":"aisp extended_transaction_history","contacts":["psd2@aggregator.example"],"jwks":{"keys":[{"kty":"RSA","kid":null,"x5c":["${x5c}"]}]}}`;
}

describe('registration as deployed aggregators do it (x5c-only keys, assigned kids, strict answers, PUT without client_id)', function () {
  this.timeout(20_000);
  const server = suiteServer({ options: { storage: new MemoryStorage() } });
  let acme: TppCredentials;
  let zeta: TppCredentials;
  let sealRsa: TppCredentials;
  let sealRsa2: TppCredentials;
  let sealEc: TppCredentials;

  before(async () => {
    [acme, zeta, sealRsa, sealRsa2, sealEc] = await Promise.all([
      sandboxTpp({ ...ACME, roles: ['PSP_AI'] }),
      sandboxTpp({ ...ZETA, roles: ['PSP_AI'] }),
      rsaKeys().then((keys) => sandboxTpp({ ...ACME, roles: ['PSP_AI'], qcType: 'eseal', keys })),
      rsaKeys().then((keys) => sandboxTpp({ ...ACME, roles: ['PSP_AI'], qcType: 'eseal', keys })),
      sandboxTpp({ ...ACME, roles: ['PSP_AI'], qcType: 'eseal' }),
    ]);
  });

  const x5c = (credentials: TppCredentials) => credentials.der.toString('base64');
  const thumbprint = (credentials: TppCredentials) => jwkThumbprint(createPublicKey(credentials.certPem).export({ format: 'jwk' }) as Record<string, unknown>);
  const post = (body: string, tpp = acme) => server.request(tpp).post('/oauth2/register').set('Content-Type', 'application/json').send(body);

  describe('item 4: keys given by x5c alone', () => {
    it('registers {"kty":"RSA","kid":null,"x5c":[…]} and stores the certificate\'s public key for oidc-provider', async () => {
      const res = await post(aggregatorBody(x5c(sealRsa)));
      expect(res.status, res.text).to.equal(201);
      const client = await server.auth.provider.Client.find(String(res.body.client_id));
      const stored = (client!.metadata().jwks as { keys: Record<string, unknown>[] }).keys;
      const { n, e } = createPublicKey(sealRsa.certPem).export({ format: 'jwk' });
      expect(stored).to.deep.equal([{ kty: 'RSA', x5c: [x5c(sealRsa)], n, e, kid: thumbprint(sealRsa) }]);
    });

    it('accepts an EC QSealC given by x5c alone', async () => {
      const body = aggregatorBody(x5c(sealEc)).replace('"kty":"RSA"', '"kty":"EC"');
      const res = await post(body);
      expect(res.status, res.text).to.equal(201);
      expect(res.body.jwks).to.deep.equal({ keys: [{ kty: 'EC', kid: thumbprint(sealEc), x5c: [x5c(sealEc)] }] });
    });

    const refusals: [string, (body: string) => string, RegExp][] = [
      ['a kty that is not the certificate\'s', (body) => body.replace('"kty":"RSA"', '"kty":"EC"'), /^jwks\.keys\[0\]\.kty is EC, but the x5c certificate holds an RSA key$/],
      ['an x5c that is no certificate', (body) => body.replace(/"x5c":\["[^"]+"\]/, '"x5c":["bm90IGEgY2VydGlmaWNhdGU="]'), /^jwks\.keys\[0\]\.x5c\[0\] is not an X\.509 certificate/],
      ['an x5c in base64url', (body) => body.replace(/"x5c":\["[^"]+"\]/, '"x5c":["ab_c-d"]'), /^jwks\.keys\[0\]\.x5c\[0\] must be a base64/],
      ['neither x5c nor n/e', (body) => body.replace(/,"x5c":\["[^"]+"\]/, ''), /^jwks\.keys\[0\]\.e is missing: send the public key \(e, n\) or the certificate in x5c$/],
      ['a kid that is a number', (body) => body.replace('"kid":null', '"kid":7'), /^jwks\.keys\[0\]\.kid must be a non-empty string or null$/],
      ['a private member', (body) => body.replace('"kid":null', '"kid":null,"d":"AQAB"'), /^jwks\.keys\[0\]\.d must not be sent/],
      ['an n that is not the certificate\'s', (body) => body.replace('"kid":null', '"kid":null,"n":"AQAB","e":"AQAB"'), /^jwks\.keys\[0\]\.n does not match the public key of the x5c certificate$/],
    ];
    for (const [name, change, description] of refusals) {
      it(`refuses ${name}, naming the key and member`, async () => {
        expectError(await post(change(aggregatorBody(x5c(sealRsa)))), 400, 'invalid_client_metadata', description);
      });
    }

    it('names the second key when only it is wrong', async () => {
      const body = aggregatorBody(x5c(sealRsa)).replace(']}}', ',{"kty":"RSA","kid":"two","x5c":["AAAA"]}]}}');
      expectError(await post(body), 400, 'invalid_client_metadata', /^jwks\.keys\[1\]\.x5c\[0\] is not an X\.509 certificate/);
    });
  });

  describe('items 5 and 6: an assigned kid, and answers a strict mapper reads', () => {
    it('answers 201 with the reference bank\'s fields only, the key as sent plus its assigned kid', async () => {
      const res = await post(aggregatorBody(x5c(sealRsa)));
      expect(res.status, res.text).to.equal(201);
      expect(Object.keys(res.body).sort()).to.deep.equal([...READ_FIELDS.filter((field) => field !== 'logo_uri'), 'registration_access_token'].sort());
      const keys = res.body.jwks.keys as Record<string, unknown>[];
      expect(keys).to.deep.equal([{ kty: 'RSA', kid: thumbprint(sealRsa), x5c: [x5c(sealRsa)] }]);
      expect(keys.at(-1)!.kid).to.be.a('string').and.match(/^[A-Za-z0-9_-]{43}$/);
      expect(res.body.provider_legal_id).to.equal('PSDFR-ACPR-12345');
      expect(res.body.tls_client_auth_subject_dn).to.equal('CN=acme.example,organizationIdentifier=PSDFR-ACPR-12345,O=Acme Payments,C=FR');
    });

    it('GET answers exactly the read fields; the product\'s own fields stay in the stored metadata', async () => {
      const created = await post(aggregatorBody(x5c(sealRsa)));
      const res = await server.request(acme).get(pathOf(created.body.registration_client_uri));
      expect(res.status, res.text).to.equal(200);
      expect(Object.keys(res.body).sort()).to.deep.equal(READ_FIELDS.filter((field) => field !== 'logo_uri').sort());
      expect(res.body).to.deep.equal(Object.fromEntries(Object.entries(created.body as Record<string, unknown>).filter(([key]) => key !== 'registration_access_token')));
      const stored = (await server.auth.provider.Client.find(String(res.body.client_id)))!.metadata();
      expect(stored).to.include({ psd2_environment: 'sandbox', tls_client_certificate_bound_access_tokens: true, require_pushed_authorization_requests: false });
      expect(stored.authorization_details_types).to.deep.equal([]);
    });

    it('gives back the fields the TPP itself sent (client_name#fr, application_type) and nothing else', async () => {
      const body = aggregatorBody(x5c(sealRsa)).replace('"client_name":"Aggregator"', '"client_name":"Aggregator","client_name#fr":"Agrégateur","application_type":"web","logo_uri":"https://aggregator.example/logo.png"');
      const created = await post(body);
      expect(created.status, created.text).to.equal(201);
      const res = await server.request(acme).get(pathOf(created.body.registration_client_uri));
      expect(Object.keys(res.body).sort()).to.deep.equal([...READ_FIELDS, 'client_name#fr', 'application_type'].sort());
      expect(res.body['client_name#fr']).to.equal('Agrégateur');
    });

    it('omits client_name, contacts and jwks when the client has none', async () => {
      const res = await post('{"redirect_uris":["https://aggregator.example/callback"],"scope":"aisp"}');
      expect(res.status, res.text).to.equal(201);
      expect(res.body).to.not.have.any.keys('client_name', 'logo_uri', 'contacts', 'jwks');
    });

    it('keeps a kid the TPP gave', async () => {
      const res = await post(aggregatorBody(x5c(sealRsa)).replace('"kid":null', '"kid":"seal-2026"'));
      expect(res.body.jwks.keys).to.deep.equal([{ kty: 'RSA', kid: 'seal-2026', x5c: [x5c(sealRsa)] }]);
    });
  });

  describe('item 7: PUT without client_id', () => {
    it('applies the keys and redirect URIs read plus a new key (kid null) and a new redirect URI', async () => {
      const created = await post(aggregatorBody(x5c(sealRsa)));
      expect(created.status, created.text).to.equal(201);
      const path = pathOf(created.body.registration_client_uri);
      const read = await server.request(acme).get(path);
      expect(read.status, read.text).to.equal(200);
      const { client_id: _id, registration_client_uri: _uri, ...metadata } = read.body as Record<string, unknown>;
      const oldKeys = (read.body.jwks as { keys: Record<string, unknown>[] }).keys;
      const update = {
        ...metadata,
        redirect_uris: [...(read.body.redirect_uris as string[]), 'https://aggregator.example/callback2'],
        jwks: { keys: [...oldKeys, { kty: 'RSA', kid: null, x5c: [x5c(sealRsa2)] }] },
      };
      const put = await server.request(acme).put(path).set('Content-Type', 'application/json').send(JSON.stringify(update));
      expect(put.status, put.text).to.equal(200);
      expect(put.body.redirect_uris).to.deep.equal(['https://aggregator.example/callback', 'https://aggregator.example/callback2']);
      const again = await server.request(acme).get(path);
      expect(again.status, again.text).to.equal(200);
      expect(again.body).to.deep.equal(put.body);
      expect(Object.keys(again.body).sort()).to.deep.equal(READ_FIELDS.filter((field) => field !== 'logo_uri').sort());
      expect(again.body.jwks.keys).to.deep.equal([
        { kty: 'RSA', kid: oldKeys[0]!.kid, x5c: [x5c(sealRsa)] },
        { kty: 'RSA', kid: thumbprint(sealRsa2), x5c: [x5c(sealRsa2)] },
      ]);
      expect(again.body.redirect_uris).to.deep.equal(['https://aggregator.example/callback', 'https://aggregator.example/callback2']);
      const stored = (await server.auth.provider.Client.find(String(created.body.client_id)))!.metadata();
      expect(stored.redirect_uris).to.deep.equal(again.body.redirect_uris);
      expect((stored.jwks as { keys: unknown[] }).keys).to.have.length(2);
    });

    it('still refuses a body naming another client', async () => {
      const created = await post(aggregatorBody(x5c(sealRsa)));
      const other = await post(aggregatorBody(x5c(sealRsa)));
      const body = aggregatorBody(x5c(sealRsa)).replace('{', `{"client_id":"${String(other.body.client_id)}",`);
      const res = await server.request(acme).put(pathOf(created.body.registration_client_uri)).set('Content-Type', 'application/json').send(body);
      expectError(res, 400, 'invalid_request', /client_id does not match/);
    });

    it('keeps refusing another organization before reading the body', async () => {
      const created = await post(aggregatorBody(x5c(sealRsa)));
      const res = await server.request(zeta).put(pathOf(created.body.registration_client_uri)).set('Content-Type', 'application/json').send(aggregatorBody(x5c(sealRsa)));
      expectError(res, 401, 'invalid_token');
    });
  });
});
