/**
 * The authorization endpoint and its entry pages under hostile input (properties): no 5xx, no leak,
 * redirects only inside the server or to the registered redirect URI.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import type { Response } from 'supertest';

import { AUTHORIZATION_PARAMETER_LIMITS } from '../../lib/parameter-limits.js';
import { LEAK } from '../support/leak.js';
import { suiteServer } from '../support/suite.js';
import { REDIRECT_URI, suiteClient } from './helpers.js';

describe('authorization endpoint under hostile input (properties)', function () {
  this.timeout(120_000);

  const server = suiteServer();
  const sandbox = suiteClient(server, { roles: ['PSP_AI', 'PSP_IC'] });
  const bank = suiteClient(server, { environment: 'bank', roles: ['PSP_AI', 'PSP_PI'] });

  const hostile: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map((value) => value.replace(/[\ud800-\udfff]/g, 'x')) },
    // Past ~16 kB of URL, Node answers 431 before the app sees the request.
    { weight: 1, arbitrary: fc.oneof(fc.integer({ min: 500, max: 2400 }).map((n) => 'é'.repeat(n)), fc.integer({ min: 1000, max: 20_000 }).map((n) => 'A'.repeat(n))) },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '', ' ', '\u0000', '\t\n', '\r\nLocation: https://evil.example/', '<script>alert(1)</script>', '"><img src=x>', '${7*7}', '%s%n',
        'aisp', 'aisp extended_transaction_history', 'cbpii', 'pisp', 'openid', 'code', 'token', 'none', 'login', 'consent',
        'S256', 'plain', 'query', 'fragment', 'form_post', 'jwt', 'web_message', 'de', 'en', 'fr', 'it', '__proto__', 'constructor',
        'https://evil.example/callback', '//evil.example', 'javascript:alert(1)', '\u202e', '0', '-1', 'null', '[]', '{}',
      ),
    },
  ).filter((value) => !LEAK.test(value));

  /** The registered redirect URI and near misses of it. */
  const redirectUri: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: fc.constant(REDIRECT_URI) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        `${REDIRECT_URI}/`, 'https://TPP.EXAMPLE/callback', 'https://tpp.example/Callback', 'HTTPS://tpp.example/callback', `${REDIRECT_URI}?x=1`,
        `${REDIRECT_URI}?`, `${REDIRECT_URI}#`, `${REDIRECT_URI}#frag`, 'https://user:pw@tpp.example/callback', 'https://tpp.example@evil.example/callback',
        'https://evil.example/callback', 'https://tpp.example.evil.example/callback', 'https://tpp.example:443/callback', 'https://tpp.example:8443/callback',
        'http://tpp.example/callback', '//tpp.example/callback', '/callback', 'https://tpp.example/callback/../callback', 'https://tpp.example/%63allback',
        'https://tpp.example/callback%00', ' https://tpp.example/callback', 'https://tpp.example/callback ', 'https://tpp.example\\@evil.example/callback',
        'https://xn--tpp-example/callback', 'javascript://tpp.example/callback', 'data:text/html,x',
      ),
    },
    { weight: 1, arbitrary: fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([a, b]) => `${a}${REDIRECT_URI}${b}`) },
    { weight: 1, arbitrary: hostile },
  );

  type Param = readonly [string, string];
  const NAMES = [
    'client_id', 'response_type', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'prompt', 'ui_locales',
    'response_mode', 'nonce', 'max_age', 'request', 'request_uri', 'claims', 'login_hint', 'acr_values', 'resource', 'authorization_details',
    'id_token_hint', 'registration', 'dpop_jkt', 'iss', '__proto__',
  ] as const;

  const value = (name: string): fc.Arbitrary<string> => (name === 'redirect_uri' ? redirectUri : name === 'client_id'
    ? fc.oneof(fc.constant('__sandbox__'), fc.constant('__bank__'), hostile)
    : hostile);

  /** Changes to a valid request: a value replaced, a parameter removed, duplicated or added. */
  const mutation: fc.Arbitrary<(params: Param[]) => Param[]> = fc.oneof(
    fc.constantFrom(...NAMES).chain((name) => value(name).map((v) => (params: Param[]) => [...params.filter(([n]) => n !== name), [name, v] as const])),
    fc.constantFrom(...NAMES).map((name) => (params: Param[]) => params.filter(([n]) => n !== name)),
    fc.constantFrom(...NAMES).chain((name) => value(name).map((v) => (params: Param[]) => [...params, [name, v] as const])),
    fc.tuple(hostile, hostile).map(([n, v]) => (params: Param[]) => [...params, [n, v] as const]),
  );

  const base = (client: 'sandbox' | 'bank'): Param[] => [
    ['client_id', client === 'sandbox' ? '__sandbox__' : '__bank__'],
    ['response_type', 'code'],
    ['redirect_uri', REDIRECT_URI],
    ['scope', 'aisp'],
    ['state', 'fuzz-state'],
    ['code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGtSFr_i6I'],
    ['code_challenge_method', 'S256'],
  ];

  const parameters: fc.Arbitrary<Param[]> = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(fc.constantFrom<'sandbox' | 'bank'>('sandbox', 'bank'), fc.array(mutation, { maxLength: 5 })).map(([client, changes]) => changes.reduce((params, change) => change(params), base(client))) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...NAMES), hostile), hostile), { maxLength: 8 }) },
  );

  const language: fc.Arbitrary<string> = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('de', 'en', 'fr', 'it', 'es') },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,2}$/) },
    { weight: 1, arbitrary: fc.constantFrom('DE', 'Fr', 'xx', 'de-AT', 'en_GB', 'eng', 'e', 'de-', '..', '.', '%2e%2e', '%2F', 'de%2Fx', '%', '%E0%A4%A', 'a-b-c-d-e-f') },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map(encodeURIComponent) },
  );

  const path: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: fc.constant('/authorize') },
    { weight: 3, arbitrary: language.map((lang) => `/${lang}/sandbox/signin.html`) },
    { weight: 3, arbitrary: language.map((lang) => `/${lang}/banque/oauth2_authorization.aspx`) },
    { weight: 1, arbitrary: fc.constantFrom('/authorize/', '/AUTHORIZE', '/en/sandbox/signin.html/', '/en/SANDBOX/signin.html', '/en/banque/oauth2_authorization.ASPX', '/sandbox/signin.html') },
  );

  /** A query string: encoded parameters, sometimes with raw pieces appended. */
  const query = (params: Param[], raw: string | undefined): string => {
    const resolved = params.map(([name, v]): [string, string] => [name, v.replace('__sandbox__', sandbox.clientId).replace('__bank__', bank.clientId)]);
    const encoded = new URLSearchParams(resolved).toString();
    return [encoded, raw].filter(Boolean).join('&');
  };
  const rawPiece = fc.option(fc.constantFrom('%', '%E0%A4%A', 'state=%ZZ', 'client_id', '=', '&&', 'scope[]=aisp', 'scope[a]=b', 'a=%00', 'redirect_uri=https%3A%2F%2Fevil.example%2Fcallback', '+'), { nil: undefined });

  const acceptLanguage = fc.option(fc.oneof(
    fc.constantFrom('de', 'fr-FR,fr;q=0.9', 'it', '*', 'de;q=x', ';;;', 'en;q=0', 'xx-YY,zz;q=1.5'),
    fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
  ), { nil: undefined });

  /** The state values a request carries. */
  const statesOf = (params: Param[], raw: string | undefined): string[] => [
    ...params.filter(([name]) => name === 'state').map(([, v]) => v),
    ...(raw === 'state=%ZZ' ? ['%ZZ'] : []),
  ];

  const issuerPath = () => new URL(server.issuer).pathname;

  /** The invariants of every answer of the authorization endpoint and its aliases. */
  function checkAnswer(res: Response, what: string, params: Param[], raw: string | undefined): void {
    const sentStates = statesOf(params, raw);
    // The fragment carries the answer only when the request asked for another response mode or type.
    const fragmentAllowed = params.some(([name, v]) => (name === 'response_mode' && v !== 'query') || (name === 'response_type' && v !== 'code'));
    const context = `${what} → ${res.status} ${res.headers.location ?? ''} ${(res.text ?? '').slice(0, 400)}`;
    expect(res.status, context).to.be.below(500);
    expect(res.text ?? '', `leak: ${context}`).not.to.match(LEAK);
    const location = res.headers.location as string | undefined;
    if (location !== undefined) {
      expect(res.status, context).to.be.within(300, 399);
      const inside = location.startsWith(`${issuerPath()}/interaction/`) || location.startsWith(`${server.issuer}/interaction/`);
      const toTpp = location.startsWith(`${REDIRECT_URI}?`) || (fragmentAllowed && location.startsWith(`${REDIRECT_URI}#`));
      expect(inside || toTpp, `Location ${location} is neither inside the server nor the registered redirect URI: ${context}`).to.equal(true);
      if (inside) {
        expect(new URL(location, server.url).origin, context).to.equal(server.url);
      } else {
        const url = new URL(location);
        const answer = new URLSearchParams(url.search ? url.search.slice(1) : url.hash.slice(1));
        expect(answer.get('error'), `a redirect to the TPP without a code carries an error: ${context}`).to.be.a('string').and.not.equal('');
        expect(answer.has('code'), context).to.equal(false);
        expect(answer.get('iss'), context).to.equal(server.issuer);
        const state = answer.get('state');
        if (state !== null) expect(sentStates, `state ${state} was never sent: ${context}`).to.include(state);
        // A state past its documented limit is refused and never returned.
        if (sentStates.length === 1 && sentStates[0]) expect(state, `state dropped: ${context}`).to.equal(sentStates[0].length > AUTHORIZATION_PARAMETER_LIMITS.state ? null : sentStates[0]);
      }
    } else {
      expect(res.status >= 300 && res.status < 400, `redirect without Location: ${context}`).to.equal(false);
    }
    for (const match of (res.text ?? '').matchAll(/<form[^>]*\baction="([^"]*)"/g)) {
      const action = (match[1] ?? '').replace(/&amp;/g, '&');
      const allowed = action === REDIRECT_URI || action.startsWith(`${REDIRECT_URI}?`) || action.startsWith(`${issuerPath()}/interaction/`);
      expect(allowed, `form posting to ${action}: ${context}`).to.equal(true);
    }
    if (res.status === 400 && /^text\/html/.test(String(res.headers['content-type'])) && !/<form/.test(res.text)) {
      expect(res.text, `an error page names no TPP address: ${context}`).not.to.contain('https://tpp.example');
    }
  }

  it('GET with random and hostile parameters on /authorize and the aliases: no 5xx, no leak, Location only inside the server or to the registered redirect URI', async () => {
    await fc.assert(fc.asyncProperty(path, parameters, rawPiece, acceptLanguage, async (target, params, raw, accept) => {
      const url = `/oauth2${target}?${query(params, raw)}`;
      const test = server.request().get(url);
      if (accept !== undefined) test.set('Accept-Language', accept);
      const res = await test;
      checkAnswer(res, `GET ${url.slice(0, 600)} [${accept}]`, params, raw);
    }), { numRuns: Number(process.env.FUZZ_RUNS ?? 250) });
  });

  // oidc-provider 9 serves the authorization endpoint with GET only (enableHttpPostMethods is off),
  // and the aliases answer GET only: whatever is posted, the same invariants hold.
  it('POST forms with random and hostile parameters on /authorize and the aliases: same invariants', async () => {
    await fc.assert(fc.asyncProperty(path, parameters, rawPiece, async (target, params, raw) => {
      const body = query(params, raw);
      const res = await server.request().post(`/oauth2${target}`).type('form').send(body);
      checkAnswer(res, `POST ${target} ${body.slice(0, 600)}`, params, raw);
    }), { numRuns: Number(process.env.FUZZ_RUNS ?? 40) });
  });
});
