/**
 * Where a payment authorization stands, as the bank's payment API reads it: pure views of the
 * stored record (times in seconds since the epoch become dates).
 */
import type { PaymentAuthorizationState, PaymentOutcome, PaymentRecord } from './types.js';

/** Whether the authorization's lifetime is over at `now` (seconds since the epoch). */
export function expiredAt(record: Pick<PaymentRecord, 'expiresAt'>, now: number): boolean {
  return now >= record.expiresAt;
}

/** What names an authorization in its state and its outcome. */
function namesOf(id: string, record: PaymentRecord): Pick<PaymentOutcome, 'id' | 'type' | 'paymentId' | 'clientId'> {
  return { id, type: record.type, paymentId: record.detail.paymentId, clientId: record.clientId };
}

/** The outcome of a decided authorization, as told to the bank. */
export function outcomeOf(id: string, record: PaymentRecord & { outcome: NonNullable<PaymentRecord['outcome']> }): PaymentOutcome {
  const { outcome } = record;
  return {
    ...namesOf(id, record),
    status: outcome.status,
    decidedAt: new Date(outcome.decidedAt * 1000),
    ...(outcome.psuId ? { psuId: outcome.psuId } : {}),
    ...(outcome.scaTime !== undefined ? { scaTime: new Date(outcome.scaTime * 1000) } : {}),
    authorizationDetails: [record.detail],
  };
}

/** The state of an authorization, with its outcome once decided. */
export function stateOf(id: string, record: PaymentRecord): PaymentAuthorizationState {
  const { outcome } = record;
  return {
    ...namesOf(id, record),
    status: outcome?.status ?? 'pending',
    expiresAt: new Date(record.expiresAt * 1000),
    ...(outcome ? { outcome: outcomeOf(id, { ...record, outcome }) } : {}),
  };
}
