/**
 * MemoryStorage rewrites a live record in place: an index is touched only for a field that
 * changed. A record rewritten under another grant, client, PSU, organization or uid is found
 * through the new ones only, and the old ones keep nothing of it.
 */
import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';

describe('MemoryStorage rewrites', () => {
  it('moves a token from one grant and client to another: revoking or removing the old ones leaves it', async () => {
    const storage = new MemoryStorage();
    const tokens = storage.adapterFor('AccessToken');
    await tokens.upsert('token', { grantId: 'grant-a', clientId: 'tpp-a' }, 300);
    const before = storage.counts.indexEntries;
    await tokens.upsert('token', { grantId: 'grant-b', clientId: 'tpp-b' }, 300);
    expect(storage.counts.indexEntries, 'the old entries replaced, not added to').to.equal(before);

    await tokens.revokeByGrantId('grant-a');
    await storage.removeClient('tpp-a');
    expect(await tokens.find('token')).to.deep.equal({ grantId: 'grant-b', clientId: 'tpp-b' });

    await tokens.revokeByGrantId('grant-b');
    expect(await tokens.find('token')).to.equal(undefined);
    expect(storage.counts.indexEntries).to.equal(0);
  });

  it('moves a grant from one PSU to another, and a client from one organization to another', async () => {
    const storage = new MemoryStorage();
    await storage.adapterFor('Grant').upsert('grant', { accountId: 'psu-a', clientId: 'tpp' }, undefined);
    await storage.adapterFor('Grant').upsert('grant', { accountId: 'psu-b', clientId: 'tpp' }, undefined);
    expect(await storage.grantIdsOf('psu-a')).to.deep.equal([]);
    expect(await storage.grantIdsOf('psu-b')).to.deep.equal(['grant']);

    const clients = storage.adapterFor('Client');
    await clients.upsert('tpp', { client_id: 'tpp', provider_legal_id: 'PSDFR-ACPR-1' }, undefined);
    await clients.upsert('tpp', { client_id: 'tpp', provider_legal_id: 'PSDFR-ACPR-2' }, undefined);
    expect(await storage.clientIdsOf('PSDFR-ACPR-1')).to.deep.equal([]);
    expect(await storage.clientIdsOf('PSDFR-ACPR-2')).to.deep.equal(['tpp']);
  });

  it('finds a record rewritten under a new uid by that uid only', async () => {
    const storage = new MemoryStorage();
    const sessions = storage.adapterFor('Session');
    await sessions.upsert('session', { uid: 'uid-a', accountId: 'psu' }, 300);
    await sessions.upsert('session', { uid: 'uid-b', accountId: 'psu' }, 300);
    expect(await sessions.findByUid('uid-a')).to.equal(undefined);
    expect(await sessions.findByUid('uid-b')).to.deep.equal({ uid: 'uid-b', accountId: 'psu' });
    await sessions.destroy('session');
    expect(await sessions.findByUid('uid-b')).to.equal(undefined);
  });
});
