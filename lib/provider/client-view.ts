import type { ClientView } from './internals.js';

/**
 * One of this server's metadata fields of an oidc-provider client, read from the client itself:
 * Client.metadata() renames every key of the client, too much for each request.
 */
export function clientField(client: object | undefined, field: 'provider_legal_id' | 'psd2_environment'): unknown {
  // Extra metadata keeps its name on the client (oidc-provider camel-cases only its own fields).
  return (client as Record<string, unknown> | undefined)?.[field];
}

const VIEW_FIELDS = /^(client_name|logo_uri)(#.+)?$|^(client_id|psd2_environment|provider_legal_id|grant_types)$/;

/** What the PSU pages show and check of a client, kept with each interaction. */
export function clientView(metadata: Record<string, unknown>): ClientView {
  return { metadata: Object.fromEntries(Object.entries(metadata).filter(([name]) => VIEW_FIELDS.test(name))) };
}

/**
 * The view of an oidc-provider client, made once per client object: oidc-provider keeps a client
 * object as long as its metadata stays the same (a changed client is a new object).
 */
const views = new WeakMap<object, ClientView>();
export function clientViewOfClient(client: { metadata(): object }): ClientView {
  let view = views.get(client);
  if (!view) {
    // Shared by every interaction of the client: nobody may change it.
    const metadata = clientView(client.metadata() as Record<string, unknown>).metadata;
    for (const value of Object.values(metadata)) if (typeof value === 'object' && value !== null) Object.freeze(value);
    view = Object.freeze({ metadata: Object.freeze(metadata) });
    views.set(client, view);
  }
  return view;
}
