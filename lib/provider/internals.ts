/**
 * The one module that reaches into oidc-provider beyond its documented configuration: its model
 * classes' stored fields, token id generation, the request context it keeps, and the texts of its
 * errors that the server restates. Each helper is typed here, and test/units/provider-internals
 * pins what it relies on, so that an upgrade of oidc-provider that changes one fails that test
 * first.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { UnsecuredJWT } from 'jose';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

import type { PaymentClient, PaymentPushedRequest, PaymentRequests } from '../payments/types.js';
import type { ServerEvents } from '../events.js';
import type { ConsentRecord } from '../psd2/authorization.js';

/** Field of a grant where the PSD2 consent ({@link ConsentRecord}) is kept. */
export const CONSENT_FIELD = 'psd2';

/** Field of an interaction holding what the PSU pages show and check of the client. */
export const CLIENT_VIEW_FIELD = 'psd2Client';

/** The client metadata the PSU pages use, kept with each interaction. */
export interface ClientView {
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Texts of oidc-provider's errors that the server restates in the words clients rely on. */
export const UPSTREAM_MESSAGES = {
  /** `invalid_request` of the token endpoint for a grant type the client is not registered for. */
  grantTypeNotAllowed: 'requested grant type is not allowed for this client',
  /** `error_detail` of `invalid_grant` for an expired refresh token. */
  refreshTokenExpired: 'refresh token is expired',
} as const;

type ModelClass = { IN_PAYLOAD: string[] };

/** Makes oidc-provider store `field` with every record of `model` (it saves only the fields it lists). */
function storeField(model: unknown, field: string): void {
  const fields = (model as ModelClass).IN_PAYLOAD;
  Object.defineProperty(model, 'IN_PAYLOAD', { configurable: true, get: () => [...fields, field] });
}

/** The grant keeps the PSD2 consent; the interaction keeps the client view of the pages. */
export function storeProductFields(provider: Provider): void {
  storeField(provider.Grant, CONSENT_FIELD);
  storeField(provider.Interaction, CLIENT_VIEW_FIELD);
}

/** The PSD2 consent a grant records, if any. */
export function consentOf(grant: unknown): ConsentRecord | undefined {
  return (grant as Record<string, ConsentRecord | undefined> | undefined)?.[CONSENT_FIELD];
}

/** The client view an interaction recorded as oidc-provider created it, if any. */
export function clientViewOf(interaction: unknown): ClientView | undefined {
  return (interaction as Record<string, ClientView | undefined> | undefined)?.[CLIENT_VIEW_FIELD];
}

/** Records the client view on an interaction being created. */
export function attachClientView(interaction: unknown, view: ClientView): void {
  (interaction as Record<string, ClientView>)[CLIENT_VIEW_FIELD] = view;
}

type TokenClass = { prototype: { generateTokenId(): string; grantId?: unknown } };

/**
 * Makes every code and token id start with `prefix(grantId)` when it is issued under a grant, the
 * random part staying oidc-provider's own.
 */
export function prefixTokenIds(provider: Provider, prefix: (grantId: unknown) => string): void {
  const models = [provider.AccessToken, provider.RefreshToken, provider.AuthorizationCode] as unknown as TokenClass[];
  for (const model of models) {
    const generate = model.prototype.generateTokenId;
    model.prototype.generateTokenId = function generateTokenId(this: { grantId?: unknown }) {
      return `${prefix(this.grantId)}${generate.call(this)}`;
    };
  }
}

/** The request oidc-provider is handling in the current async context (its own async-local storage). */
export function currentContext(): KoaContextWithOIDC | undefined {
  return (Provider as unknown as { ctx?: KoaContextWithOIDC }).ctx;
}

/** Clients kept built at most, the least recently used forgotten first (oidc-provider keeps 100 of its own). */
export const BUILT_CLIENTS = 1000;

/**
 * Serves `Client.find` with the client oidc-provider built from the stored record as it is now,
 * when `revisionOf` tells that the record is the one that client was built from ({@link
 * Storage.recordRevision}): no read, copy, JSON text or hash of the record, which oidc-provider
 * makes at every look-up to find the client it built. Otherwise oidc-provider looks it up as
 * before, and what it built is kept only when the record is still the revision asked for once it
 * is read (a write meanwhile is not put down to the earlier revision).
 */
export function reuseBuiltClients(provider: Provider, revisionOf: (clientId: string) => object | undefined, max = BUILT_CLIENTS): void {
  const model = provider.Client as unknown as { find(id: unknown): Promise<unknown> };
  const find = model.find.bind(model);
  const built = new Map<string, { readonly revision: object; readonly client: unknown }>();
  const keep = (clientId: string, kept: { readonly revision: object; readonly client: unknown }) => {
    built.delete(clientId);
    built.set(clientId, kept);
    if (built.size > max) built.delete(built.keys().next().value as string);
  };
  model.find = async (id: unknown) => {
    if (typeof id !== 'string' || !id) return find(id);
    const revision = revisionOf(id);
    if (revision === undefined) return find(id);
    const known = built.get(id);
    if (known?.revision === revision) {
      keep(id, known);
      return known.client;
    }
    const client = await find(id);
    if (client !== undefined && revisionOf(id) === revision) keep(id, { revision, client });
    return client;
  };
}

/** An authorization code as the token endpoint reads it. */
export interface StoredCode {
  codeChallenge?: unknown;
  codeChallengeMethod?: unknown;
}

/** Lets `inspect` see (and change, for this request only) every code the token endpoint loads. */
export function inspectLoadedCodes(provider: Provider, inspect: (code: StoredCode, ctx: KoaContextWithOIDC | undefined) => void): void {
  const model = provider.AuthorizationCode as unknown as { find(...args: unknown[]): Promise<StoredCode | undefined> };
  const find = model.find.bind(model);
  model.find = async (...args: unknown[]) => {
    const code = await find(...args);
    if (code) inspect(code, currentContext());
    return code;
  };
}

type RegistrationTokenClass = new (payload: { clientId: string; expiresIn: number }) => { save(): Promise<string> };

/** Issues a registration access token for `clientId`, valid `seconds`; answers its value. */
export async function issueRegistrationToken(provider: Provider, clientId: string, seconds: number): Promise<string> {
  const RegistrationAccessToken = provider.RegistrationAccessToken as unknown as RegistrationTokenClass;
  return new RegistrationAccessToken({ clientId, expiresIn: seconds }).save();
}

/** Destroys a registration access token; never fails (it expires on its own anyway). */
export async function destroyRegistrationToken(provider: Provider, value: string): Promise<void> {
  await (await provider.RegistrationAccessToken.find(value).catch(() => undefined))?.destroy().catch(() => undefined);
}

/** oidc-provider's events, including those its type declarations leave out. */
export function providerEvents(provider: Provider): EventEmitter {
  return provider as unknown as EventEmitter;
}

/** oidc-provider's events as the public declarations type them (lib/events.ts). */
export function eventsOf(provider: Provider): ServerEvents {
  return provider as unknown as ServerEvents;
}

/**
 * oidc-provider types an extra parameter's validator as synchronous; it awaits it. The PSD2 rules
 * of an authorization request read the storage.
 */
export function asyncParameterCheck(
  check: (ctx: KoaContextWithOIDC, value: string | undefined) => Promise<void>,
): (ctx: KoaContextWithOIDC, value: string | undefined) => void {
  return check as unknown as (ctx: KoaContextWithOIDC, value: string | undefined) => void;
}

/** The interaction record of the PSU pages' request, as oidc-provider keeps it. */
export interface InteractionRecord {
  uid: string;
  exp: number;
  returnTo: string;
  params: Record<string, unknown>;
  result?: Record<string, unknown>;
  /** The pushed request of a payment authorization: its id. */
  parJti?: string;
  save(ttl: number): Promise<string>;
}

/** The interaction the PSU's browser is in (oidc-provider reads its cookie). */
export async function interactionOf(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<InteractionRecord> {
  return await provider.interactionDetails(req, res) as unknown as InteractionRecord;
}

/** What the server needs of an oidc-provider client. */
export interface ClientRecord {
  clientId: string;
  metadata(): Record<string, unknown>;
  grantTypeAllowed(type: string): boolean;
}

/** A registered client, by its id. */
export async function findClient(provider: Provider, clientId: string): Promise<ClientRecord | undefined> {
  return await provider.Client.find(clientId) as unknown as ClientRecord | undefined;
}

/** A grant as the server reads it back. */
export interface GrantRecord {
  accountId?: string;
  clientId?: string;
  getOIDCScope(): string;
}

/** A stored grant, by its id. */
export async function findGrant(provider: Provider, grantId: string): Promise<GrantRecord | undefined> {
  return await provider.Grant.find(grantId) as unknown as GrantRecord | undefined;
}

/** Destroys a stored grant record (its tokens are revoked apart). */
export async function destroyGrant(provider: Provider, grantId: string): Promise<void> {
  await (provider.Grant as unknown as { adapter: { destroy(id: string): Promise<void> } }).adapter.destroy(grantId);
}

/** A new grant of the PSU's, its id drawn now (saving keeps it), carrying `consent`. */
export function newGrant(
  provider: Provider,
  fields: { accountId: string; clientId: string },
  consent: ConsentRecord,
): { grant: InstanceType<Provider['Grant']>; grantId: string } {
  const grant = new provider.Grant(fields);
  (grant as unknown as Record<string, unknown>)[CONSENT_FIELD] = consent;
  const grantId = (grant as unknown as { generateTokenId(): string }).generateTokenId();
  grant.jti = grantId;
  return { grant, grantId };
}

/** Adds a rich authorization request detail (RFC 9396) to a grant. */
export function addAuthorizationDetail(grant: InstanceType<Provider['Grant']>, detail: object): void {
  grant.addRar(detail as unknown as Parameters<typeof grant.addRar>[0]);
}

type PushedRequestClass = new (payload: object) => { save(ttl: number): Promise<string>; destroy(): Promise<void> };

/** Stores a pushed authorization request (RFC 9126) for `seconds`; answers its id and a way to take it back. */
export async function pushAuthorizationRequest(provider: Provider, payload: object, seconds: number): Promise<{ id: string; destroy(): Promise<void> }> {
  const PushedAuthorizationRequest = provider.PushedAuthorizationRequest as unknown as PushedRequestClass;
  const pushed = new PushedAuthorizationRequest(payload);
  const id = await pushed.save(seconds);
  return { id, destroy: () => pushed.destroy() };
}

// Interactions and grants

/**
 * Seconds left of an interaction's lifetime (at least one). Its `exp` is set on oidc-provider's
 * own clock, the machine's, so what is left of it is counted on that clock too.
 */
function remainingLifetime(interaction: Pick<InteractionRecord, 'exp'>): number {
  return Math.max(1, interaction.exp - Math.floor(Date.now() / 1000));
}

/**
 * Stores `result` in the interaction for the rest of its lifetime: what provider.interactionResult
 * does, without reading the interaction again.
 */
export async function saveInteractionResult(interaction: InteractionRecord, result: Record<string, unknown>): Promise<void> {
  interaction.result = result;
  await interaction.save(remainingLifetime(interaction));
}

/** Whether the interaction ended already, with a grant (`login`) or an error for the TPP. */
export function interactionEnded(interaction: Pick<InteractionRecord, 'result'>): boolean {
  return interaction.result !== undefined && ('login' in interaction.result || 'error' in interaction.result);
}

/** The PSU who signed in, as the end of an interaction reports them. */
export interface SignedInPsu {
  readonly psuId: string;
  /** Time of the strong customer authentication, seconds since the epoch. */
  readonly scaTime: number;
  readonly amr: readonly string[];
}

/** The interaction result that ends it with the PSU's sign-in and grant (oidc-provider's `login` and `consent`). */
export function grantedResult(psu: SignedInPsu, grantId: string): Record<string, unknown> {
  return {
    login: { accountId: psu.psuId, ts: psu.scaTime, amr: [...psu.amr], remember: false },
    consent: { grantId },
  };
}

/** What a PSU's grant holds: the scope, and for a payment its resource and authorization detail. */
export interface GrantContent {
  readonly scope: string;
  readonly resource?: string;
  readonly detail?: object;
}

/**
 * The PSU's grant to `clientId`, carrying `consent`, its id drawn now; `save` stores it (so that the
 * caller can send it together with the interaction's end).
 */
export function mintGrant(provider: Provider, psu: SignedInPsu, clientId: string, content: GrantContent, consent: ConsentRecord): { grantId: string; save(): Promise<string> } {
  const { grant, grantId } = newGrant(provider, { accountId: psu.psuId, clientId }, consent);
  grant.addOIDCScope(content.scope);
  if (content.resource) grant.addResourceScope(content.resource, content.scope);
  if (content.detail) addAuthorizationDetail(grant, content.detail);
  return { grantId, save: () => grant.save() };
}

/** A registered client as opening a payment authorization reads it, by its id. */
async function findPaymentClient(provider: Provider, clientId: string): Promise<PaymentClient | undefined> {
  return await provider.Client.find(clientId) as unknown as PaymentClient | undefined;
}

/**
 * The pushed authorization request of a payment authorization: an unsecured request object
 * (RFC 9101) the server trusts as its own. oidc-provider checks its times against its own clock,
 * the machine's, so they are set on that clock.
 */
async function pushPaymentRequest(provider: Provider, request: PaymentPushedRequest, seconds: number): Promise<{ id: string; destroy(): Promise<void> }> {
  const issuedAt = Math.floor(Date.now() / 1000);
  const requestObject = new UnsecuredJWT({
    client_id: request.clientId,
    response_type: 'code',
    redirect_uri: request.redirectUri,
    scope: 'pisp',
    ui_locales: request.language,
    authorization_details: [request.detail],
    resource: request.resource,
    // No state: it stays in the record and goes back to the PISP only with a request known to be
    // its own, never with the error about a URL whose client_id was changed.
    ...(request.codeChallenge ? { code_challenge: request.codeChallenge, code_challenge_method: 'S256' } : {}),
  }).setIssuer(request.clientId).setAudience(provider.issuer).setIssuedAt(issuedAt).setNotBefore(issuedAt)
    .setExpirationTime(issuedAt + request.lifetime).encode();
  return pushAuthorizationRequest(provider, { request: requestObject, trusted: true }, seconds);
}

/** What opening a payment authorization needs of the provider: the client, and a pushed request. */
export function paymentRequests(provider: Provider): PaymentRequests {
  return {
    client: (clientId) => findPaymentClient(provider, clientId),
    push: (request, seconds) => pushPaymentRequest(provider, request, seconds),
  };
}
