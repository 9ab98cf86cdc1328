import { expect } from 'chai';

import { accountAccessRefusal, clientEnvironmentRefusal } from '../../lib/psd2/authorization-request.js';
import { REFRESH_TOKEN_EXPIRED } from '../../lib/psd2/tokens.js';
import { clientCredentialsRefusal, issuesRefreshToken, missingRolesRefusal, refreshDecision } from '../../lib/psd2/token-policy.js';

describe('PSD2 policy (pure functions)', () => {
  describe('refresh', () => {
    const base: { consentEnd: number; now: number; requested: unknown; held: unknown; roles: ('PSP_AI')[] } = { consentEnd: 2_000, now: 1_000, requested: undefined, held: 'aisp extended_transaction_history', roles: ['PSP_AI'] };
    const cases: [string, Partial<typeof base> & { requested?: unknown }, string[] | { error: string; scope?: string; description?: string }][] = [
      ['gives the renewable scopes when no scope is asked', {}, ['aisp']],
      ['gives what is asked when it is renewable', { requested: 'aisp' }, ['aisp']],
      ['refuses a consent that ended', { now: 2_000 }, { error: 'invalid_grant', description: REFRESH_TOKEN_EXPIRED }],
      ['refuses the history older than 90 days', { requested: 'aisp extended_transaction_history' }, { error: 'invalid_scope', scope: 'extended_transaction_history' }],
      ['refuses pisp (a payment needs SCA each time)', { requested: 'pisp' }, { error: 'invalid_scope', scope: 'pisp' }],
      ['refuses when the certificate lost the role', { roles: [] }, { error: 'unauthorized_client' }],
    ];
    for (const [title, change, expected] of cases) {
      it(title, () => {
        const decision = refreshDecision({ ...base, ...change });
        if (Array.isArray(expected)) expect(decision).to.deep.equal({ scopes: expected });
        else expect('refusal' in decision ? decision.refusal : decision).to.include(expected);
      });
    }
  });

  describe('client credentials', () => {
    it('gives pisp only', () => {
      expect(clientCredentialsRefusal('pisp')).to.equal(undefined);
      expect(clientCredentialsRefusal('pisp aisp')).to.include({ error: 'invalid_scope', scope: 'aisp' });
      expect(clientCredentialsRefusal('')).to.include({ error: 'invalid_scope', scope: '' });
    });
  });

  describe('refresh tokens', () => {
    const cases: [boolean, string[], boolean][] = [
      [true, ['aisp'], true],
      [true, ['cbpii'], true],
      [true, ['pisp'], false],
      [false, ['aisp'], false],
    ];
    for (const [allowed, scopes, issued] of cases) {
      it(`${issued ? 'issues' : 'does not issue'} one for ${scopes.join(' ')} when the refresh grant is ${allowed ? '' : 'not '}registered`, () => {
        expect(issuesRefreshToken(allowed, scopes)).to.equal(issued);
      });
    }
  });

  describe('roles', () => {
    it('names each missing role with the scopes it would allow', () => {
      expect(missingRolesRefusal(['aisp', 'cbpii'], ['PSP_AI'])?.description).to.equal('the client certificate no longer holds the PSP_IC role needed for cbpii');
      expect(missingRolesRefusal(['aisp'], ['PSP_AI'])).to.equal(undefined);
    });
  });

  describe('authorization requests', () => {
    const facts = { environment: 'bank' as const, served: true, suspended: false, entryEnvironment: undefined, ownEntryPath: '/oauth2/de/signin.html' };
    it('refuses an environment the server does not serve, then a suspended TPP, then the other environment\'s page', () => {
      expect(clientEnvironmentRefusal({ ...facts, served: false })).to.include({ error: 'invalid_request' });
      expect(clientEnvironmentRefusal({ ...facts, suspended: true })).to.include({ error: 'unauthorized_client' });
      expect(clientEnvironmentRefusal({ ...facts, entryEnvironment: 'sandbox' })?.description).to.match(/send the PSU to \/oauth2\/de\/signin\.html$/);
      expect(clientEnvironmentRefusal(facts)).to.equal(undefined);
    });
    it('allows account access with one of the scope sets and no resource indicator', () => {
      expect(accountAccessRefusal({ hasResource: false, scope: 'aisp' })).to.equal(undefined);
      expect(accountAccessRefusal({ hasResource: false, scope: 'extended_transaction_history aisp' })).to.equal(undefined);
      expect(accountAccessRefusal({ hasResource: true, scope: 'aisp' })).to.include({ error: 'invalid_target' });
      expect(accountAccessRefusal({ hasResource: false, scope: 'pisp' })).to.include({ error: 'invalid_scope' });
      expect(accountAccessRefusal({ hasResource: false, scope: undefined })).to.include({ error: 'invalid_scope' });
    });
  });
});
