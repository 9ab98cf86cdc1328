/**
 * The Prometheus metrics: what each recording shows in the scraped text, the endpoint classifier,
 * and label values from closed sets only, whatever hostile paths and values are fed in.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Registry } from 'prom-client';

import { MemoryStorage } from '../../adapters/memory.js';
import {
  createMetrics, endpointClassifier, endpointOf, observedStorage, refreshRefusalReason, OTHER,
} from '../../lib/observability/index.js';
import {
  CACHES, CERTIFICATE_OUTCOMES, ENDPOINTS, ENVIRONMENTS, ERROR_CODES, EXPIRY_KINDS, GRANT_TYPE_VALUES, JOURNEY_STEPS,
  REFRESH_REFUSALS, REGISTRATION_ACTIONS, REVOCATION_KINDS, REVOCATION_RESULTS, REVOCATION_SOURCES, STORAGE_OPERATIONS,
  scopeLabel,
} from '../../lib/observability/labels.js';
import { SCOPES } from '../../lib/psd2/scopes.js';
import { sample } from './helpers.js';

const P = 'psd2_as_';

describe('observability: metrics', () => {
  describe('endpoint classifier', () => {
    const classify = endpointClassifier({ mountPath: '/oauth2', entryPaths: ['/{lang}/sandbox/signin.html', '/{lang}/banque/oauth2_authorization.aspx'] });
    const table: [string, string, string][] = [
      ['POST', '/oauth2/register', 'registration'],
      ['GET', '/oauth2/register/abc123', 'management'],
      ['PUT', '/oauth2/register/abc123?x=1', 'management'],
      ['DELETE', '/oauth2/register/abc123/', 'management'],
      ['GET', '/oauth2/authorize?client_id=x&scope=aisp', 'authorization'],
      ['GET', '/oauth2/authorize/uid-1', 'authorization'],
      ['GET', '/oauth2/en/sandbox/signin.html?client_id=x', 'authorization'],
      ['GET', '/oauth2/fr/banque/oauth2_authorization.aspx', 'authorization'],
      ['GET', '/oauth2/interaction/uid-1/login', 'interaction'],
      ['POST', '/oauth2/token', 'token'],
      ['POST', '/oauth2/token/', 'token'],
      ['POST', '/oauth2/revoke', 'revocation'],
      ['POST', '/oauth2/introspect', 'introspection'],
      ['GET', '/oauth2/.well-known/oauth-authorization-server', 'metadata'],
      ['GET', '/oauth2/.well-known/openid-configuration', 'metadata'],
      ['GET', '/.well-known/oauth-authorization-server/oauth2', 'metadata'],
      ['GET', '/oauth2/jwks', 'jwks'],
      ['GET', '/oauth2/docs', 'docs'],
      ['GET', '/oauth2/openapi.json', 'docs'],
      ['GET', '/oauth2/openapi.yaml', 'docs'],
      ['GET', '/oauth2/request', 'other'],
      ['GET', '/oauth2/nowhere', 'other'],
      ['GET', '/token', 'other'],
      ['GET', '/oauth2x/token', 'other'],
      ['BREW', '/oauth2/token', 'other'],
      ['GET', '/oauth2/es/other/signin.html', 'other'],
    ];
    for (const [method, path, endpoint] of table) {
      it(`${method} ${path} → ${endpoint}`, () => {
        expect(classify(method, path)).to.equal(endpoint);
      });
    }

    it('classifies at the root without a mount path, and one request at a time with endpointOf', () => {
      expect(endpointOf('POST', '/token')).to.equal('token');
      expect(endpointOf('GET', '/register/x', '')).to.equal('management');
      expect(endpointOf('GET', '/de/sandbox/signin.html', '/', ['/{lang}/sandbox/signin.html'])).to.equal('authorization');
      expect(endpointOf('GET', '/oauth2/token', '/oauth2/')).to.equal('token');
    });
  });

  describe('a scripted sequence, scraped', () => {
    const metrics = createMetrics();
    before(() => {
      for (let i = 0; i < 3; i += 1) metrics.recordRequest({ endpoint: 'token', status: 200, durationSeconds: 0.02, grantType: 'client_credentials' });
      metrics.recordRequest({ endpoint: 'token', status: 400, durationSeconds: 0.01, grantType: 'refresh_token', error: 'invalid_grant' });
      metrics.recordRequest({ endpoint: 'token', status: 503, durationSeconds: 2.1, grantType: 'authorization_code', error: 'temporarily_unavailable' });
      metrics.recordRequest({ endpoint: 'registration', status: 201, durationSeconds: 0.3, grantType: 'client_credentials' });
      metrics.recordRequest({ endpoint: 'interaction', status: 302, durationSeconds: 0.004 });
      metrics.recordToken({ grantType: 'authorization_code', scope: 'extended_transaction_history aisp' });
      metrics.recordToken({ grantType: 'client_credentials', scope: 'pisp' });
      metrics.recordRefreshRefused(refreshRefusalReason({ error: 'invalid_grant', error_description: 'Refresh token has expired' }));
      metrics.recordRefreshRefused(refreshRefusalReason({ error: 'invalid_grant', error_description: 'Invalid refresh token' }));
      metrics.recordRevocation('refresh_token');
      metrics.recordRegistration('created', 'sandbox');
      metrics.recordRegistration('deleted', 'bank');
      for (const step of ['started', 'started', 'signed_in', 'consent_granted', 'expired', 'payment_confirmed'] as const) metrics.recordJourney(step);
      metrics.recordCertificateCheck('accepted');
      metrics.recordCertificateCheck('certificate_revoked');
      metrics.recordRevocationLookup('ocsp', 'good', 0.12);
      metrics.recordRevocationLookup('cache', 'revoked');
      metrics.setExpiryDays('server_certificate', 42.5);
      metrics.recordStorage('find', 0.0007, true);
      metrics.recordStorage('upsert', 2, false);
      metrics.recordCacheLookup('records', true);
      metrics.recordCacheLookup('records', true);
      metrics.recordCacheLookup('records', false);
      metrics.setPubSubHealthy(true);
      metrics.setStorageReachable(false);
    });

    it('counts requests by endpoint and status class, the token endpoint by grant type and error', async () => {
      const { body, contentType } = await metrics.scrape();
      expect(contentType).to.match(/^text\/plain/);
      expect(sample(body, `${P}http_requests_total`, { endpoint: 'token', status: '2xx', grant_type: 'client_credentials' })).to.equal(3);
      expect(sample(body, `${P}http_requests_total`, { endpoint: 'token', status: '4xx', grant_type: 'refresh_token', error: 'invalid_grant' })).to.equal(1);
      expect(sample(body, `${P}http_requests_total`, { endpoint: 'token', status: '5xx', grant_type: 'authorization_code', error: 'temporarily_unavailable' })).to.equal(1);
      // grant_type is the token endpoint's only.
      expect(sample(body, `${P}http_requests_total`, { endpoint: 'registration', status: '2xx' })).to.equal(1);
      expect(sample(body, `${P}http_requests_total`, { endpoint: 'interaction', status: '3xx' })).to.equal(1);
    });

    it('times requests per endpoint in a histogram', async () => {
      const { body } = await metrics.scrape();
      expect(sample(body, `${P}http_request_duration_seconds_count`, { endpoint: 'token' })).to.equal(5);
      expect(sample(body, `${P}http_request_duration_seconds_bucket`, { endpoint: 'token', le: '0.025' })).to.equal(4);
      expect(sample(body, `${P}http_request_duration_seconds_bucket`, { endpoint: 'token', le: '2.5' })).to.equal(5);
      expect(sample(body, `${P}http_request_duration_seconds_sum`, { endpoint: 'token' })).to.be.closeTo(2.17, 1e-9);
    });

    it('counts tokens by grant type and scope, refusals, revocations, registrations and the PSU journey', async () => {
      const { body } = await metrics.scrape();
      expect(sample(body, `${P}tokens_issued_total`, { grant_type: 'authorization_code', scope: 'aisp extended_transaction_history' })).to.equal(1);
      expect(sample(body, `${P}tokens_issued_total`, { grant_type: 'client_credentials', scope: 'pisp' })).to.equal(1);
      expect(sample(body, `${P}refresh_refused_total`, { reason: 'consent_expired' })).to.equal(1);
      expect(sample(body, `${P}refresh_refused_total`, { reason: 'invalid_token' })).to.equal(1);
      expect(sample(body, `${P}refresh_refused_total`, { reason: 'role_missing' })).to.equal(0);
      expect(sample(body, `${P}revocations_total`, { kind: 'refresh_token' })).to.equal(1);
      expect(sample(body, `${P}revocations_total`, { kind: 'grant' })).to.equal(0);
      expect(sample(body, `${P}registrations_total`, { action: 'created', environment: 'sandbox' })).to.equal(1);
      expect(sample(body, `${P}registrations_total`, { action: 'deleted', environment: 'bank' })).to.equal(1);
      expect(sample(body, `${P}psu_journey_total`, { step: 'started' })).to.equal(2);
      expect(sample(body, `${P}psu_journey_total`, { step: 'signed_in' })).to.equal(1);
      expect(sample(body, `${P}psu_journey_total`, { step: 'consent_refused' })).to.equal(0);
      expect(sample(body, `${P}psu_journey_total`, { step: 'expired' })).to.equal(1);
      expect(sample(body, `${P}psu_journey_total`, { step: 'payment_confirmed' })).to.equal(1);
    });

    it('shows certificates, status look-ups, expiry, storage, caches and pub/sub', async () => {
      const { body } = await metrics.scrape();
      expect(sample(body, `${P}certificate_checks_total`, { outcome: 'accepted' })).to.equal(1);
      expect(sample(body, `${P}certificate_checks_total`, { outcome: 'certificate_revoked' })).to.equal(1);
      expect(sample(body, `${P}revocation_lookups_total`, { source: 'ocsp', result: 'good' })).to.equal(1);
      expect(sample(body, `${P}revocation_lookups_total`, { source: 'cache', result: 'revoked' })).to.equal(1);
      expect(sample(body, `${P}revocation_lookup_duration_seconds_count`, { source: 'ocsp' })).to.equal(1);
      expect(sample(body, `${P}revocation_lookup_duration_seconds_count`, { source: 'cache' })).to.equal(undefined);
      expect(sample(body, `${P}expiry_days`, { kind: 'server_certificate' })).to.equal(42.5);
      expect(sample(body, `${P}storage_operation_duration_seconds_count`, { operation: 'find' })).to.equal(1);
      expect(sample(body, `${P}storage_errors_total`, { operation: 'upsert' })).to.equal(1);
      expect(sample(body, `${P}storage_errors_total`, { operation: 'find' })).to.equal(undefined);
      expect(sample(body, `${P}cache_lookups_total`, { cache: 'records', result: 'hit' })).to.equal(2);
      expect(sample(body, `${P}cache_lookups_total`, { cache: 'records', result: 'miss' })).to.equal(1);
      expect(sample(body, `${P}pubsub_up`)).to.equal(1);
      expect(sample(body, `${P}storage_up`)).to.equal(0);
    });
  });

  it("registers in the host's registry, which scrapes them with its own", async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry, prefix: 'bank_as_' });
    expect(metrics.registry).to.equal(registry);
    metrics.recordJourney('started');
    expect(sample(await registry.metrics(), 'bank_as_psu_journey_total', { step: 'started' })).to.equal(1);
    expect(() => createMetrics({ registry, prefix: 'bank_as_' })).to.throw(/already been registered/);
  });

  it('labels the TPP organization only when asked, with valid identifiers and up to the bound', async () => {
    const without = createMetrics();
    without.recordToken({ grantType: 'client_credentials', scope: 'pisp', providerLegalId: 'PSDFR-ACPR-12345' });
    expect((await without.scrape()).body).not.to.include('provider_legal_id');

    const metrics = createMetrics({ providerLegalIds: { max: 2 } });
    for (const id of ['PSDFR-ACPR-12345', 'PSDDE-BAFIN-999', 'PSDBE-NBB-0123', 'PSDFR-ACPR-12345', 'not an id', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln']) {
      metrics.recordRequest({ endpoint: 'token', status: 200, durationSeconds: 0.01, grantType: 'client_credentials', providerLegalId: id });
    }
    const { body } = await metrics.scrape();
    const labels = { endpoint: 'token', status: '2xx', grant_type: 'client_credentials' };
    expect(sample(body, `${P}http_requests_total`, { ...labels, provider_legal_id: 'PSDFR-ACPR-12345' })).to.equal(2);
    expect(sample(body, `${P}http_requests_total`, { ...labels, provider_legal_id: 'PSDDE-BAFIN-999' })).to.equal(1);
    expect(sample(body, `${P}http_requests_total`, { ...labels, provider_legal_id: OTHER })).to.equal(3);
    expect(body).not.to.include('PSDBE-NBB-0123');
    expect(() => createMetrics({ providerLegalIds: { max: 0 } })).to.throw(TypeError, /max/);
  });

  it('times every storage call through observedStorage, failures counted', async () => {
    const metrics = createMetrics();
    const storage = observedStorage(new MemoryStorage(), metrics);
    await storage.adapterFor('Grant').upsert('g1', { kind: 'Grant' }, 60);
    await storage.adapterFor('Grant').find('g1');
    await storage.incrementCounter('c', 60);
    await storage.readCounter('c');
    await storage.incrementCountersWithin([{ name: '{a}:1', windowSeconds: 60, limit: 1 }, { name: '{b}:1', windowSeconds: 60, limit: 1 }]).catch(() => undefined);
    const { body } = await metrics.scrape();
    for (const operation of ['upsert', 'find', 'incrementCounter', 'readCounter', 'incrementCountersWithin']) {
      expect(sample(body, `${P}storage_operation_duration_seconds_count`, { operation }), operation).to.equal(1);
    }
    expect(sample(body, `${P}storage_errors_total`, { operation: 'incrementCountersWithin' })).to.equal(1);
  });

  it('passes record revisions through observedStorage, untimed: they are told from memory', async () => {
    const metrics = createMetrics();
    const memory = new MemoryStorage();
    const storage = observedStorage(memory, metrics);
    await storage.adapterFor('Client').upsert('c1', { client_id: 'c1' });
    expect(storage.recordRevision?.('Client', 'c1')).to.be.an('object').and.equal(memory.recordRevision('Client', 'c1'));
    expect(storage.recordRevision?.('Client', 'c2')).to.equal(undefined);
    const { body } = await metrics.scrape();
    expect(body).not.to.match(/operation="recordRevision"/);
  });

  describe('bounded labels: hostile input never becomes a label value', () => {
    const allowed: Record<string, (value: string) => boolean> = {
      endpoint: (value) => (ENDPOINTS as readonly string[]).includes(value),
      status: (value) => /^[1-5]xx$/.test(value) || value === OTHER,
      grant_type: (value) => GRANT_TYPE_VALUES.includes(value) || value === OTHER,
      error: (value) => (ERROR_CODES as readonly string[]).includes(value) || value === OTHER,
      scope: (value) => value === 'none' || value.split(' ').every((part) => (SCOPES as readonly string[]).includes(part) || part === OTHER),
      reason: (value) => (REFRESH_REFUSALS as readonly string[]).includes(value) || value === OTHER,
      kind: (value) => [...REVOCATION_KINDS, ...EXPIRY_KINDS, OTHER].includes(value as never),
      action: (value) => [...REGISTRATION_ACTIONS, OTHER].includes(value as never),
      environment: (value) => [...ENVIRONMENTS, OTHER].includes(value as never),
      step: (value) => [...JOURNEY_STEPS, OTHER].includes(value as never),
      outcome: (value) => CERTIFICATE_OUTCOMES.includes(value) || value === OTHER,
      source: (value) => [...REVOCATION_SOURCES, OTHER].includes(value as never),
      result: (value) => [...REVOCATION_RESULTS, 'hit', 'miss', OTHER].includes(value as never),
      operation: (value) => [...STORAGE_OPERATIONS, OTHER].includes(value as never),
      cache: (value) => [...CACHES, OTHER].includes(value as never),
      provider_legal_id: (value) => /^PSD[A-Z]{2}-/.test(value) || value === OTHER,
      le: (value) => value === '+Inf' || Number.isFinite(Number(value)),
    };
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.base64String({ minLength: 40, maxLength: 64 }),
      fc.constantFrom(
        'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwc3UtNDIifQ.c2lnbmF0dXJl', 'Bearer 0123456789abcdef0123456789abcdef', 'psu-4711',
        'token\n} evil_metric 1', '"}', '../../../etc/passwd', 'aisp\u0000pisp', 'client_credentials ', 'PSDFR-ACPR-1\nx',
      ),
      fc.webPath(),
    );

    it('keeps every label value in its closed set and no fed string in the scrape', async () => {
      await fc.assert(fc.asyncProperty(fc.array(hostile, { minLength: 1, maxLength: 12 }), fc.nat(999), async (values, status) => {
        const metrics = createMetrics({ providerLegalIds: { max: 3 } });
        const classify = endpointClassifier({ mountPath: '/oauth2', entryPaths: ['/{lang}/sandbox/signin.html'] });
        const value = (index: number) => values[index % values.length]!;
        const anything = (index: number) => value(index) as never;
        metrics.recordRequest({ endpoint: classify(value(0), `/oauth2/${value(1)}`), status, durationSeconds: status / 100, grantType: value(2), error: value(3), providerLegalId: value(4) });
        metrics.recordRequest({ endpoint: value(5), status: Number(value(6)), durationSeconds: Number.NaN, grantType: value(7), error: value(8) });
        metrics.recordToken({ grantType: value(9), scope: value(10), providerLegalId: value(11) });
        metrics.recordRefreshRefused(value(0));
        metrics.recordRefreshRefused(refreshRefusalReason({ error: value(1), error_description: value(2) }));
        metrics.recordRevocation(anything(3));
        metrics.recordRegistration(anything(4), value(5));
        metrics.recordJourney(anything(6));
        metrics.recordCertificateCheck(value(7));
        metrics.recordRevocationLookup(anything(8), anything(9), Number(value(10)));
        metrics.setExpiryDays(anything(11), 3);
        metrics.recordStorage(value(0), 0.1, false);
        metrics.recordCacheLookup(anything(1), true);
        for (const metric of await metrics.registry.getMetricsAsJSON()) {
          for (const { labels } of metric.values) {
            for (const [name, label] of Object.entries(labels)) {
              expect(allowed[name], `label ${name}`).to.be.a('function');
              expect(allowed[name]!(String(label)), `${metric.name} ${name}="${String(label)}"`).to.equal(true);
            }
          }
        }
        const { body } = await metrics.scrape();
        for (const fed of values) {
          const known = Object.values(allowed).some((accepts) => accepts(fed));
          if (fed.length >= 6 && !known && !/^[\w ]*$/.test(fed)) expect(body, fed).not.to.include(fed);
        }
      }), { numRuns: 200 });
    });

    it('writes a scope as its known scopes in a fixed order, anything else as other', () => {
      expect(scopeLabel('aisp extended_transaction_history')).to.equal('aisp extended_transaction_history');
      expect(scopeLabel('extended_transaction_history aisp aisp')).to.equal('aisp extended_transaction_history');
      expect(scopeLabel('pisp psu-4711')).to.equal('pisp other');
      expect(scopeLabel('eyJhbGciOi')).to.equal(OTHER);
      expect(scopeLabel('')).to.equal('none');
      expect(scopeLabel(undefined)).to.equal('none');
    });
  });
});
