/**
 * The stored payment authorizations and their one decision each: what the authorization endpoint,
 * the PSU pages and the bank's payment API all read and decide through. It needs the storage and
 * the server's clock only, so it is built before the provider that checks payment links with it.
 */
import type { AdapterPayload } from 'oidc-provider';
import { z } from 'zod';

import type { EnvironmentName } from '../certificates/identity.js';
import { epochSeconds } from '../clock.js';
import { LANGUAGES } from '../language.js';
import type { Logger } from '../logger.js';
import type { ResolvedOptions } from '../options/index.js';
import type { Storage } from '../storage.js';
import { authorizationDetailSchema, PAYMENT_TYPES } from './details.js';
import { expiredAt, outcomeOf, stateOf } from './status.js';
import type { DecidedStatus, DecidingPsu, PaymentAuthorizationState, PaymentRecord } from './types.js';

/** How long a decided authorization stays readable through {@link PaymentRecords.statusOf}. */
const OUTCOME_RETENTION = 86_400;

/** Ids as the storage issued them; anything else is known to be no authorization. */
const RECORD_ID = /^[\x21-\x7e]{1,200}$/;

const ENVIRONMENTS = ['sandbox', 'bank'] as const satisfies readonly EnvironmentName[];

/** A stored record as this server writes it, checked again whenever it is read. */
const recordSchema = z.object({
  type: z.enum(PAYMENT_TYPES),
  clientId: z.string(),
  environment: z.enum(ENVIRONMENTS),
  detail: authorizationDetailSchema,
  redirectUri: z.string(),
  state: z.string().optional(),
  language: z.enum(LANGUAGES),
  createdAt: z.number(),
  expiresAt: z.number(),
  outcome: z.object({
    status: z.enum(['confirmed', 'rejected', 'expired']),
    decidedAt: z.number(),
    psuId: z.string().optional(),
    scaTime: z.number().optional(),
  }).optional(),
}) satisfies z.ZodType<PaymentRecord, unknown>;

/** The record as the storage's payload: a copy of its fields. */
function payloadOf(record: PaymentRecord): AdapterPayload {
  return Object.assign<AdapterPayload, PaymentRecord>({}, record);
}

export type PaymentRecordOptions = Pick<ResolvedOptions, 'now' | 'payments' | 'pages'>;

export class PaymentRecords {
  readonly #storage: Storage;
  readonly #records;
  readonly #options: PaymentRecordOptions;
  readonly #logger: Logger;
  /** Seconds a record (and its pushed request) is kept: its lifetime, the PSU's pages, then its outcome. */
  readonly ttl: number;

  constructor(storage: Storage, options: PaymentRecordOptions, logger: Logger) {
    this.#storage = storage;
    this.#records = storage.adapterFor('PaymentAuthorization');
    this.#options = options;
    this.#logger = logger;
    this.ttl = options.payments.requestLifetime + options.pages.interactionLifetime + OUTCOME_RETENTION;
  }

  /** Seconds since the epoch, on the server's clock. */
  now(): number {
    return epochSeconds(this.#options.now);
  }

  /** Stores a new authorization. */
  async create(id: string, record: PaymentRecord): Promise<void> {
    await this.#records.upsert(id, payloadOf(record), this.ttl);
  }

  /** The stored authorization, checked again. */
  async record(id: string): Promise<PaymentRecord | undefined> {
    if (!RECORD_ID.test(id)) return undefined;
    const parsed = recordSchema.safeParse(await this.#records.find(id));
    return parsed.success ? parsed.data : undefined;
  }

  /** True for the first visit of an authorization's URL only. */
  async firstVisit(id: string): Promise<boolean> {
    return (await this.#storage.incrementCounter(`payment-visit:${id}`, this.ttl)) === 1;
  }

  isExpired(record: PaymentRecord): boolean {
    return expiredAt(record, this.now());
  }

  /**
   * Records the outcome of authorization `id` (its `record` as the caller read it) and tells the
   * bank, once per authorization whatever the concurrency. False when it was decided already.
   */
  async decide(id: string, record: PaymentRecord, status: DecidedStatus, psu?: DecidingPsu): Promise<boolean> {
    if (record.outcome) return false;
    if (await this.#storage.incrementCounter(`payment-decision:${id}`, this.ttl) !== 1) return false;
    const decidedAt = this.now();
    const outcome = {
      status,
      decidedAt,
      ...(psu ? { psuId: psu.psuId } : {}),
      ...(psu?.scaTime !== undefined ? { scaTime: psu.scaTime } : {}),
    };
    const remaining = Math.max(1, record.createdAt + this.ttl - decidedAt);
    try {
      await this.#records.upsert(id, payloadOf({ ...record, outcome }), remaining);
    } catch (error) {
      // Not recorded: the decision is open again.
      await this.#storage.resetCounter(`payment-decision:${id}`).catch(() => undefined);
      throw error;
    }
    this.#logger.info({ event: `payment.${status}`, paymentAuthorization: id, type: record.type, clientId: record.clientId, paymentId: record.detail.paymentId, ...(psu ? { psu: psu.psuId } : {}) }, `payment authorization ${status}`);
    const notify = this.#options.payments.onOutcome;
    if (notify) {
      try {
        await notify(outcomeOf(id, { ...record, outcome }));
      } catch (error) {
        this.#logger.error({ err: error, event: 'payment.notification_failed', paymentAuthorization: id, status }, 'the bank\'s payment outcome handler failed; the outcome stays readable with payments.statusOf');
      }
    }
    return true;
  }

  /** Where an authorization stands; an expired one is decided (and told) as such on the way. */
  async statusOf(id: string): Promise<PaymentAuthorizationState | undefined> {
    let record = await this.record(id);
    if (record && !record.outcome && this.isExpired(record)) {
      await this.decide(id, record, 'expired');
      record = await this.record(id);
    }
    return record ? stateOf(id, record) : undefined;
  }
}
