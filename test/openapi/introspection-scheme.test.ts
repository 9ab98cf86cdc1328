/**
 * The published OpenAPI document describes how resource servers authenticate at the introspection
 * endpoint, never which resource servers the bank configured (their ids are HTTP Basic user names).
 */
import { expect } from 'chai';

import { openApiDocument } from '../../lib/openapi/index.js';
import { resolveOptions } from '../../lib/options/index.js';
import { testPki } from '../support/pki.js';
import { SANDBOX_PSUS } from '../support/psus.js';
import { startServer, testSigningKey, type TestServer } from '../support/server.js';

type Operation = { description: string; security: Record<string, string[]>[] };
type Document = { paths: Record<string, { post: Operation }>; components: { securitySchemes: Record<string, { type: string; scheme?: string }> } };

const SECRET = 'a-resource-server-secret-of-32-chars!';
const THUMBPRINT = 'q1mJ9L2m0Z8kSx7f3t0Hk2l5n0cQ9Y1pXz4m6v8w2sA';

async function documentFor(resourceServers: unknown[]): Promise<Document> {
  const pki = await testPki();
  return openApiDocument(resolveOptions({
    issuer: 'https://api.bank.example/psd2/oauth2',
    signingKeys: { keys: [testSigningKey()] },
    cookieKeys: ['0123456789abcdef0123456789abcdef'],
    environments: { sandbox: { trustAnchors: pki.sandboxRoot.certPem, testPsus: SANDBOX_PSUS } },
    resourceServers,
  })) as unknown as Document;
}

describe('the OpenAPI document: the introspection scheme, not the resource servers', function () {
  this.timeout(30_000);

  it('names no configured resource server anywhere in the document', async () => {
    const ids = ['accounts-api-7f3a', 'payments-gateway-prod', 'card-funds-checker'];
    const document = await documentFor([
      { id: ids[0], secret: SECRET },
      { id: ids[1], certificateThumbprints: [THUMBPRINT] },
      { id: ids[2], secret: SECRET, certificateThumbprints: [THUMBPRINT] },
    ]);
    const text = JSON.stringify(document);
    for (const id of ids) expect(text, id).not.to.contain(id);
    expect(text).not.to.contain(THUMBPRINT);
  });

  it('publishes HTTP Basic and certificate authentication when both are configured', async () => {
    const document = await documentFor([{ id: 'a', secret: SECRET }, { id: 'b', certificateThumbprints: [THUMBPRINT] }]);
    const operation = document.paths['/introspect']!.post;
    expect(operation.security).to.deep.equal([{ resourceServerBasic: [] }, { resourceServerCertificate: [] }]);
    expect(operation.description).to.equal('For the bank\'s resource servers, never TPPs. A resource server authenticates with HTTP Basic with a resource server\'s id and secret (`resourceServerBasic`), or a TLS client certificate whose SHA-256 thumbprint the bank registered (`resourceServerCertificate`).');
    expect(document.components.securitySchemes.resourceServerBasic).to.include({ type: 'http', scheme: 'basic' });
    expect(document.components.securitySchemes.resourceServerCertificate).to.include({ type: 'mutualTLS' });
  });

  it('publishes only the scheme in use', async () => {
    const basic = (await documentFor([{ id: 'a', secret: SECRET }])).paths['/introspect']!.post;
    expect(basic.security).to.deep.equal([{ resourceServerBasic: [] }]);
    expect(basic.description).to.contain('HTTP Basic').and.not.contain('certificate');
    const certificate = (await documentFor([{ id: 'b', certificateThumbprints: [THUMBPRINT] }])).paths['/introspect']!.post;
    expect(certificate.security).to.deep.equal([{ resourceServerCertificate: [] }]);
    expect(certificate.description).to.contain('TLS client certificate').and.not.contain('Basic');
  });

  it('says that every call is refused when no resource server is configured', async () => {
    const operation = (await documentFor([])).paths['/introspect']!.post;
    expect(operation.description).to.equal('No resource server is configured: every call is refused.');
  });

  describe('served by a running server', () => {
    let server: TestServer;
    before(async () => { server = await startServer({ options: { resourceServers: [{ id: 'ledger-introspector-01', secret: SECRET }] } }); });
    after(() => server.close());

    it('does not reveal the resource server id in openapi.json or openapi.yaml', async () => {
      for (const path of ['/oauth2/openapi.json', '/oauth2/openapi.yaml']) {
        const res = await server.request().get(path);
        expect(res.status).to.equal(200);
        expect(res.text).not.to.contain('ledger-introspector-01');
        expect(res.text).to.contain('resourceServerBasic');
      }
      // The id still works where it belongs: as the HTTP Basic user name.
      const res = await server.request().post('/oauth2/introspect').auth('ledger-introspector-01', SECRET).type('form').send({ token: 'unknown' });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ active: false });
    });
  });
});
