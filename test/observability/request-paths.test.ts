/**
 * What the observation of every request computes, made cheap: the answers remembered (scope
 * strings, counter names of a day and a slot) are those computed afresh, and the memory holding
 * them stays bounded whatever requests send; the scope read from a query string is the one the
 * URL standard's parser reads.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { BoundedMemo } from '../../lib/observability/bounded-memo.js';
import { queryScope } from '../../lib/observability/query-scope.js';
import {
  LATENCY_BOUNDS_MS, SERVICES, dayCounterNames, dayOf, isSharedServiceList, servicesOf, slotCounterNames, statisticsKeys, type Service,
} from '../../lib/observability/statistics-keys.js';

/** The services of a request as documented: the scope's known scopes, else the certificate's roles. */
function expectedServices(request: { readonly scope?: string; readonly roles?: readonly string[] }): Service[] {
  const ofScope: Record<string, Service> = { aisp: 'account_information', extended_transaction_history: 'account_information', pisp: 'payment_initiation', cbpii: 'funds_confirmation' };
  const ofRole: Record<string, Service> = { PSP_AI: 'account_information', PSP_PI: 'payment_initiation', PSP_IC: 'funds_confirmation' };
  const pick = (names: readonly string[], table: Record<string, Service>) => SERVICES.filter((service) => names.some((name) => Object.hasOwn(table, name) && table[name] === service));
  const fromScope = pick((request.scope ?? '').split(' '), ofScope);
  return fromScope.length ? fromScope : pick(request.roles ?? [], ofRole);
}

const scopeWord = fc.oneof(
  fc.constantFrom('aisp', 'pisp', 'cbpii', 'extended_transaction_history', 'openid', 'offline_access', '', 'AISP', 'toString', '__proto__'),
  fc.string({ maxLength: 8 }),
);
const scopeString = fc.array(scopeWord, { maxLength: 6 }).map((words) => words.join(' '));
const roles = fc.array(fc.constantFrom('PSP_AI', 'PSP_PI', 'PSP_IC', 'PSP_AS', 'psp_ai', 'constructor'), { maxLength: 4 });

describe('observability: what every request computes', () => {
  describe('BoundedMemo', () => {
    it('answers as the function it remembers, and holds at most its bound', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 200 }), (max, keys) => {
        let computed = 0;
        const memo = new BoundedMemo(max, (key: number) => {
          computed += 1;
          return { square: key * key };
        });
        for (const key of keys) {
          expect(memo.get(key).square).to.equal(key * key);
          expect(memo.size).to.be.at.most(max);
        }
        expect(computed).to.be.at.most(keys.length);
      }));
    });

    it('computes a key once while it is remembered, an undefined answer too', () => {
      const asked: string[] = [];
      const memo = new BoundedMemo(2, (key: string) => {
        asked.push(key);
        return key === 'none' ? undefined : key.length;
      });
      expect([memo.get('none'), memo.get('none'), memo.get('ab'), memo.get('ab')]).to.deep.equal([undefined, undefined, 2, 2]);
      expect(asked).to.deep.equal(['none', 'ab']);
      // Full: a third key empties it.
      memo.get('abc');
      expect(memo.size).to.equal(1);
      memo.get('ab');
      expect(asked).to.deep.equal(['none', 'ab', 'abc', 'ab']);
    });

    it('refuses a bound that is not a positive integer', () => {
      for (const max of [0, -1, 1.5, Number.NaN]) expect(() => new BoundedMemo(max, String)).to.throw(RangeError);
    });
  });

  describe('servicesOf', () => {
    it('gives the services of the scope, else of the roles, for any scope string and roles', () => {
      fc.assert(fc.property(fc.option(scopeString, { nil: undefined }), fc.option(roles, { nil: undefined }), (scope, roleList) => {
        const request = { ...(scope !== undefined ? { scope } : {}), ...(roleList !== undefined ? { roles: roleList } : {}) };
        // Asked twice: computed, then remembered.
        expect(servicesOf(request)).to.deep.equal(expectedServices(request));
        expect(servicesOf(request)).to.deep.equal(expectedServices(request));
      }), { numRuns: 2000 });
    });

    it('shares one read-only list per set of services', () => {
      const first = servicesOf({ scope: 'openid aisp' });
      expect(servicesOf({ scope: 'aisp extended_transaction_history' })).to.equal(first);
      expect(servicesOf({ roles: ['PSP_AI', 'PSP_AS'] })).to.equal(first);
      expect(Object.isFrozen(first)).to.equal(true);
      expect(Object.isFrozen(servicesOf({}))).to.equal(true);
      expect(isSharedServiceList(first)).to.equal(true);
      expect(isSharedServiceList([...first])).to.equal(false);
    });

    it('answers the same for scope strings past what is remembered, and for long ones', () => {
      for (let index = 0; index < 2000; index += 1) expect(servicesOf({ scope: `pisp x${index}` })).to.deep.equal(['payment_initiation']);
      const long = `${'x'.repeat(300)} cbpii`;
      expect(servicesOf({ scope: long })).to.deep.equal(['funds_confirmation']);
      expect(servicesOf({ scope: 'aisp' })).to.deep.equal(['account_information']);
    });
  });

  describe('the counter names of a day and a slot', () => {
    it('are those built for the day and slot of any time', () => {
      const time = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });
      fc.assert(fc.property(time, (at) => {
        const day = dayOf(at);
        const slot = Math.floor(at / 5000);
        for (const service of SERVICES) {
          const names = dayCounterNames(at)[service];
          expect(names.requests).to.equal(statisticsKeys.day(day, service, 'requests'));
          expect(names.failed).to.equal(statisticsKeys.day(day, service, 'failed'));
          expect(names.durationMs).to.equal(statisticsKeys.day(day, service, 'duration_ms'));
          expect(names.buckets).to.deep.equal(Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_, bucket) => statisticsKeys.day(day, service, `bucket_${bucket}`)));
          expect(slotCounterNames(slot)[service]).to.deep.equal({ answered: statisticsKeys.slot(slot, service, 'answered'), failed: statisticsKeys.slot(slot, service, 'failed') });
        }
      }), { numRuns: 500 });
    });

    it('are built once per day and per slot', () => {
      const noon = Date.UTC(2026, 2, 29, 12);
      expect(dayCounterNames(noon + 3_600_000)).to.equal(dayCounterNames(noon));
      expect(dayCounterNames(noon + 43_200_000)).not.to.equal(dayCounterNames(noon));
      expect(slotCounterNames(7)).to.equal(slotCounterNames(7));
    });
  });

  describe('queryScope', () => {
    const oracle = (url: string): string | undefined => {
      const query = url.indexOf('?');
      return query < 0 ? undefined : new URLSearchParams(url.slice(query + 1)).get('scope') ?? undefined;
    };
    const part = fc.oneof(
      fc.constantFrom('scope', 'scope=', 'scope=aisp', 'scope=openid%20aisp', 'scope=openid+pisp', 'sc%6Fpe=cbpii', 'scope=%E2%82%AC', 'scope=%zz', 'scope=%C3',
        'scope=%ED%A0%80', 'scopes=aisp', 'xscope=pisp', 'response_type=code', '=', '', 'scope=a=b', 's+cope=aisp', 'scope=%EF%BB%BFaisp'),
      fc.string({ maxLength: 10 }),
      fc.tuple(fc.constantFrom('scope', 'state', 'sc%6fpe'), fc.string({ maxLength: 10 })).map(([name, value]) => `${name}=${value}`),
    );
    const url = fc.tuple(fc.constantFrom('/oauth2/authorize', '/de/sandbox/signin.html', ''), fc.boolean(), fc.array(part, { maxLength: 5 }))
      .map(([path, withQuery, parts]) => (withQuery ? `${path}?${parts.join('&')}` : path));

    it('reads the scope as the URL standard parses a query, whatever the query holds', () => {
      fc.assert(fc.property(url, (each) => {
        expect(queryScope(each), each).to.equal(oracle(each));
      }), { numRuns: 5000 });
    });

    it('reads the first scope, decoded', () => {
      expect(queryScope('/oauth2/authorize?client_id=x&scope=openid%20aisp&scope=pisp')).to.equal('openid aisp');
      expect(queryScope('/oauth2/authorize?scope=openid+aisp')).to.equal('openid aisp');
      expect(queryScope('/oauth2/authorize?sc%6Fpe=cbpii&scope=aisp')).to.equal('cbpii');
      expect(queryScope('/oauth2/authorize?scope&scope=aisp')).to.equal('');
      expect(queryScope('/oauth2/authorize?scope=%zz')).to.equal('%zz');
      expect(queryScope('/oauth2/authorize?state=1')).to.equal(undefined);
      expect(queryScope('/oauth2/authorize')).to.equal(undefined);
    });
  });
});
