/**
 * The payment authorizations as the bank's payment API and the rest of the server see them: what
 * the payment API sends and gets back, the stored record, and the narrow port to the OAuth side
 * that opening one needs.
 */
import type { EnvironmentName } from '../certificates/identity.js';
import type { Language } from '../language.js';
import type { PaymentAuthorizationDetail, PaymentDetails, PaymentType } from './details.js';

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

/** A status once decided. */
export type DecidedStatus = Exclude<PaymentStatus, 'pending'>;

/** What the PSU decided, told to the bank's payment API once per authorization. */
export interface PaymentOutcome {
  readonly id: string;
  readonly type: PaymentType;
  /** The payment's id in the bank, as given when the authorization was opened. */
  readonly paymentId: string;
  readonly clientId: string;
  readonly status: DecidedStatus;
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
  readonly outcome?: { readonly status: DecidedStatus; readonly decidedAt: number; readonly psuId?: string; readonly scaTime?: number };
}

/** The PSU who decided, as far as the PSU signed in; `scaTime` in seconds since the epoch. */
export interface DecidingPsu {
  readonly psuId: string;
  readonly scaTime?: number;
}

/** A registered client as opening a payment authorization reads it. */
export interface PaymentClient {
  readonly clientId: string;
  metadata(): Record<string, unknown>;
  grantTypeAllowed(type: string): boolean;
  redirectUriAllowed(uri: string): boolean;
}

/** The authorization request (RFC 9126, pushed by the server itself) of a payment authorization. */
export interface PaymentPushedRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly language: Language;
  readonly detail: PaymentAuthorizationDetail;
  /** The payment API's resource indicator (RFC 8707). */
  readonly resource: string;
  readonly codeChallenge?: string | undefined;
  /** Seconds the request may be used. */
  readonly lifetime: number;
}

/**
 * What opening a payment authorization needs of the OAuth side: the registered client, and a place
 * for its pushed request. The composition root builds it from the provider.
 */
export interface PaymentRequests {
  client(clientId: string): Promise<PaymentClient | undefined>;
  /** Stores the request for `seconds`; answers its id and a way to take it back. */
  push(request: PaymentPushedRequest, seconds: number): Promise<{ readonly id: string; destroy(): Promise<void> }>;
}
