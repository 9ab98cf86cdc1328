/**
 * The certificate status look-ups in the metrics, as the server makes them over real mutual TLS
 * against a QTSP with a real `openssl ocsp` responder and CRLs made by `openssl ca`: by source
 * (OCSP, CRL, the status cache) and result, the responder's time, and the status cache's hit ratio.
 */
import { expect } from 'chai';

import type { IssuedCertificate } from '../../tools/dev-pki/pki.js';
import type { TppCredentials } from '../support/pki.js';
import { Qtsp } from '../support/qtsp.js';
import { SANDBOX_PSUS } from '../support/psus.js';
import { startServer, type TestServer } from '../support/server.js';
import { sample } from './helpers.js';

const credentials = (issued: IssuedCertificate): TppCredentials => ({ ...issued, chainPem: issued.certPem });

describe('observability: certificate status look-ups in the metrics', function revocationMetrics() {
  this.timeout(60_000);
  let qtsp: Qtsp;
  let target: TestServer;

  before(async () => {
    qtsp = await Qtsp.create('Metrics QTSP');
    target = await startServer({
      options: {
        environments: { sandbox: { trustAnchors: qtsp.authority.certPem, requireQualifiedStatements: false, testPsus: SANDBOX_PSUS } },
        revocation: { sandbox: 'hard' },
      },
    });
  });
  after(async () => {
    await target?.close();
    await qtsp?.close();
  });

  const scrape = async () => (await target.auth.metrics.scrape()).body;
  const count = async (name: string, labels: Record<string, string>) => sample(await scrape(), name, labels) ?? 0;
  const lookups = (source: string, result: string) => count('psd2_as_revocation_lookups_total', { source, result });
  const cache = (result: 'hit' | 'miss') => count('psd2_as_cache_lookups_total', { cache: 'certificate_status', result });
  const register = (tpp: TppCredentials) => target.request(tpp).post('/oauth2/register')
    .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Metrics TPP' });

  it('counts an OCSP answer with the responder\'s time, then the kept status as a cache hit', async () => {
    const tpp = credentials(await qtsp.issue({ roles: ['PSP_PI'], organization: 'Metrics Good' }));
    const [good, timed, misses] = [await lookups('ocsp', 'good'), await count('psd2_as_revocation_lookup_duration_seconds_count', { source: 'ocsp' }), await cache('miss')];
    const registered = await register(tpp);
    expect(registered.status, registered.text).to.equal(201);
    expect(await lookups('ocsp', 'good')).to.equal(good + 1);
    expect(await count('psd2_as_revocation_lookup_duration_seconds_count', { source: 'ocsp' })).to.equal(timed + 1);
    expect(await count('psd2_as_revocation_lookup_duration_seconds_sum', { source: 'ocsp' })).to.be.above(0);
    expect(await cache('miss')).to.equal(misses + 1);

    const [kept, hits] = [await lookups('cache', 'good'), await cache('hit')];
    const token = await target.request(tpp).post('/oauth2/token').type('form')
      .send({ grant_type: 'client_credentials', client_id: String(registered.body.client_id), scope: 'pisp' });
    expect(token.status, token.text).to.equal(200);
    expect(await lookups('cache', 'good')).to.be.above(kept);
    expect(await cache('hit')).to.be.above(hits);
    expect(await lookups('ocsp', 'good')).to.equal(good + 1);
  });

  it('counts a revocation by the source that said so', async () => {
    const issued = await qtsp.issue({ roles: ['PSP_AI'], organization: 'Metrics Revoked' });
    await qtsp.revoke(issued, 'keyCompromise');
    const before = await lookups('ocsp', 'revoked');
    expect((await register(credentials(issued))).status).to.equal(401);
    expect(await lookups('ocsp', 'revoked')).to.equal(before + 1);
  });

  it('counts a CRL look-up when the certificate names no OCSP responder, and the CRL held as a cache hit', async () => {
    const crlCache = (result: 'hit' | 'miss') => count('psd2_as_cache_lookups_total', { cache: 'crl', result });
    const issued = await qtsp.issue({ roles: ['PSP_AI'], organization: 'Metrics Crl', ocsp: false });
    const [good, timed, misses] = [await lookups('crl', 'good'), await count('psd2_as_revocation_lookup_duration_seconds_count', { source: 'crl' }), await crlCache('miss')];
    expect((await register(credentials(issued))).status).to.equal(201);
    expect(await lookups('crl', 'good')).to.equal(good + 1);
    expect(await count('psd2_as_revocation_lookup_duration_seconds_count', { source: 'crl' })).to.equal(timed + 1);
    expect(await crlCache('miss')).to.equal(misses + 1);

    // Another certificate of the same CRL: answered by the CRL held, without fetching it again.
    const hits = await crlCache('hit');
    const other = await qtsp.issue({ roles: ['PSP_AI'], organization: 'Metrics Crl Two', ocsp: false });
    qtsp.resetCounts();
    expect((await register(credentials(other))).status).to.equal(201);
    expect(await crlCache('hit')).to.equal(hits + 1);
    expect(qtsp.requests.crl).to.equal(0);
  });

  it('counts a responder that does not answer as unavailable', async () => {
    const issued = await qtsp.issue({ roles: ['PSP_AI'], organization: 'Metrics Down', crl: false });
    await qtsp.stopResponder();
    try {
      const before = await lookups('ocsp', 'unavailable');
      expect((await register(credentials(issued))).status).to.equal(401);
      expect(await lookups('ocsp', 'unavailable')).to.equal(before + 1);
    } finally {
      await qtsp.startResponder();
    }
  });
});
