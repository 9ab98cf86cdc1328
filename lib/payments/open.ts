/**
 * Opening a payment authorization for the bank's payment API: each is an RFC 9126 pushed
 * authorization request made by the server itself (scope `pisp`, RFC 9396 `authorization_details`,
 * the resource of the payment API), plus a record of its outcome. The PSU's browser carries only
 * its id; the pages show and confirm what is stored.
 */
import { z } from 'zod';

import type { EnvironmentName } from '../certificates/identity.js';
import { pickLanguage } from '../language.js';
import type { Logger } from '../logger.js';
import type { ResolvedOptions } from '../options/index.js';
import { authorizationDetail, firstProblem, paymentDetailsSchema, type PaymentType } from './details.js';
import type { PaymentRecords } from './records.js';
import {
  PaymentRequestError,
  type OpenedPaymentAuthorization,
  type PaymentAuthorizationRequest,
  type PaymentClient,
  type PaymentRecord,
  type PaymentRequests,
  type Payments,
} from './types.js';

const requestSchema = z.strictObject({
  clientId: z.string({ error: 'clientId must be a string' }).min(1, 'clientId must not be empty').max(255),
  payment: paymentDetailsSchema,
  redirectUri: z.string({ error: 'redirectUri must be a string' }).min(1, 'redirectUri must not be empty').max(2000),
  state: z.string({ error: 'state must be a string' }).max(2000).regex(/^[\x20-\x7e]*$/, 'state must be printable ASCII').optional(),
  language: z.string({ error: 'language must be a string' }).max(35).optional(),
  codeChallenge: z.string({ error: 'codeChallenge must be a string' }).regex(/^[A-Za-z0-9_-]{43}$/, 'codeChallenge must be a base64url SHA-256 PKCE challenge (S256)').optional(),
});

export type PaymentOpeningOptions = Pick<ResolvedOptions, 'issuer' | 'payments' | 'pages' | 'sandbox' | 'bank'>;

/** What opening a payment authorization works with. */
export interface PaymentOpening {
  readonly records: PaymentRecords;
  readonly requests: PaymentRequests;
  readonly options: PaymentOpeningOptions;
  readonly logger: Logger;
  isSuspended(organization: string): Promise<boolean>;
}

/** The client's entry path, after checking that it may have the PSU authorize a payment. */
async function checkClient(opening: PaymentOpening, client: PaymentClient, redirectUri: string): Promise<{ environment: EnvironmentName; entryPath: string }> {
  const { options } = opening;
  const metadata = client.metadata();
  const environment = metadata.psd2_environment as EnvironmentName;
  const entryPath = environment === 'sandbox' ? options.sandbox?.entryPath : environment === 'bank' ? options.bank?.entryPath : undefined;
  if (!entryPath) throw new PaymentRequestError('unauthorized_client', `the client is registered in the ${String(environment)} environment, which this server does not serve`);
  if (!String(metadata.scope ?? '').split(' ').includes('pisp')) {
    throw new PaymentRequestError('unauthorized_client', 'the client may not initiate payments: its certificate had no PSP_PI role when it registered');
  }
  if (!client.grantTypeAllowed('authorization_code')) {
    throw new PaymentRequestError('unauthorized_client', 'the client has not registered the authorization_code grant type, needed to send the PSU back to it');
  }
  if (!client.redirectUriAllowed(redirectUri)) {
    throw new PaymentRequestError('invalid_redirect_uri', 'redirectUri is not one of the client\'s registered redirect URIs');
  }
  const organization = metadata.provider_legal_id;
  if (typeof organization === 'string' && await opening.isSuspended(organization)) {
    throw new PaymentRequestError('unauthorized_client', `the bank has suspended ${organization}`);
  }
  return { environment, entryPath };
}

/** Opens the PSU's authorization of a payment (`type`) as the bank's payment API asked. */
export async function openPaymentAuthorization(opening: PaymentOpening, type: PaymentType, input: PaymentAuthorizationRequest): Promise<OpenedPaymentAuthorization> {
  const { records, requests, options, logger } = opening;
  const parsed = requestSchema.safeParse(input);
  if (!parsed.success) throw new PaymentRequestError('invalid_request', firstProblem(parsed.error));
  const request = parsed.data;
  const client = await requests.client(request.clientId);
  if (!client) throw new PaymentRequestError('invalid_client', `no client is registered as ${request.clientId}`);
  const { environment, entryPath } = await checkClient(opening, client, request.redirectUri);
  const language = pickLanguage(request.language ? [request.language] : [], options.pages.languages, options.pages.defaultLanguage);
  const detail = authorizationDetail(type, request.payment);
  const lifetime = options.payments.requestLifetime;
  const pushed = await requests.push({
    clientId: client.clientId,
    redirectUri: request.redirectUri,
    language,
    detail,
    resource: options.payments.resource,
    codeChallenge: request.codeChallenge,
    lifetime,
  }, records.ttl);
  const { id } = pushed;
  const createdAt = records.now();
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
    await records.create(id, record);
  } catch (error) {
    await pushed.destroy().catch(() => undefined);
    throw error;
  }
  // Tell the bank when nobody decided in time (the first of this timer, a PSU coming late, or
  // statusOf wins; each decides at most once).
  setTimeout(() => {
    records.statusOf(id).catch((error: unknown) => logger.error({ err: error, event: 'payment.expiry_failed', paymentAuthorization: id }, 'could not record the expiry of a payment authorization'));
  }, (lifetime + 1) * 1000).unref();
  logger.info({ event: 'payment.opened', paymentAuthorization: id, type, clientId: client.clientId, paymentId: detail.paymentId }, 'payment authorization opened');
  const entry = entryPath.includes('{lang}') ? entryPath.replace('{lang}', language) : entryPath;
  const url = new URL(`${options.issuer}${entry}`);
  url.searchParams.set('client_id', client.clientId);
  url.searchParams.set('request_uri', `urn:ietf:params:oauth:request_uri:${id}`);
  return { id, url: url.href, expiresAt: new Date((createdAt + lifetime) * 1000), authorizationDetails: [detail] };
}

/** The payment authorizations the bank's payment API calls. */
export function createPayments(opening: PaymentOpening): Payments {
  return {
    openInitiation: (request) => openPaymentAuthorization(opening, 'payment_initiation', request),
    openCancellation: (request) => openPaymentAuthorization(opening, 'payment_cancellation', request),
    statusOf: (id) => opening.records.statusOf(id),
  };
}
