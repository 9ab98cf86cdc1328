/**
 * Pure parts of the PSU pages: language choice, scope sets, escaping, localized client metadata,
 * login limits over the memory storage's counters.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { MemoryStorage } from '../../adapters/memory.js';
import { counterGroup } from '../../lib/storage.js';
import { escapeHtml, html } from '../../interactions/html.js';
import { CATALOGS, translator } from '../../interactions/i18n.js';
import { interactionPageOf, languageLinksTo } from '../../interactions/language-links.js';
import { clientNetwork, LoginLimits } from '../../interactions/login-limits.js';
import { languageChoice, sendPage } from '../../interactions/render-context.js';
import { Html } from '../../interactions/html.js';
import { formatIban } from '../../interactions/views/pages.js';
import { acceptLanguageTags, pickLanguage } from '../../lib/language.js';
import { consentRecord, decideConsent, sharedAccounts } from '../../lib/consent.js';
import { AUTHORIZATION_SCOPE_SETS, authorizationScopeSet } from '../../lib/psd2/authorization.js';
import { issuesRefreshToken } from '../../lib/psd2/token-policy.js';
import { scopeList } from '../../lib/psd2/tokens.js';
import { LOCALIZED_METADATA, localizedValue } from '../../lib/registration/localized-metadata.js';

describe('language choice', () => {
  it('takes the first offered language, matching the primary subtag', () => {
    expect(pickLanguage(['it', 'fr-BE', 'de'], ['de', 'en', 'fr'], 'en')).to.equal('fr');
    expect(pickLanguage(['DE_at'], ['de', 'en', 'fr'], 'en')).to.equal('de');
  });

  it('falls back to the default for languages the bank does not offer, never failing', () => {
    expect(pickLanguage(['it', 'es'], ['de', 'en', 'fr'], 'fr')).to.equal('fr');
    expect(pickLanguage(['fr'], ['de', 'en'], 'de')).to.equal('de');
    expect(pickLanguage([], ['en'], 'en')).to.equal('en');
    fc.assert(fc.property(fc.array(fc.string()), (tags) => ['de', 'en', 'fr'].includes(pickLanguage(tags, ['de', 'en', 'fr'], 'en'))));
  });

  it('orders Accept-Language by weight, ignoring * and q=0', () => {
    expect(acceptLanguageTags('en;q=0.5, fr-CH, de;q=0.9, *;q=0.1, it;q=0')).to.deep.equal(['fr-CH', 'de', 'en']);
    expect(acceptLanguageTags(undefined)).to.deep.equal([]);
    expect(acceptLanguageTags('garbage;;;q=x')).to.deep.equal([]);
  });

  it('negotiates from ui_locales when it names a language, else from Accept-Language, each value as pickLanguage does', () => {
    const options = { mountPath: '/oauth2', pages: { languages: ['de', 'fr'], defaultLanguage: 'fr' } } as unknown as Parameters<typeof languageChoice>[0];
    const languageOf = languageChoice(options);
    expect(languageOf('it de-AT', 'fr')).to.equal('de');
    expect(languageOf('it', 'de'), 'ui_locales naming no offered language gives the default').to.equal('fr');
    expect(languageOf('', 'en, de;q=0.5')).to.equal('de');
    expect(languageOf('   ', 'de'), 'blank ui_locales').to.equal('de');
    expect(languageOf('', undefined)).to.equal('fr');
    expect(languageOf(`${'xx '.repeat(200)}de`, 'fr'), 'a ui_locales longer than the values kept').to.equal('de');
    expect(languageOf('', `${'xx;q=0.1, '.repeat(100)}de`), 'an Accept-Language longer than the values kept').to.equal('de');
    fc.assert(fc.property(fc.string({ maxLength: 600 }), fc.option(fc.string({ maxLength: 600 }), { nil: undefined }), (uiLocales, header) => {
      const tags = uiLocales.split(' ').filter(Boolean);
      const expected = pickLanguage(tags.length ? tags : acceptLanguageTags(header), ['de', 'fr'], 'fr');
      return languageOf(uiLocales, header) === expected && languageOf(uiLocales, header) === expected;
    }));
  });
});

describe('page headers', () => {
  /** The header lines sendPage gives Node, in order. */
  const sent = (security?: Parameters<typeof sendPage>[3]): string => {
    const lines: string[] = [];
    const res = {
      req: { method: 'GET' },
      setHeader: (name: string, value: unknown) => lines.push(`${name}: ${String(value)}`),
      writeHead: (_status: number, more: Record<string, unknown>) => lines.push(...Object.entries(more).map(([name, value]) => `${name}: ${String(value)}`)),
      end: () => undefined,
    };
    sendPage(res as unknown as Parameters<typeof sendPage>[0], 200, new Html('<p>é</p>'), security);
    return lines.join('\n');
  };
  const rest = `X-Frame-Options: DENY
X-Content-Type-Options: nosniff
Referrer-Policy: no-referrer
Cache-Control: no-store
Pragma: no-cache
Cross-Origin-Opener-Policy: same-origin
Cross-Origin-Resource-Policy: same-origin
Permissions-Policy: camera=(), microphone=(), geolocation=(), payment=()
Content-Type: text/html; charset=utf-8
Content-Length: 9`;

  it('are sent in this order with these values, the TPP\'s origins added to the policy', () => {
    expect(sent()).to.equal(`Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'\n${rest}`);
    expect(sent({ formTargets: ['https://tpp.example'], imageOrigins: ['https://cdn.example', 'https://img.example'] })).to.equal(
      `Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self' https://cdn.example https://img.example; form-action 'self' https://tpp.example; frame-ancestors 'none'; base-uri 'none'\n${rest}`,
    );
  });
});

describe('authorization scope sets', () => {
  it('accepts exactly aisp, aisp extended_transaction_history (any order) and cbpii', () => {
    expect(authorizationScopeSet('aisp')).to.deep.equal({ set: 'aisp' });
    expect(authorizationScopeSet('extended_transaction_history aisp')).to.deep.equal({ set: 'aisp extended_transaction_history' });
    expect(authorizationScopeSet('cbpii')).to.deep.equal({ set: 'cbpii' });
  });

  it('refuses everything else with a reason', () => {
    for (const scope of [undefined, '', 'extended_transaction_history', 'aisp cbpii', 'aisp aisp', 'openid aisp', 'AISP', 'aisp  pisp']) {
      expect(authorizationScopeSet(scope), String(scope)).to.have.property('problem').that.is.a('string');
    }
    expect((authorizationScopeSet('pisp') as { problem: string }).problem).to.match(/client_credentials/);
    expect((authorizationScopeSet(undefined) as { problem: string }).problem).to.match(/required/);
  });
});

describe('the consent page\'s 180-day notice', () => {
  // What the page says must be what the token endpoint does: a refresh token only for account
  // access, and only to a client registered for the refresh grant.
  const table: [scope: string, refreshGrant: boolean, lasting: boolean][] = [
    ['aisp', true, true],
    ['aisp extended_transaction_history', true, true],
    ['cbpii', true, true],
    ['aisp', false, false],
    ['aisp extended_transaction_history', false, false],
    ['cbpii', false, false],
    ['pisp', true, false],
  ];
  for (const [scope, refreshGrant, lasting] of table) {
    it(`${lasting ? 'shows' : 'leaves out'} it for ${scope}${refreshGrant ? '' : ' without the refresh grant'}`, () => {
      expect(issuesRefreshToken(refreshGrant, scopeList(scope))).to.equal(lasting);
    });
  }

  it('covers every scope set a PSU can grant', () => {
    expect(AUTHORIZATION_SCOPE_SETS.filter((set) => !table.some(([scope]) => scope === set))).to.deep.equal([]);
  });
});

describe('the PSU\'s answer on the consent page', () => {
  const offered = [{ id: 'a', iban: 'DE89370400440532013000', name: 'A' }, { id: 'b', name: 'B' }];

  it('shares at least one account, each of them offered', () => {
    expect(sharedAccounts(offered, ['b'])).to.deep.equal([offered[1]]);
    expect(sharedAccounts(offered, ['a', 'b'])).to.deep.equal(offered);
    expect(sharedAccounts(offered, ['a', 'a']), 'an account ticked twice is shared once').to.deep.equal([offered[0]]);
    for (const chosen of [[], ['c'], ['a', 'c']]) expect(sharedAccounts(offered, chosen), chosen.join()).to.equal(undefined);
  });

  it('refuses before reading anything, asks the accounts before the suspension, and grants last', async () => {
    const read: string[] = [];
    const answer = (granted: boolean, chosen: string[], suspended: boolean) => ({
      granted,
      chosen,
      offered: async () => { read.push('accounts'); return offered; },
      suspended: async () => { read.push('suspension'); return suspended; },
    });
    expect(await decideConsent(answer(false, ['a'], false))).to.deep.equal({ kind: 'refused' });
    expect(read).to.deep.equal([]);
    expect(await decideConsent(answer(true, ['c'], true))).to.deep.equal({ kind: 'invalid_choice', offered });
    expect(read).to.deep.equal(['accounts']);
    expect(await decideConsent(answer(true, ['a'], true))).to.deep.equal({ kind: 'suspended' });
    expect(await decideConsent(answer(true, ['a'], false))).to.deep.equal({ kind: 'granted', shared: [offered[0]] });
  });

  it('records the accounts by id and IBAN, with the PSU\'s authentication', () => {
    expect(consentRecord('bank', offered, { scaTime: 1700000000, amr: ['pwd', 'otp'] })).to.deep.equal({
      environment: 'bank',
      accounts: [{ id: 'a', iban: 'DE89370400440532013000' }, { id: 'b' }],
      scaTime: 1700000000,
      amr: ['pwd', 'otp'],
    });
  });
});

describe('French typography', () => {
  // Typographic apostrophes, and a no-break space before the high punctuation: narrow before ? ! ;,
  // ordinary or narrow before :, so that none of them is left alone at the start of a line.
  for (const [key, text] of Object.entries(CATALOGS.fr)) {
    it(`${key}`, () => {
      expect(text, 'a typographic apostrophe (’), not a straight one').not.to.include('\'');
      for (const match of text.matchAll(/[?!;:]/g)) {
        const before = text[match.index - 1];
        const allowed = match[0] === ':' ? ['\u00a0', '\u202f'] : ['\u202f', '\u00a0'];
        expect(allowed, `the space before "${match[0]}" at ${match.index} of ${JSON.stringify(text)}`).to.include(before);
      }
    });
  }
});

describe('language links', () => {
  it('lead to the interaction the path names first, and nowhere when it names none', () => {
    expect(interactionPageOf('/oauth2/interaction', '/AbC_1-x/signin')).to.equal('/oauth2/interaction/AbC_1-x');
    expect(interactionPageOf('/oauth2/interaction', '/AbC')).to.equal('/oauth2/interaction/AbC');
    for (const path of ['', '/', '//evil.example', '/a.b', '/%2e', `/${'x'.repeat(65)}`, '/\\evil.example']) {
      expect(interactionPageOf('/oauth2/interaction', path), path).to.equal(undefined);
    }
    expect(languageLinksTo('/oauth2/interaction/AbC')('fr')).to.equal('/oauth2/interaction/AbC?lang=fr');
  });
});

describe('html escaping', () => {
  it('escapes every interpolated value and leaves nested html as is', () => {
    const name = '<script>alert("x")</script>\'`&';
    expect(html`<p title="${name}">${name}</p>`.value).to.equal(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&#96;&amp;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&#96;&amp;</p>',
    );
    expect(html`<ul>${['a<', 'b'].map((item) => html`<li>${item}</li>`)}</ul>`.value).to.equal('<ul><li>a&lt;</li><li>b</li></ul>');
    expect(html`${undefined}${null}${false}${0}`.value).to.equal('0');
  });

  it('never lets < or a quote through from any string', () => {
    fc.assert(fc.property(fc.string(), (value) => !/[<>"'`]/.test(escapeHtml(value))));
  });

  it('translates with placeholders, leaving unknown ones visible', () => {
    expect(translator('fr')('consent.title', { tpp: 'Acme' })).to.equal('Autoriser l’accès à Acme\u202f?');
    expect(translator('de')('page.cancel')).to.contain('{tpp}');
  });

  it('formats IBANs in groups of four', () => {
    expect(formatIban('FR7630004000031234567890143')).to.equal('FR76 3000 4000 0312 3456 7890 143');
  });
});

describe('localized client metadata', () => {
  const metadata = {
    client_name: 'Acme',
    'client_name#fr': 'Acme France',
    'client_name#de-AT': 'Acme Österreich',
    logo_uri: 'https://acme.example/logo.png',
  };

  it('prefers the exact language, then a regional tag, then the untagged value', () => {
    expect(localizedValue(metadata, 'client_name', 'fr')).to.equal('Acme France');
    expect(localizedValue(metadata, 'client_name', 'de')).to.equal('Acme Österreich');
    expect(localizedValue(metadata, 'client_name', 'en')).to.equal('Acme');
    expect(localizedValue(metadata, 'logo_uri', 'fr')).to.equal('https://acme.example/logo.png');
    expect(localizedValue({}, 'client_name', 'en')).to.equal(undefined);
  });

  it('keeps the bare and regional tags of each page language', () => {
    expect(LOCALIZED_METADATA).to.include.members(['client_name#de', 'client_name#fr-BE', 'logo_uri#en-GB', 'logo_uri#fr']);
    expect(LOCALIZED_METADATA).to.not.include('client_name#it');
  });
});

describe('login limits', () => {
  it('counts attempts before they are checked, within the window only, and forgets them on success', async () => {
    let now = 1_000_000;
    const storage = new MemoryStorage({ now: () => now });
    const limits = new LoginLimits(storage, { perPsu: { attempts: 3, windowSeconds: 60 }, perIp: { attempts: 100, windowSeconds: 60 } });
    const psu = LoginLimits.psuKey(' Marie ');
    expect(psu).to.equal(LoginLimits.psuKey('marie'));
    expect(psu).to.not.contain('marie');
    expect(await limits.begin(psu, '10.0.0.1')).to.equal(true);
    expect(await limits.begin(psu, '10.0.0.1')).to.equal(true);
    expect(await limits.exhausted(psu, '10.0.0.1')).to.equal(false);
    expect(await limits.begin(psu, '10.0.0.2')).to.equal(true);
    expect(await limits.exhausted(psu, '10.0.0.2')).to.equal(true);
    expect(await limits.begin(psu, '10.0.0.3')).to.equal(false);
    now += 61_000;
    expect(await limits.begin(psu, '10.0.0.3')).to.equal(true);
    await limits.succeed('10.0.0.3', psu);
    expect(await storage.readCounter(psu)).to.equal(0);
  });

  it('refuses concurrent attempts beyond the limit, whatever the bank would say', async () => {
    const limits = new LoginLimits(new MemoryStorage(), { perPsu: { attempts: 5, windowSeconds: 60 }, perIp: { attempts: 100, windowSeconds: 60 } });
    const psu = LoginLimits.psuKey('victim');
    const allowed = await Promise.all(Array.from({ length: 50 }, () => limits.begin(psu, '198.51.100.7')));
    expect(allowed.filter(Boolean)).to.have.length(5);
  });

  it('counts an address across identifiers, and gives successful attempts back', async () => {
    const storage = new MemoryStorage();
    const limits = new LoginLimits(storage, { perPsu: { attempts: 100, windowSeconds: 60 }, perIp: { attempts: 2, windowSeconds: 60 } });
    expect(await limits.begin(LoginLimits.psuKey('ok'), '192.0.2.1')).to.equal(true);
    await limits.succeed('192.0.2.1', LoginLimits.psuKey('ok'));
    await limits.begin(LoginLimits.psuKey('a'), '192.0.2.1');
    await limits.begin(LoginLimits.psuKey('b'), '192.0.2.1');
    expect(await limits.begin(LoginLimits.psuKey('c'), '192.0.2.1')).to.equal(false);
    expect(await limits.begin(LoginLimits.psuKey('c'), '192.0.2.2')).to.equal(true);
  });

  it('checks the address first: once it is used up, nothing is counted and no identifier counter is created', async () => {
    const storage = new MemoryStorage();
    const limits = new LoginLimits(storage, { perPsu: { attempts: 5, windowSeconds: 60 }, perIp: { attempts: 3, windowSeconds: 60 } });
    const identifiers = Array.from({ length: 300 }, (_, i) => LoginLimits.psuKey(`someone-${i}`));
    const allowed = [];
    for (const identifier of identifiers) allowed.push(await limits.begin(identifier, '203.0.113.9'));
    expect(allowed.filter(Boolean)).to.have.length(3);
    expect(await storage.readCounter(LoginLimits.ipKey('203.0.113.9')), 'not counted past its limit').to.equal(3);
    const counted = await Promise.all(identifiers.map((identifier) => storage.readCounter(identifier)));
    expect(counted.filter((value) => value !== 0)).to.have.length(3);
    // A locked identifier does not use up the address either.
    const locked = LoginLimits.psuKey('locked');
    await storage.incrementCounter(locked, 60, 5);
    expect(await limits.begin(locked, '203.0.113.10')).to.equal(false);
    expect(await storage.readCounter(LoginLimits.ipKey('203.0.113.10'))).to.equal(0);
  });

  it('counts one-time codes against the PSU id too: identifiers of one PSU share its budget, a completed sign-in clears it', async () => {
    const storage = new MemoryStorage();
    const limits = new LoginLimits(storage, { perPsu: { attempts: 3, windowSeconds: 60 }, perIp: { attempts: 100, windowSeconds: 60 } });
    const [first, second, third] = ['marie', 'marie.dupont', 'm.dupont'].map((login) => LoginLimits.psuKey(login)) as [string, string, string];
    expect(await limits.begin(first, '10.0.0.1', 'psu-marie')).to.equal(true);
    expect(await limits.begin(first, '10.0.0.1', 'psu-marie')).to.equal(true);
    expect(await limits.exhausted(second, '10.0.0.1', 'psu-marie')).to.equal(false);
    expect(await limits.begin(second, '10.0.0.1', 'psu-marie')).to.equal(true);
    expect(await limits.exhausted(second, '10.0.0.1', 'psu-marie'), 'the PSU\'s budget is used up').to.equal(true);
    expect(await limits.exhausted(second, '10.0.0.1'), 'the identifier\'s alone is not').to.equal(false);
    expect(await limits.begin(third, '10.0.0.1', 'psu-marie')).to.equal(false);
    expect(await limits.begin(third, '10.0.0.1', 'psu-other')).to.equal(true);
    await limits.succeed('10.0.0.1', second, 'psu-marie');
    expect(await storage.readCounter(LoginLimits.psuIdKey('psu-marie'))).to.equal(0);
    expect(await limits.begin(third, '10.0.0.1', 'psu-marie')).to.equal(true);
  });

  it('names its counters in one group, with identifiers and PSU ids hashed', () => {
    for (const name of [LoginLimits.psuKey('Marie'), LoginLimits.psuIdKey('psu-marie'), LoginLimits.ipKey('192.0.2.1')]) {
      expect(counterGroup(name), name).to.equal('login-attempts');
      expect(name).not.to.match(/marie/i);
    }
    expect(LoginLimits.psuIdKey('marie')).not.to.equal(LoginLimits.psuKey('marie'));
  });

  it('counts an IPv4-mapped address as its IPv4 address, and an IPv6 address by its /64', () => {
    expect(clientNetwork('::ffff:192.0.2.1')).to.equal('192.0.2.1');
    expect(clientNetwork('192.0.2.1')).to.equal('192.0.2.1');
    expect(clientNetwork('2001:db8:1:2:aaaa::1')).to.equal('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8:1:2:ffff:ffff:ffff:ffff')).to.equal('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8::1')).to.equal('2001:db8:0:0::/64');
    expect(clientNetwork('fe80::1%eth0')).to.equal('fe80:0:0:0::/64');
    expect(clientNetwork('::1')).to.equal('0:0:0:0::/64');
    expect(LoginLimits.ipKey('2001:db8:1:2::5')).to.equal(LoginLimits.ipKey('2001:db8:1:2::6'));
  });
});
