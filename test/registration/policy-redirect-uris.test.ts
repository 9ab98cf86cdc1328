/**
 * The registration policy (applyRegistrationPolicy): redirect URIs.
 */
import { expect } from 'chai';

import { apply, refuse, refuseRedirect } from './policy-calls.js';

describe('registration policy (applyRegistrationPolicy)', () => {
  describe('redirect URIs', () => {
    for (const uri of [' https://tpp.example/cb', 'https://tpp.example/cb ', 'https://tpp.example/c b']) {
      it(`refuses ${JSON.stringify(uri)}: whitespace would be trimmed by URL parsing`, () => {
        refuseRedirect({ redirect_uris: [uri], scope: 'aisp' }, /must not contain whitespace/);
      });
    }

    it('accepts https URIs, with path, query and port', () => {
      const uris = ['https://tpp.example/cb', 'https://tpp.example:8443/a/b?x=1'];
      expect(apply({ redirect_uris: uris }).redirect_uris).to.deep.equal(uris);
    });

    for (const uri of ['http://127.0.0.1/cb', 'http://127.0.0.1:8080/cb', 'http://localhost:3000/cb', 'http://[::1]/cb']) {
      it(`accepts the loopback ${uri} where loopback is allowed (sandbox)`, () => {
        expect(apply({ redirect_uris: [uri] }, { loopback: true }).redirect_uris).to.deep.equal([uri]);
      });
      it(`refuses the loopback ${uri} where loopback is not allowed (bank)`, () => {
        refuseRedirect({ redirect_uris: [uri] }, /allowed only in the sandbox/, { environment: 'bank', loopback: false });
      });
    }

    const refused: [string, string, RegExp][] = [
      ['http on a public host', 'http://tpp.example/cb', /must use https/],
      ['http on a host that merely starts with localhost', 'http://localhost.tpp.example/cb', /must use https/],
      ['http on another 127/8 address', 'http://127.0.0.2/cb', /must use https/],
      ['a custom scheme', 'com.tpp.app:/cb', /must use https/],
      ['a javascript: URI', 'javascript:alert(1)', /must use https/],
      ['a fragment', 'https://tpp.example/cb#frag', /must not have a fragment/],
      ['an empty fragment', 'https://tpp.example/cb#', /must not have a fragment/],
      ['a relative URI', '/cb', /must hold absolute URLs/],
      ['a scheme-relative URI', '//tpp.example/cb', /must hold absolute URLs/],
      ['an empty string', '', /must hold absolute URLs/],
      ['credentials', 'https://user:pass@tpp.example/cb', /must not hold credentials/],
    ];
    for (const [what, uri, description] of refused) {
      it(`refuses a redirect URI with ${what} (${uri || 'empty'}) in the sandbox`, () => {
        refuseRedirect({ redirect_uris: ['https://tpp.example/ok', uri] }, description, { loopback: true });
      });
    }

    for (const uris of ['https://tpp.example/cb', [42], [null]]) {
      it(`refuses redirect_uris ${JSON.stringify(uris)} (not an array of strings)`, () => {
        const error = refuse({ redirect_uris: uris });
        expect(error.error_description).to.match(/^redirect_uris must be an array of strings/);
      });
    }
  });
});
