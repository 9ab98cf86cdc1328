import { UnsecuredJWT } from 'jose';
import type Provider from 'oidc-provider';
import { z } from 'zod';

import type { Storage } from '../storage.js';
import type { EnvironmentName } from '../certificates/identity.js';
import { pickLanguage, type Language } from '../language.js';
import type { Logger } from '../logger.js';
import type { ResolvedOptions } from '../options/index.js';
import {
  authorizationDetail,
  authorizationDetailSchema,
  firstProblem,
  paymentDetailsSchema,
  type PaymentAuthorizationDetail,
  type PaymentDetails,
  type PaymentType,
} from './details.js';

/** What the bank's payment API asks for when the PISP has submitted a payment or its cancellation. */
export interface PaymentAuthorizationRequest {
  /** The PISP's client id (RFC 7591), as the payment API knows it from the PISP's certificate. */
  readonly clientId: string;
  readonly payment: PaymentDetails;
  /** Where the PSU goes back to: one of the client's registered redirect URIs. */
  readonly redirectUri: string;
  /** The PISP's `state`, returned to it with the PSU. */
  readonly state?: string | undefined;
  /** The PSU's language (`de`, `en`, `fr`; others fall back to `pages.defaultLanguage`). */
  readonly language?: string | undefined;
  /**
   * The PISP's PKCE S256 `code_challenge`, when it wants to redeem the code with a verifier.
   * Without it, a PISP may append its own `code_challenge` and `code_challenge_method=S256` to `url`.
   */
  readonly codeChallenge?: string | undefined;
}

/** An authorization opened for the PSU: the payment API returns `url` to the PISP. */
export interface OpenedPaymentAuthorization {
  /** Identifies the authorization in {@link Payments.statusOf} and in the outcome. */
  readonly id: string;
  /** Where the PISP sends the PSU; usable once, until `expiresAt`. */
  readonly url: string;
  readonly expiresAt: Date;
  readonly authorizationDetails: readonly PaymentAuthorizationDetail[];
}

export type PaymentStatus = 'pending' | 'confirmed' | 'rejected' | 'expired';

/** What the PSU decided, told to the bank's payment API once per authorization. */
export interface PaymentOutcome {
  readonly id: string;
  readonly type: PaymentType;
  /** The payment's id in the bank, as given when the authorization was opened. */
  readonly paymentId: string;
  readonly clientId: string;
  readonly status: Exclude<PaymentStatus, 'pending'>;
  readonly decidedAt: Date;
  /**
   * The PSU who decided, as far as the PSU signed in: absent when it expired or when the PSU
   * walked away before signing in (or named only, when it left at the second factor).
   */
  readonly psuId?: string;
  /** Time of the PSU's strong customer authentication, when the PSU decided after it (always for confirmed payments). */
  readonly scaTime?: Date;
  readonly authorizationDetails: readonly PaymentAuthorizationDetail[];
}

/** Where an authorization stands. */
export interface PaymentAuthorizationState {
  readonly id: string;
  readonly type: PaymentType;
  readonly paymentId: string;
  readonly clientId: string;
  readonly status: PaymentStatus;
  readonly expiresAt: Date;
  readonly outcome?: PaymentOutcome;
}

/** For the bank's payment API: payment authorizations by the PSU, through the PSU pages. */
export interface Payments {
  /** Opens the PSU's authorization of a payment initiation. */
  openInitiation(request: PaymentAuthorizationRequest): Promise<OpenedPaymentAuthorization>;
  /** Opens the PSU's authorization of the cancellation of a payment. */
  openCancellation(request: PaymentAuthorizationRequest): Promise<OpenedPaymentAuthorization>;
  /** Where an authorization stands; an expired one is decided (and told) as such on the way. */
  statusOf(id: string): Promise<PaymentAuthorizationState | undefined>;
}

/** A payment authorization the bank's payment API cannot open, with an OAuth 2 error code. */
export class PaymentRequestError extends Error {
  constructor(
    readonly code: 'invalid_request' | 'invalid_client' | 'unauthorized_client' | 'invalid_redirect_uri',
    message: string,
  ) {
    super(message);
    this.name = 'PaymentRequestError';
  }
}

/** The stored authorization (model `PaymentAuthorization`). */
export interface PaymentRecord {
  readonly type: PaymentType;
  readonly clientId: string;
  readonly environment: EnvironmentName;
  readonly detail: PaymentAuthorizationDetail;
  readonly redirectUri: string;
  readonly state?: string;
  readonly language: Language;
  /** Seconds since the epoch. */
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly outcome?: { readonly status: Exclude<PaymentStatus, 'pending'>; readonly decidedAt: number; readonly psuId?: string; readonly scaTime?: number };
}

/** How long a decided authorization stays readable through {@link Payments.statusOf}. */
const OUTCOME_RETENTION = 86_400;

const requestSchema = z.strictObject({
  clientId: z.string({ error: 'clientId must be a string' }).min(1, 'clientId must not be empty').max(255),
  payment: paymentDetailsSchema,
  redirectUri: z.string({ error: 'redirectUri must be a string' }).min(1, 'redirectUri must not be empty').max(2000),
  state: z.string({ error: 'state must be a string' }).max(2000).regex(/^[\x20-\x7e]*$/, 'state must be printable ASCII').optional(),
  language: z.string({ error: 'language must be a string' }).max(35).optional(),
  codeChallenge: z.string({ error: 'codeChallenge must be a string' }).regex(/^[A-Za-z0-9_-]{43}$/, 'codeChallenge must be a base64url SHA-256 PKCE challenge (S256)').optional(),
});

interface ClientLike {
  clientId: string;
  scope?: string;
  metadata(): Record<string, unknown>;
  grantTypeAllowed(type: string): boolean;
  redirectUriAllowed(uri: string): boolean;
}

export interface PaymentHooks {
  isSuspended(organization: string): Promise<boolean>;
}

/**
 * Payment authorizations: each is an RFC 9126 pushed authorization request made by the server
 * itself (scope `pisp`, RFC 9396 `authorization_details`, the resource of the payment API), plus a
 * record of its outcome. The PSU's browser carries only its id; the pages show and confirm what
 * is stored.
 */
export class PaymentAuthorizations implements Payments {
  readonly #records;
  readonly #recordTtl: number;

  constructor(
    private readonly provider: Provider,
    private readonly storage: Storage,
    private readonly options: ResolvedOptions,
    private readonly logger: Logger,
    private readonly hooks: PaymentHooks,
  ) {
    this.#records = storage.adapterFor('PaymentAuthorization');
    this.#recordTtl = options.payments.requestLifetime + options.pages.interactionLifetime + OUTCOME_RETENTION;
  }

  #now(): number {
    return Math.floor(this.options.now().getTime() / 1000);
  }

  openInitiation(request: PaymentAuthorizationRequest): Promise<OpenedPaymentAuthorization> {
    return this.#open('payment_initiation', request);
  }

  openCancellation(request: PaymentAuthorizationRequest): Promise<OpenedPaymentAuthorization> {
    return this.#open('payment_cancellation', request);
  }

  async #open(type: PaymentType, input: PaymentAuthorizationRequest): Promise<OpenedPaymentAuthorization> {
    const parsed = requestSchema.safeParse(input);
    if (!parsed.success) throw new PaymentRequestError('invalid_request', firstProblem(parsed.error));
    const request = parsed.data;
    const client = await this.provider.Client.find(request.clientId) as unknown as ClientLike | undefined;
    if (!client) throw new PaymentRequestError('invalid_client', `no client is registered as ${request.clientId}`);
    const metadata = client.metadata();
    const environment = metadata.psd2_environment as EnvironmentName;
    const entryPath = environment === 'sandbox' ? this.options.sandbox?.entryPath : environment === 'bank' ? this.options.bank?.entryPath : undefined;
    if (!entryPath) throw new PaymentRequestError('unauthorized_client', `the client is registered in the ${String(environment)} environment, which this server does not serve`);
    if (!String(metadata.scope ?? '').split(' ').includes('pisp')) {
      throw new PaymentRequestError('unauthorized_client', 'the client may not initiate payments: its certificate had no PSP_PI role when it registered');
    }
    if (!client.grantTypeAllowed('authorization_code')) {
      throw new PaymentRequestError('unauthorized_client', 'the client has not registered the authorization_code grant type, needed to send the PSU back to it');
    }
    if (!client.redirectUriAllowed(request.redirectUri)) {
      throw new PaymentRequestError('invalid_redirect_uri', 'redirectUri is not one of the client\'s registered redirect URIs');
    }
    const organization = metadata.provider_legal_id;
    if (typeof organization === 'string' && await this.hooks.isSuspended(organization)) {
      throw new PaymentRequestError('unauthorized_client', `the bank has suspended ${organization}`);
    }
    const language = pickLanguage(request.language ? [request.language] : [], this.options.pages.languages, this.options.pages.defaultLanguage);
    const detail = authorizationDetail(type, request.payment);
    const lifetime = this.options.payments.requestLifetime;
    // The request object is checked by oidc-provider against the system clock.
    const issuedAt = Math.floor(Date.now() / 1000);
    const requestObject = new UnsecuredJWT({
      client_id: client.clientId,
      response_type: 'code',
      redirect_uri: request.redirectUri,
      scope: 'pisp',
      ui_locales: language,
      authorization_details: [detail],
      resource: this.options.payments.resource,
      // No state: it stays in the record and goes back to the PISP only with a request known to be
      // its own (provider.ts), never with the error about a URL whose client_id was changed.
      ...(request.codeChallenge ? { code_challenge: request.codeChallenge, code_challenge_method: 'S256' } : {}),
    }).setIssuer(client.clientId).setAudience(this.options.issuer).setIssuedAt(issuedAt).setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + lifetime).encode();
    const PushedAuthorizationRequest = this.provider.PushedAuthorizationRequest as unknown as new (payload: object) => { save(ttl: number): Promise<string>; destroy(): Promise<void> };
    const pushed = new PushedAuthorizationRequest({ request: requestObject, trusted: true });
    const id = await pushed.save(this.#recordTtl);
    const createdAt = this.#now();
    const record: PaymentRecord = {
      type,
      clientId: client.clientId,
      environment,
      detail,
      redirectUri: request.redirectUri,
      ...(request.state !== undefined ? { state: request.state } : {}),
      language,
      createdAt,
      expiresAt: createdAt + lifetime,
    };
    try {
      await this.#records.upsert(id, record as unknown as Record<string, unknown>, this.#recordTtl);
    } catch (error) {
      await pushed.destroy().catch(() => undefined);
      throw error;
    }
    // Tell the bank when nobody decided in time (the first of this timer, a PSU coming late, or
    // statusOf wins; each decides at most once).
    setTimeout(() => {
      this.statusOf(id).catch((error: unknown) => this.logger.error({ err: error, event: 'payment.expiry_failed', paymentAuthorization: id }, 'could not record the expiry of a payment authorization'));
    }, (lifetime + 1) * 1000).unref();
    this.logger.info({ event: 'payment.opened', paymentAuthorization: id, type, clientId: client.clientId, paymentId: detail.paymentId }, 'payment authorization opened');
    const entry = entryPath.includes('{lang}') ? entryPath.replace('{lang}', language) : entryPath;
    const url = new URL(`${this.options.issuer}${entry}`);
    url.searchParams.set('client_id', client.clientId);
    url.searchParams.set('request_uri', `urn:ietf:params:oauth:request_uri:${id}`);
    return { id, url: url.href, expiresAt: new Date((createdAt + lifetime) * 1000), authorizationDetails: [detail] };
  }

  /** The stored authorization, its detail checked again. */
  async record(id: string): Promise<PaymentRecord | undefined> {
    if (!/^[\x21-\x7e]{1,200}$/.test(id)) return undefined;
    const payload = await this.#records.find(id) as unknown as PaymentRecord | undefined;
    if (!payload || !authorizationDetailSchema.safeParse(payload.detail).success) return undefined;
    return payload;
  }

  /** True for the first visit of an authorization's URL only. */
  async firstVisit(id: string): Promise<boolean> {
    return (await this.storage.incrementCounter(`payment-visit:${id}`, this.#recordTtl)) === 1;
  }

  isExpired(record: PaymentRecord): boolean {
    return this.#now() >= record.expiresAt;
  }

  /**
   * Records the outcome of authorization `id` (its `record` as the caller read it) and tells the
   * bank, once per authorization whatever the concurrency. False when it was decided already.
   */
  async decide(id: string, record: PaymentRecord, status: Exclude<PaymentStatus, 'pending'>, psu?: { readonly psuId: string; readonly scaTime?: number }): Promise<boolean> {
    if (record.outcome) return false;
    if (await this.storage.incrementCounter(`payment-decision:${id}`, this.#recordTtl) !== 1) return false;
    const decidedAt = this.#now();
    const outcome = {
      status,
      decidedAt,
      ...(psu ? { psuId: psu.psuId } : {}),
      ...(psu?.scaTime !== undefined ? { scaTime: psu.scaTime } : {}),
    };
    const remaining = Math.max(1, record.createdAt + this.#recordTtl - decidedAt);
    try {
      await this.#records.upsert(id, { ...record, outcome } as unknown as Record<string, unknown>, remaining);
    } catch (error) {
      // Not recorded: the decision is open again.
      await this.storage.resetCounter(`payment-decision:${id}`).catch(() => undefined);
      throw error;
    }
    const event = this.#outcomeOf(id, { ...record, outcome });
    this.logger.info({ event: `payment.${status}`, paymentAuthorization: id, type: record.type, clientId: record.clientId, paymentId: record.detail.paymentId, ...(psu ? { psu: psu.psuId } : {}) }, `payment authorization ${status}`);
    const notify = this.options.payments.onOutcome;
    if (notify) {
      try {
        await notify(event);
      } catch (error) {
        this.logger.error({ err: error, event: 'payment.notification_failed', paymentAuthorization: id, status }, 'the bank\'s payment outcome handler failed; the outcome stays readable with payments.statusOf');
      }
    }
    return true;
  }

  #outcomeOf(id: string, record: PaymentRecord): PaymentOutcome {
    const outcome = record.outcome!;
    return {
      id,
      type: record.type,
      paymentId: record.detail.paymentId,
      clientId: record.clientId,
      status: outcome.status,
      decidedAt: new Date(outcome.decidedAt * 1000),
      ...(outcome.psuId ? { psuId: outcome.psuId } : {}),
      ...(outcome.scaTime !== undefined ? { scaTime: new Date(outcome.scaTime * 1000) } : {}),
      authorizationDetails: [record.detail],
    };
  }

  async statusOf(id: string): Promise<PaymentAuthorizationState | undefined> {
    let record = await this.record(id);
    if (record && !record.outcome && this.isExpired(record)) {
      await this.decide(id, record, 'expired');
      record = await this.record(id);
    }
    if (!record) return undefined;
    return {
      id,
      type: record.type,
      paymentId: record.detail.paymentId,
      clientId: record.clientId,
      status: record.outcome?.status ?? 'pending',
      expiresAt: new Date(record.expiresAt * 1000),
      ...(record.outcome ? { outcome: this.#outcomeOf(id, record) } : {}),
    };
  }
}
