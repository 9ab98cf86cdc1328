/**
 * Registration metadata a TPP may not register (security review findings): names with invisible
 * formatting characters, URLs the server would never use but might be made to fetch, and bank
 * redirect URIs that send PSUs to loopback or private addresses.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { MemoryStorage } from '../../adapters/memory.js';
import { LOCALIZED_METADATA } from '../../lib/registration/localized-metadata.js';
import { bankTpp, sandboxTpp, testPki, type TppCredentials } from '../support/pki.js';
import { startServer } from '../support/server.js';
import { suiteServer } from '../support/suite.js';
import { aispBody, expectError, fullMetadata, memoryOf, register } from './helpers.js';

/** Every `\p{Cf}` code point (format characters), for the properties. */
const FORMAT_CHARACTERS: string[] = [];
for (let code = 0; code <= 0x10ffff; code += 1) {
  if (code >= 0xd800 && code <= 0xdfff) continue;
  const character = String.fromCodePoint(code);
  if (/\p{Cf}/u.test(character)) FORMAT_CHARACTERS.push(character);
}

const FINDINGS = {
  // Right-to-left override: "Acme ‮gnikcab" reads as "Acme backing" reversed to the PSU.
  rlo: 'Acme \u202eknab ruoy',
  zeroWidth: 'Ac\u200bme Bank',
  bom: '\ufeffAcme',
  isolate: 'Acme \u2066Bank\u2069',
  softHyphen: 'Ac\u00adme',
  wordJoiner: 'Acme\u2060Bank',
} as const;

describe('registration: metadata refused since the security review', function () {
  this.timeout(120_000);
  const server = suiteServer({ options: { storage: new MemoryStorage() } });
  let storage: MemoryStorage;
  let sandbox: TppCredentials;
  let bank: TppCredentials;

  before(async () => {
    storage = memoryOf(server);
    [sandbox, bank] = await Promise.all([
      sandboxTpp({ organization: 'Hardening Corp', roles: ['PSP_AI'] }),
      bankTpp({ organization: 'Hardening Corp', roles: ['PSP_AI'] }),
    ]);
  });

  /** POSTs `body` with `tpp` and expects a 400 refusal that stored nothing. */
  async function refused(tpp: TppCredentials, body: Record<string, unknown>, error: string, description: RegExp) {
    const before = storage.size;
    const res = await server.request(tpp).post('/oauth2/register').send(body);
    expectError(res, 400, error, description);
    expect(storage.size, 'a refused registration must store nothing').to.equal(before);
    return res;
  }

  describe('JSON nested deeper than it can be written again (JSON.parse reads it, JSON.stringify overflows the stack)', () => {
    const deep = (fields: string) => `{${fields},"redirect_uris":["https://tpp.example/callback"],"scope":"aisp","x":${'['.repeat(28_000)}${']'.repeat(28_000)}}`;

    it('registers the client, the unknown field ignored (RFC 7591 §2), and goes on serving', async () => {
      const res = await server.request(sandbox).post('/oauth2/register').set('Content-Type', 'application/json').send(deep('"client_name":"Deep"'));
      expect(res.status, res.text).to.equal(201);
      expect(res.body).to.include({ client_name: 'Deep' }).and.not.have.property('x');
      expect((await server.request(sandbox).post('/oauth2/register').send(aispBody())).status).to.equal(201);
    });

    it('updates the client with its client_id sent; without it, cannot fill it in and refuses with 400, the client as it was', async () => {
      const registered = await register(server, sandbox, aispBody({ client_name: 'Shallow' }));
      const put = (fields: string) => server.request(sandbox).put(registered.path).set('Content-Type', 'application/json').send(deep(fields));
      const refused = await put('"client_name":"Deep"');
      expectError(refused, 400, 'invalid_request', /client_id/);
      expect((await server.request(sandbox).get(registered.path)).body).to.include({ client_name: 'Shallow' });
      const updated = await put(`"client_id":"${registered.clientId}","client_name":"Deep"`);
      expect(updated.status, updated.text).to.equal(200);
      expect((await server.request(sandbox).get(registered.path)).body).to.include({ client_name: 'Deep' });
    });
  });

  describe('client_name with invisible formatting characters (\\p{Cf})', () => {
    for (const [what, name] of Object.entries(FINDINGS)) {
      it(`refuses client_name with ${what}: 400 invalid_client_metadata`, async () => {
        await refused(sandbox, aispBody({ client_name: name }), 'invalid_client_metadata', /^client_name must not contain invisible formatting characters/);
      });
    }

    for (const key of ['client_name#de', 'client_name#fr-BE', 'client_name#en-GB']) {
      it(`refuses ${key} with a bidirectional override`, async () => {
        await refused(sandbox, aispBody({ [key]: FINDINGS.rlo }), 'invalid_client_metadata', new RegExp(`^${key} must not contain invisible formatting characters`));
      });
    }

    it('refuses it on update (RFC 7592 PUT) too, and keeps the registered name', async () => {
      const client = await register(server, sandbox, aispBody({ client_name: 'Acme Plain' }));
      const res = await server.request(sandbox).put(client.path).send({ ...fullMetadata(client.body), client_name: FINDINGS.rlo });
      expectError(res, 400, 'invalid_client_metadata', /client_name must not contain invisible formatting characters/);
      const read = await server.request(sandbox).get(client.path);
      expect(read.body.client_name).to.equal('Acme Plain');
    });

    it('keeps names in other scripts, with accents and emoji, and right-to-left names without overrides', async () => {
      for (const name of ['Société Générale Épargne', 'Bäckerei Müller & Söhne', 'بنك الأمل', 'Zahlungsdienst 💶', '日本の銀行']) {
        const { body } = await register(server, sandbox, aispBody({ client_name: name, 'client_name#fr': name }));
        expect(body.client_name).to.equal(name);
      }
    });

    it('property: a format character anywhere in client_name or a localized form is refused', async () => {
      const keys = ['client_name', ...LOCALIZED_METADATA.filter((key) => key.startsWith('client_name#'))];
      await fc.assert(fc.asyncProperty(
        fc.constantFrom(...keys),
        fc.string({ minLength: 1, maxLength: 30 }).filter((text) => /^[\p{L}\p{N} ]+$/u.test(text) && text.trim() !== ''),
        fc.constantFrom(...FORMAT_CHARACTERS),
        fc.nat(),
        async (key, text, character, at) => {
          const position = at % (text.length + 1);
          const name = `${text.slice(0, position)}${character}${text.slice(position)}`;
          const body = key === 'client_name' ? aispBody({ client_name: name }) : aispBody({ [key]: name });
          await refused(sandbox, body, 'invalid_client_metadata', /must not contain invisible formatting characters/);
        },
      ), { numRuns: 60 });
    });
  });

  describe('URLs the server never uses', () => {
    it('refuses jwks_uri: keys come inline in jwks', async () => {
      await refused(sandbox, aispBody({ jwks_uri: 'https://tpp.example/jwks.json' }), 'invalid_client_metadata', /^jwks_uri is not supported: send the public keys inline in jwks/);
    });

    for (const field of ['policy_uri', 'tos_uri', 'initiate_login_uri']) {
      it(`refuses ${field}: 400 invalid_client_metadata naming the field`, async () => {
        await refused(sandbox, aispBody({ [field]: 'https://tpp.example/page' }), 'invalid_client_metadata', new RegExp(`^${field} is not supported: this server neither shows nor fetches it; omit it`));
      });
    }

    it('refuses them on update as well', async () => {
      const client = await register(server, sandbox, aispBody());
      expect(client.body).to.not.have.any.keys('jwks_uri', 'tos_uri', 'policy_uri', 'initiate_login_uri');
      const res = await server.request(sandbox).put(client.path).send({ ...fullMetadata(client.body), jwks_uri: 'https://tpp.example/jwks.json' });
      expectError(res, 400, 'invalid_client_metadata', /jwks_uri is not supported/);
    });

    it('keeps logo_uri, which the pages show and deployed clients read back', async () => {
      const { body } = await register(server, sandbox, aispBody({ logo_uri: 'https://cdn.tpp.example/logo.png', 'logo_uri#fr': 'https://cdn.tpp.example/logo-fr.png' }));
      expect(body).to.include({ logo_uri: 'https://cdn.tpp.example/logo.png', 'logo_uri#fr': 'https://cdn.tpp.example/logo-fr.png' });
    });
  });

  describe('bank redirect URIs on loopback, private or link-local addresses', () => {
    const LOCAL = [
      'https://127.0.0.1/cb', 'https://127.1.2.3:8443/cb', 'https://10.0.0.1/cb', 'https://172.16.0.1/cb', 'https://172.31.255.254/cb',
      'https://192.168.1.10/cb', 'https://169.254.169.254/latest/meta-data', 'https://0.0.0.0/cb', 'https://100.64.0.1/cb',
      'https://[::1]/cb', 'https://[::]/cb', 'https://[fc00::1]/cb', 'https://[fd12:3456::1]/cb', 'https://[fe80::1]/cb', 'https://[febf::1]/cb',
      'https://[::ffff:127.0.0.1]/cb', 'https://[::ffff:10.1.2.3]/cb', 'https://[::ffff:a9fe:a9fe]/cb',
      'https://localhost/cb', 'https://LOCALHOST:8443/cb', 'https://tpp.localhost/cb', 'https://a.b.localhost/cb',
      // Forms the URL parser turns into dotted IPv4 addresses.
      'https://2130706433/cb', 'https://0x7f.1/cb', 'https://0177.0.0.1/cb', 'https://10.1/cb', 'https://0xa9fea9fe/cb',
    ];
    for (const uri of LOCAL) {
      it(`refuses ${uri} for a bank certificate: 400 invalid_redirect_uri`, async () => {
        await refused(bank, aispBody({ redirect_uris: ['https://tpp.example/ok', uri] }), 'invalid_redirect_uri', /^redirect_uris must not point to a loopback, private or link-local address in the bank environment/);
      });
    }

    for (const uri of ['https://tpp.example/cb', 'https://172.32.0.1/cb', 'https://172.15.255.255/cb', 'https://192.169.0.1/cb', 'https://8.8.8.8/cb', 'https://[2001:db8::1]/cb', 'https://localhost.tpp.example/cb', 'https://mylocalhost/cb']) {
      it(`accepts ${uri} for a bank certificate`, async () => {
        const { body } = await register(server, bank, aispBody({ redirect_uris: [uri] }));
        expect(body.redirect_uris).to.deep.equal([uri]);
      });
    }

    for (const uri of ['https://127.0.0.1/cb', 'https://localhost/cb', 'https://10.0.0.1/cb', 'http://127.0.0.1:8080/cb', 'http://localhost:3000/cb']) {
      it(`keeps accepting ${uri} in the sandbox`, async () => {
        const { body } = await register(server, sandbox, aispBody({ redirect_uris: [uri] }));
        expect(body.redirect_uris).to.deep.equal([uri]);
      });
    }

    it('refuses them on update too', async () => {
      const client = await register(server, bank, aispBody());
      const res = await server.request(bank).put(client.path).send({ ...fullMetadata(client.body), redirect_uris: ['https://192.168.0.1/cb'] });
      expectError(res, 400, 'invalid_redirect_uri', /loopback, private or link-local/);
    });

    it('accepts loopback hosts, but never private ones, where the bank environment allows loopback redirect URIs', async () => {
      const pki = await testPki();
      const other = await startServer({ options: { environments: { bank: { trustAnchors: pki.bankCa.certPem, authenticator: server.bank, accounts: server.bank, allowLoopbackRedirectUris: true } } } });
      try {
        const ok = await other.request(bank).post('/oauth2/register').send(aispBody({ redirect_uris: ['https://127.0.0.1/cb', 'http://localhost:3000/cb'] }));
        expect(ok.status, ok.text).to.equal(201);
        expectError(await other.request(bank).post('/oauth2/register').send(aispBody({ redirect_uris: ['https://10.0.0.1/cb'] })), 400, 'invalid_redirect_uri', /loopback, private or link-local/);
      } finally {
        await other.close();
      }
    });

    it('property: any address in a loopback, private or link-local range, however written, is refused in the bank environment', async () => {
      const byte = fc.integer({ min: 0, max: 255 });
      const ipv4 = fc.oneof(
        fc.tuple(byte, byte, byte).map(([b, c, d]) => [127, b, c, d]),
        fc.tuple(byte, byte, byte).map(([b, c, d]) => [10, b, c, d]),
        fc.tuple(fc.integer({ min: 16, max: 31 }), byte, byte).map(([b, c, d]) => [172, b, c, d]),
        fc.tuple(byte, byte).map(([c, d]) => [192, 168, c, d]),
        fc.tuple(byte, byte).map(([c, d]) => [169, 254, c, d]),
        fc.tuple(byte, byte, byte).map(([b, c, d]) => [0, b, c, d]),
      );
      const written = (octets: number[]): fc.Arbitrary<string> => fc.constantFrom(
        octets.join('.'),
        String(((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!),
        octets.map((octet) => `0x${octet.toString(16)}`).join('.'),
        octets.map((octet) => `0${octet.toString(8)}`).join('.'),
        `[::ffff:${octets.join('.')}]`,
      );
      const ipv6 = fc.tuple(
        fc.constantFrom('fc', 'fd', 'fe8', 'fe9', 'fea', 'feb'),
        fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 5 }),
      ).map(([prefix, groups]) => `[${prefix.padEnd(4, '0')}:${groups.map((group) => group.toString(16)).join(':')}::1]`);
      const host = fc.oneof(ipv4.chain(written), ipv6, fc.stringMatching(/^[a-z0-9-]{1,12}$/).map((label) => `${label}.localhost`));
      await fc.assert(fc.asyncProperty(host, fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), async (name, port) => {
        const uri = `https://${name}${port ? `:${port}` : ''}/cb`;
        const res = await server.request(bank).post('/oauth2/register').send(aispBody({ redirect_uris: [uri] }));
        expectError(res, 400, 'invalid_redirect_uri', /loopback, private or link-local/);
      }), { numRuns: 80 });
    });
  });
});
