/**
 * What the observation of every request computes, made cheap: the answers remembered (scope
 * strings, counter names of a day and a slot) are those computed afresh, and the memory holding
 * them stays bounded whatever requests send; the scope read from a query string is the one the
 * URL standard's parser reads.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { queryScope } from '../../lib/observability/query-scope.js';

describe('observability: what every request computes', () => {
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
