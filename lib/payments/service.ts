/**
 * The payment authorizations as one object built after the provider: the records, their opening
 * and their status together. The composition root builds the parts in order instead
 * (PaymentRecords, then the provider with them, then createPayments with paymentRequests(provider)),
 * after which this class goes.
 */
import type Provider from 'oidc-provider';

import type { Logger } from '../logger.js';
import type { ResolvedOptions } from '../options/index.js';
import { paymentRequests } from '../provider/internals.js';
import type { Storage } from '../storage.js';
import { createPayments } from './open.js';
import { PaymentRecords } from './records.js';
import type { OpenedPaymentAuthorization, PaymentAuthorizationRequest, Payments } from './types.js';

export type { PaymentRecord, Payments } from './types.js';

/** @deprecated Build {@link PaymentRecords} and {@link createPayments} instead. */
export class PaymentAuthorizations extends PaymentRecords implements Payments {
  readonly #payments: Payments;

  constructor(provider: Provider, storage: Storage, options: ResolvedOptions, logger: Logger, hooks: { isSuspended(organization: string): Promise<boolean> }) {
    super(storage, options, logger);
    this.#payments = createPayments({ records: this, requests: paymentRequests(provider), options, logger, isSuspended: (organization) => hooks.isSuspended(organization) });
  }

  openInitiation(request: PaymentAuthorizationRequest): Promise<OpenedPaymentAuthorization> {
    return this.#payments.openInitiation(request);
  }

  openCancellation(request: PaymentAuthorizationRequest): Promise<OpenedPaymentAuthorization> {
    return this.#payments.openCancellation(request);
  }
}
