/**
 * Pure parts of the PSU pages: language choice, scope sets, escaping, localized client metadata,
 * login limits over the memory storage's counters.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { MemoryStorage } from '../../adapters/memory.js';
import { escapeHtml, html } from '../../interactions/html.js';
import { translator } from '../../interactions/i18n.js';
import { LoginLimits } from '../../interactions/login-limits.js';
import { formatIban } from '../../interactions/views/pages.js';
import { acceptLanguageTags, pickLanguage } from '../../lib/language.js';
import { authorizationScopeSet } from '../../lib/psd2/authorization.js';
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
    expect(translator('fr')('consent.title', { tpp: 'Acme' })).to.equal('Autoriser l\'accès à Acme ?');
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
  it('blocks a PSU after the allowed failures, within the window only, and forgets them on success', async () => {
    let now = 1_000_000;
    const storage = new MemoryStorage({ now: () => now });
    const limits = new LoginLimits(storage, { perPsu: { attempts: 3, windowSeconds: 60 }, perIp: { attempts: 100, windowSeconds: 60 } });
    const psu = LoginLimits.psuKey(' Marie ');
    expect(psu).to.equal(LoginLimits.psuKey('marie'));
    expect(psu).to.not.contain('marie');
    expect(await limits.fail(psu, '10.0.0.1')).to.equal(false);
    expect(await limits.fail(psu, '10.0.0.1')).to.equal(false);
    expect(await limits.blocked(psu, '10.0.0.1')).to.equal(false);
    expect(await limits.fail(psu, '10.0.0.2')).to.equal(true);
    expect(await limits.blocked(psu, '10.0.0.3')).to.equal(true);
    now += 61_000;
    expect(await limits.blocked(psu, '10.0.0.3')).to.equal(false);
    await limits.fail(psu, '10.0.0.1');
    await limits.succeed(psu);
    expect(await storage.readCounter(psu)).to.equal(0);
  });

  it('blocks an address after the allowed failures across identifiers', async () => {
    const storage = new MemoryStorage();
    const limits = new LoginLimits(storage, { perPsu: { attempts: 100, windowSeconds: 60 }, perIp: { attempts: 2, windowSeconds: 60 } });
    await limits.fail(LoginLimits.psuKey('a'), '192.0.2.1');
    await limits.fail(LoginLimits.psuKey('b'), '192.0.2.1');
    expect(await limits.blocked(LoginLimits.psuKey('c'), '192.0.2.1')).to.equal(true);
    expect(await limits.blocked(LoginLimits.psuKey('c'), '192.0.2.2')).to.equal(false);
  });
});
