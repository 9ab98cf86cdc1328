/**
 * Writes the clients and grants of the growth test through RedisStorage, as the server would have,
 * in a process of its own (so that the driver, which is also the load generator, does not carry
 * the garbage of a million writes into the "after" measurement). Started by bench/run.ts; takes a
 * PopulateRequest message and answers progress lines and a PopulateResult.
 */
import { randomBytes } from 'node:crypto';

import type { AdapterPayload } from 'oidc-provider';
import { createClient } from 'redis';

import { RedisStorage } from '../adapters/redis/storage.js';

export interface PopulateRequest {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  /** The registered client whose metadata the written clients copy. */
  readonly clientId: string;
  readonly clients: number;
  readonly grants: number;
}

export type PopulateMessage =
  | { readonly type: 'progress'; readonly line: string }
  | { readonly type: 'done'; readonly seconds: number; readonly benchClients: string[] }
  | { readonly type: 'failed'; readonly message: string };

function send(message: PopulateMessage): void {
  process.send?.(message);
}

async function populate(request: PopulateRequest): Promise<void> {
  const client = createClient({ url: request.redisUrl });
  client.on('error', (error: Error) => console.error(`populate: Redis: ${error.message}`));
  await client.connect();
  // No subscriber: nothing is kept in memory, every write goes straight to Redis.
  const storage = new RedisStorage(client, { keyPrefix: request.keyPrefix, timeout: 60_000 });
  const template = await storage.adapterFor('Client').find(request.clientId);
  if (!template) throw new Error('the registered client is not in Redis');
  const started = performance.now();
  const benchClients: string[] = [];
  const clientIds: string[] = [];
  const organization = String(template.provider_legal_id);
  const clientAdapter = storage.adapterFor('Client');
  for (let i = 0; i < request.clients; i += 1) {
    const id = `bench-client-${i}`;
    // One client in ten belongs to the benchmark's TPP (and accepts its certificate); the others to 1 000 other TPPs.
    const own = i % 10 === 0;
    const metadata = { ...template, client_id: id, client_name: `Client ${i}`, ...(own ? {} : { provider_legal_id: `PSDFR-NCA-POP${Math.floor(i / 10)}` }) };
    clientIds.push(id);
    if (own) benchClients.push(id);
    // Kept without expiry, as registered clients are.
    await clientAdapter.upsert(id, metadata);
  }
  send({ type: 'progress', line: `${request.clients.toLocaleString('en')} clients written in ${((performance.now() - started) / 1000).toFixed(1)} s (${organization} owns ${benchClients.length})` });

  const grantAdapter = storage.adapterFor('Grant');
  const now = Math.floor(Date.now() / 1000);
  const ttl = 210 * 24 * 3600;
  let next = 0;
  let done = 0;
  let reported = 0;
  const step = Math.max(1, Math.floor(request.grants / 10));
  const grantsStarted = performance.now();
  await Promise.all(Array.from({ length: 256 }, async () => {
    while (next < request.grants) {
      const index = next;
      next += 1;
      const id = randomBytes(16).toString('base64url');
      // A grant as the product saves it: PSU, client, scope, and the PSD2 consent record.
      const payload: AdapterPayload = {
        kind: 'Grant',
        jti: id,
        iat: now,
        exp: now + ttl,
        accountId: `psu-${index % 100_000}`,
        clientId: clientIds[index % clientIds.length]!,
        openid: { scope: 'aisp' },
        psd2: { environment: 'sandbox', accounts: [{ id: `account-${index % 100_000}`, iban: 'DE89370400440532013000' }], scaTime: now, amr: [] },
      };
      await grantAdapter.upsert(id, payload, ttl);
      done += 1;
      if (done - reported >= step) {
        reported = done;
        const elapsed = (performance.now() - grantsStarted) / 1000;
        send({ type: 'progress', line: `${done.toLocaleString('en')} / ${request.grants.toLocaleString('en')} grants (${Math.round(done / elapsed).toLocaleString('en')}/s, ~${Math.round((request.grants - done) / (done / elapsed))} s left)` });
      }
    }
  }));
  client.destroy();
  send({ type: 'done', seconds: (performance.now() - started) / 1000, benchClients });
}

process.once('message', (request: PopulateRequest) => {
  populate(request).then(() => process.exit(0), (error: unknown) => {
    send({ type: 'failed', message: error instanceof Error ? error.stack ?? error.message : String(error) });
    process.exit(1);
  });
});
