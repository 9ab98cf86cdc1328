import { expect } from 'chai';
import Provider from 'oidc-provider';

import { UPSTREAM_MESSAGES, storeProductFields, CONSENT_FIELD, CLIENT_VIEW_FIELD } from '../../lib/provider/internals.js';

/**
 * What lib/provider/internals.ts relies on in oidc-provider beyond its documented configuration.
 * An upgrade that changes one of these fails here first, with the name of what changed.
 */
describe('oidc-provider internals the server relies on', () => {
  const provider = new Provider('https://bank.example/oauth2', {});
  const source = async (path: string) => (await import('node:fs/promises')).readFile(new URL(`../../node_modules/oidc-provider/lib/${path}`, import.meta.url), 'utf8');

  it('models list their stored fields in IN_PAYLOAD, which the server extends', () => {
    for (const model of [provider.Grant, provider.Interaction] as unknown as { IN_PAYLOAD: string[] }[]) expect(model.IN_PAYLOAD.length).to.be.greaterThan(0);
    storeProductFields(provider);
    expect((provider.Grant as unknown as { IN_PAYLOAD: string[] }).IN_PAYLOAD).to.include(CONSENT_FIELD);
    expect((provider.Interaction as unknown as { IN_PAYLOAD: string[] }).IN_PAYLOAD).to.include(CLIENT_VIEW_FIELD);
  });

  it('codes, tokens and grants draw their ids with generateTokenId', () => {
    for (const model of [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode, provider.Grant]) {
      expect((model as unknown as { prototype: { generateTokenId?: unknown } }).prototype.generateTokenId).to.be.a('function');
    }
  });

  it('keeps the request being handled in Provider.ctx', async () => {
    expect(await source('provider.js')).to.match(/static get ctx\(\)/);
  });

  it('says the texts the server restates', async () => {
    expect(await source('actions/token.js')).to.include(UPSTREAM_MESSAGES.grantTypeNotAllowed);
    expect(await source('actions/grants/refresh_token.js')).to.include(UPSTREAM_MESSAGES.refreshTokenExpired);
  });

  it('has the model classes the server creates records of', () => {
    for (const model of ['RegistrationAccessToken', 'PushedAuthorizationRequest', 'Grant', 'AuthorizationCode'] as const) {
      expect(provider[model]).to.be.a('function');
    }
    expect((provider.Grant as unknown as { adapter?: { destroy?: unknown } }).adapter?.destroy).to.be.a('function');
  });
});
