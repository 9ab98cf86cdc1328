import { expect } from 'chai';
import Provider from 'oidc-provider';

import { MemoryStorage } from '../../adapters/memory.js';
import { UPSTREAM_MESSAGES, reuseBuiltClients, storeProductFields, CONSENT_FIELD, CLIENT_VIEW_FIELD } from '../../lib/provider/internals.js';
import type { RecordAdapter } from '../../lib/storage.js';

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

/**
 * `Client.find` with the clients oidc-provider built reused while the storage tells that the record
 * is unchanged (Storage.recordRevision), on a real provider and the memory storage.
 */
describe('clients reused while their stored metadata is unchanged', () => {
  type Found = { clientId: string; redirectUris: string[] } | undefined;

  function setup(tellsRevisions: boolean, max?: number) {
    const storage = new MemoryStorage();
    let reads = 0;
    const adapter = (name: string): RecordAdapter => {
      const stored = storage.adapterFor(name);
      return name === 'Client' ? { ...stored, find: (id) => { reads += 1; return stored.find(id); } } : stored;
    };
    const provider = new Provider('https://bank.example/oauth2', { adapter } as unknown as ConstructorParameters<typeof Provider>[1]);
    reuseBuiltClients(provider, (clientId) => (tellsRevisions ? storage.recordRevision('Client', clientId) : undefined), max);
    const find = async (id: unknown) => await (provider.Client as unknown as { find(id: unknown): Promise<Found> }).find(id);
    const write = (redirectUri: unknown, id = 'tpp-1') => storage.adapterFor('Client').upsert(id, { client_id: id, client_secret: 'a secret of the test', redirect_uris: [redirectUri] });
    return { storage, find, write, reads: () => reads };
  }

  it('builds a client once per stored version of its metadata, and finds a new version or a deletion at once', async () => {
    const { storage, find, write, reads } = setup(true);
    await write('https://tpp.example/one');
    const first = await find('tpp-1');
    expect(first?.redirectUris).to.deep.equal(['https://tpp.example/one']);
    expect(await find('tpp-1'), 'unchanged: the same client').to.equal(first);
    expect(reads(), 'read once').to.equal(1);

    await write('https://tpp.example/two');
    const second = await find('tpp-1');
    expect(second).not.to.equal(first);
    expect(second?.redirectUris).to.deep.equal(['https://tpp.example/two']);
    expect(await find('tpp-1')).to.equal(second);
    expect(reads()).to.equal(2);

    await storage.adapterFor('Client').destroy('tpp-1');
    expect(await find('tpp-1'), 'deleted').to.equal(undefined);
    expect(await find('nobody')).to.equal(undefined);
    expect(await find(42), 'not a client id').to.equal(undefined);
  });

  it('keeps at most the clients it is given, the least recently used forgotten first', async () => {
    const { find, write, reads } = setup(true, 2);
    for (const id of ['a', 'b', 'c']) await write('https://tpp.example/cb', id);
    await find('a');
    await find('b');
    await find('a');
    expect(reads()).to.equal(2);
    await find('c');
    expect(reads()).to.equal(3);
    await find('a');
    expect(reads(), 'a, used last but one, still kept').to.equal(3);
    await find('b');
    expect(reads(), 'b, the least recently used, forgotten').to.equal(4);
  });

  it('keeps nothing built from a record read after its revision changed', async () => {
    const storage = new MemoryStorage();
    const first = {};
    let revision: object = first;
    let reads = 0;
    const write = (redirectUri: string) => storage.adapterFor('Client').upsert('tpp-1', { client_id: 'tpp-1', client_secret: 'a secret of the test', redirect_uris: [redirectUri] });
    const adapter = (name: string): RecordAdapter => {
      const stored = storage.adapterFor(name);
      return name === 'Client'
        ? {
          ...stored,
          find: async (id) => {
            reads += 1;
            // A write lands while the first look-up is under way.
            if (reads === 1) {
              await write('https://tpp.example/two');
              revision = {};
            }
            return stored.find(id);
          },
        }
        : stored;
    };
    const provider = new Provider('https://bank.example/oauth2', { adapter } as unknown as ConstructorParameters<typeof Provider>[1]);
    reuseBuiltClients(provider, () => revision);
    const find = async (id: string) => await (provider.Client as unknown as { find(id: string): Promise<Found> }).find(id);
    await write('https://tpp.example/one');
    expect((await find('tpp-1'))?.redirectUris).to.deep.equal(['https://tpp.example/two']);
    // A storage answering the first revision again (a replica behind, say) finds nothing kept under it.
    revision = first;
    await find('tpp-1');
    expect(reads).to.equal(2);
  });

  it('reads the record at every look-up when the storage tells no revision', async () => {
    const { find, write, reads } = setup(false);
    await write('https://tpp.example/one');
    for (let i = 1; i <= 3; i += 1) {
      expect((await find('tpp-1'))?.clientId).to.equal('tpp-1');
      expect(reads()).to.equal(i);
    }
  });

  it('keeps nothing of a look-up that failed: metadata oidc-provider refuses is refused each time, and its fix is found', async () => {
    const { find, write, reads } = setup(true);
    await write('not a URI');
    for (let i = 1; i <= 2; i += 1) {
      let failure: unknown;
      await find('tpp-1').catch((error: unknown) => { failure = error; });
      expect((failure as { error?: string } | undefined)?.error).to.equal('invalid_redirect_uri');
      expect(reads()).to.equal(i);
    }
    await write('https://tpp.example/fixed');
    expect((await find('tpp-1'))?.redirectUris).to.deep.equal(['https://tpp.example/fixed']);
  });
});
