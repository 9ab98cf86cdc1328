/**
 * The PSU's decision on a payment page: confirmed, rejected, cancelled or too late, the debtor
 * account the PSU must hold, a TPP the bank suspended meanwhile. Each authorization is decided
 * once whatever the number of concurrent posts; the page only shows where the decision leads.
 */
import { PSU_REFUSALS } from '../consent.js';
import type { PsuAccount } from '../psu.js';
import type { PaymentAuthorizationDetail } from './details.js';
import type { PaymentRecords } from './records.js';
import type { DecidingPsu } from './types.js';

/** What the TPP reads when the payment's lifetime ran out before the PSU decided. */
export const EXPIRED_PAYMENT = 'the payment authorization expired before the PSU decided';

/** What the PSU is asked about: a payment, or the cancellation of one. */
export function paymentKind(detail: PaymentAuthorizationDetail): 'payment' | 'cancellation' {
  return detail.type === 'payment_cancellation' ? 'cancellation' : 'payment';
}

/** What the TPP is told when the PSU says no. */
export function rejectedPayment(detail: PaymentAuthorizationDetail): string {
  return `the PSU rejected the ${paymentKind(detail)}`;
}

/** Where the PSU's answer leads. */
export type PaymentDecision =
  /** Rejected by the PSU now: back to the TPP with `access_denied`. */
  | { readonly kind: 'rejected'; readonly description: string }
  /** Decided otherwise (expired, or rejected in another tab): back to the TPP with `access_denied`. */
  | { readonly kind: 'denied'; readonly description: string }
  /** Back to the TPP with `unauthorized_client`: the bank suspended it. */
  | { readonly kind: 'suspended'; readonly description: string }
  /** The PSU does not hold the account to debit: the page says so and offers only rejecting. */
  | { readonly kind: 'debtor_not_held' }
  /** Confirmed and told to the bank: the PSU's grant follows, for the account debited when named. */
  | { readonly kind: 'confirmed'; readonly debtor: PsuAccount | undefined }
  /** Another request is confirming: back to the page, which carries on to the TPP once it is through. */
  | { readonly kind: 'pending' }
  /** Not an authorization of this client. */
  | { readonly kind: 'unknown' };

/** Where the PSU's answer leads when no grant follows. */
export type UngrantedDecision = Exclude<PaymentDecision, { kind: 'confirmed' }>;

/** The payment of an interaction: its authorization's id and what it asks. */
export interface PaymentAtHand {
  readonly id: string;
  readonly detail: PaymentAuthorizationDetail;
}

/** What the PSU answered on the payment page, with what deciding may have to read. */
export interface PaymentAnswer {
  readonly payment: PaymentAtHand;
  readonly clientId: string;
  readonly psu: Required<DecidingPsu>;
  readonly confirmed: boolean;
  /** The accounts the PSU holds (read only when the payment names the account to debit). */
  accounts(): Promise<readonly PsuAccount[]>;
  /** Whether the bank suspended the TPP meanwhile. */
  suspended(): Promise<boolean>;
}

const denied = (description: string): UngrantedDecision => ({ kind: 'denied', description });

/** The account among `accounts` that the payment debits, by IBAN. */
export function debtorAccountOf(detail: PaymentAuthorizationDetail, accounts: readonly PsuAccount[]): PsuAccount | undefined {
  const iban = detail.debtorAccount?.iban;
  return iban === undefined ? undefined : accounts.find((account) => account.iban?.replace(/\s+/g, '').toUpperCase() === iban);
}

/**
 * The payment was decided by another request. A confirmation ends the interaction in the request
 * that made it; a rejection in another tab, or an expiry that statusOf or the expiry timer
 * recorded, sends the PSU back with access_denied.
 */
export async function decidedElsewhere(records: PaymentRecords, payment: PaymentAtHand): Promise<UngrantedDecision> {
  const status = (await records.record(payment.id))?.outcome?.status;
  if (status === undefined || status === 'confirmed') return { kind: 'pending' };
  return denied(status === 'expired' ? EXPIRED_PAYMENT : rejectedPayment(payment.detail));
}

/**
 * The PSU's confirmation or rejection, recorded and told to the bank once. The TPP gets a code
 * for a confirmed payment, access_denied otherwise.
 */
export async function decidePayment(records: PaymentRecords, answer: PaymentAnswer): Promise<PaymentDecision> {
  const { id, detail } = answer.payment;
  const record = await records.record(id);
  if (!record || record.clientId !== answer.clientId) return { kind: 'unknown' };
  if (record.outcome) return decidedElsewhere(records, answer.payment);
  if (records.isExpired(record)) {
    await records.decide(id, record, 'expired');
    return denied(EXPIRED_PAYMENT);
  }
  if (!answer.confirmed) {
    if (!await records.decide(id, record, 'rejected', answer.psu)) return decidedElsewhere(records, answer.payment);
    return { kind: 'rejected', description: rejectedPayment(detail) };
  }
  let debtor: PsuAccount | undefined;
  if (detail.debtorAccount) {
    debtor = debtorAccountOf(detail, await answer.accounts());
    if (!debtor) return { kind: 'debtor_not_held' };
  }
  if (await answer.suspended()) return { kind: 'suspended', description: PSU_REFUSALS.suspended };
  if (!await records.decide(id, record, 'confirmed', answer.psu)) return decidedElsewhere(records, answer.payment);
  return { kind: 'confirmed', debtor };
}

/**
 * The PSU walked away ("Cancel and return"): the payment is rejected, once (a second tab may have
 * decided already), or expired when its lifetime is over. `psu` is who the PSU is as far as they
 * signed in.
 */
export async function cancelPayment(records: PaymentRecords, payment: PaymentAtHand, psu: DecidingPsu | undefined): Promise<UngrantedDecision> {
  const record = await records.record(payment.id);
  const expired = record !== undefined && records.isExpired(record);
  if (!record || !await records.decide(payment.id, record, expired ? 'expired' : 'rejected', expired ? undefined : psu)) {
    return decidedElsewhere(records, payment);
  }
  return denied(expired ? EXPIRED_PAYMENT : rejectedPayment(payment.detail));
}

/** What the grant of a confirmed payment holds besides the PSU's consent. */
export function paymentGrant(detail: PaymentAuthorizationDetail, resource: string): { readonly scope: 'pisp'; readonly resource: string; readonly detail: PaymentAuthorizationDetail } {
  return { scope: 'pisp', resource, detail };
}
