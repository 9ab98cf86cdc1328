/**
 * The bank's payment API, reduced to a demo. A PISP submits a payment, or the cancellation of one,
 * over mutual TLS; the API opens the PSU's authorization with the authorization server's
 * `payments` and answers with the URL where the PISP sends the PSU (`_links.scaRedirect`). The
 * outcome arrives through `onOutcome`. Payments live in memory and are never executed: a real
 * payment API keeps them in its own store and hands confirmed ones to the bank's payment engine.
 */
import { randomBytes } from 'node:crypto';

import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';

import {
  OAuthError,
  PaymentRequestError,
  type AuthorizationServer,
  type OpenedPaymentAuthorization,
  type PaymentOutcome,
  type PaymentStatus,
  type TppIdentity,
} from '../lib/index.js';

/** An error answered as `{ error, error_description }`, like the authorization server's. */
class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, description: string) {
    super(description);
  }
}

/** What the PSU is asked to authorize, as the PISP sends it: the package's request, less the ids. */
const redirectFields = {
  redirectUri: z.string(),
  state: z.string().optional(),
  language: z.string().optional(),
  codeChallenge: z.string().optional(),
};

const initiationSchema = z.strictObject({
  /** Which of the organization's clients; optional when it has one that may initiate payments. */
  clientId: z.string().optional(),
  ...redirectFields,
  payment: z.strictObject({
    amount: z.string(),
    currency: z.string(),
    creditorName: z.string(),
    creditorAccount: z.string(),
    debtorAccount: z.string().optional(),
    remittanceInformation: z.string().optional(),
    requestedExecutionDate: z.string().optional(),
  }),
});

const cancellationSchema = z.strictObject(redirectFields);

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.');
  throw new ApiError(400, 'invalid_request', `${field ? `${field}: ` : ''}${issue?.message ?? 'invalid body'}`);
}

interface DemoPayment {
  readonly paymentId: string;
  readonly clientId: string;
  readonly organization: string;
  /** Ids of the authorizations opened for it. */
  readonly initiation: string;
  cancellation?: string;
}

/** Where a payment stands, as the demo answers it. */
export interface DemoPaymentView {
  readonly paymentId: string;
  readonly status: PaymentStatus | 'cancelled';
  readonly cancellation?: { readonly status: PaymentStatus };
}

export class DemoPaymentApi {
  readonly #payments = new Map<string, DemoPayment>();
  /** Outcomes told by the authorization server, by authorization id. */
  readonly #outcomes = new Map<string, PaymentOutcome>();

  /** For `payments.onOutcome`: keeps the outcome and logs it. */
  readonly onOutcome = (outcome: PaymentOutcome): void => {
    this.#outcomes.set(outcome.id, outcome);
    const what = outcome.type === 'payment_cancellation' ? 'cancellation' : 'initiation';
    console.log(`payment ${outcome.paymentId}: ${what} ${outcome.status}${outcome.psuId ? ` by ${outcome.psuId}` : ''}`);
  };

  /** The routes, to mount at `/api/payments` after a JSON body parser. */
  router(auth: AuthorizationServer): Router {
    const router = express.Router();
    const handle = (handler: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response): Promise<void> => {
      try {
        await handler(req, res);
      } catch (error) {
        const known = error instanceof ApiError ? error
          : error instanceof PaymentRequestError ? fromPaymentError(error)
            : error instanceof OAuthError ? new ApiError(error.status, error.error, error.error_description)
              : undefined;
        if (!known) console.error(error);
        const answer = known ?? new ApiError(500, 'server_error', 'the payment API failed');
        res.status(answer.status).set('Cache-Control', 'no-store').json({ error: answer.code, error_description: answer.message });
      }
    };

    router.post('/', handle(async (req, res) => {
      const pisp = await this.#pisp(auth, req);
      const body = parse(initiationSchema, req.body);
      const clientId = await this.#clientOf(auth, pisp, body.clientId);
      const paymentId = `pmt-${randomBytes(9).toString('base64url')}`;
      const opened = await auth.payments.openInitiation({
        clientId,
        payment: { ...body.payment, paymentId },
        redirectUri: body.redirectUri,
        state: body.state,
        language: body.language,
        codeChallenge: body.codeChallenge,
      });
      this.#payments.set(paymentId, { paymentId, clientId, organization: pisp.organizationIdentifier, initiation: opened.id });
      res.status(201).location(`${req.baseUrl}/${paymentId}`).set('Cache-Control', 'no-store').json(pending(paymentId, opened));
    }));

    router.post('/:paymentId/cancellation', handle(async (req, res) => {
      const payment = this.#paymentOf(await this.#pisp(auth, req), req.params.paymentId);
      const body = parse(cancellationSchema, req.body);
      const view = await this.#view(auth, payment);
      if (view.status !== 'confirmed') throw new ApiError(409, 'invalid_request', `only a confirmed payment can be cancelled; this one is ${view.status}`);
      if (view.cancellation?.status === 'pending') throw new ApiError(409, 'invalid_request', 'a cancellation of this payment is already waiting for the PSU');
      // The cancellation shows the payment exactly as the PSU confirmed it.
      const confirmed = this.#outcomes.get(payment.initiation)?.authorizationDetails[0] ?? (await auth.payments.statusOf(payment.initiation))?.outcome?.authorizationDetails[0];
      if (!confirmed) throw new ApiError(409, 'invalid_request', 'the confirmed payment is no longer known');
      const opened = await auth.payments.openCancellation({
        clientId: payment.clientId,
        payment: {
          amount: confirmed.instructedAmount.amount,
          currency: confirmed.instructedAmount.currency,
          creditorName: confirmed.creditorName,
          creditorAccount: confirmed.creditorAccount.iban,
          debtorAccount: confirmed.debtorAccount?.iban,
          remittanceInformation: confirmed.remittanceInformationUnstructured,
          requestedExecutionDate: confirmed.requestedExecutionDate,
          paymentId: payment.paymentId,
        },
        redirectUri: body.redirectUri,
        state: body.state,
        language: body.language,
        codeChallenge: body.codeChallenge,
      });
      payment.cancellation = opened.id;
      res.status(201).set('Cache-Control', 'no-store').json(pending(payment.paymentId, opened));
    }));

    router.get('/:paymentId', handle(async (req, res) => {
      const payment = this.#paymentOf(await this.#pisp(auth, req), req.params.paymentId);
      res.set('Cache-Control', 'no-store').json(await this.#view(auth, payment));
    }));

    return router;
  }

  /**
   * The PISP behind the request's certificate: a QWAC the server accepts (path, revocation status,
   * suspension, as at its token endpoint), with the PSP_PI role. A real payment API may have its API
   * gateway check the QWAC; the demo asks the authorization server.
   */
  async #pisp(auth: AuthorizationServer, req: Request): Promise<TppIdentity> {
    const identity = await auth.identifyTpp(req);
    if (!identity.roles.includes('PSP_PI')) throw new ApiError(403, 'unauthorized_client', 'the client certificate has no PSP_PI role: only payment initiation service providers may submit payments');
    return identity;
  }

  /** The client of the PISP's organization the payment is for: the one named, or its only PISP client. */
  async #clientOf(auth: AuthorizationServer, pisp: TppIdentity, clientId: string | undefined): Promise<string> {
    const ownClient = async (id: string) => {
      const metadata = await auth.storage.adapterFor('Client').find(id) as Record<string, unknown> | undefined;
      return metadata?.provider_legal_id === pisp.organizationIdentifier && metadata.psd2_environment === pisp.environment ? metadata : undefined;
    };
    if (clientId) {
      if (!await ownClient(clientId)) throw new ApiError(403, 'unauthorized_client', `the client ${clientId} is not registered by ${pisp.organizationIdentifier} in the ${pisp.environment} environment`);
      return clientId;
    }
    const candidates: string[] = [];
    for (const id of await auth.storage.clientIdsOf(pisp.organizationIdentifier)) {
      const metadata = await ownClient(id);
      const grants = Array.isArray(metadata?.grant_types) ? metadata.grant_types : [];
      if (String(metadata?.scope ?? '').split(' ').includes('pisp') && grants.includes('authorization_code')) candidates.push(id);
    }
    if (candidates.length === 1) return candidates[0]!;
    throw new ApiError(400, 'invalid_request', candidates.length
      ? `clientId is required: ${pisp.organizationIdentifier} has ${candidates.length} clients that may initiate payments`
      : `${pisp.organizationIdentifier} has no client registered with the pisp scope and the authorization_code grant in the ${pisp.environment} environment`);
  }

  /** A payment of the PISP's organization; another's is not found. */
  #paymentOf(pisp: TppIdentity, paymentId: string | string[] | undefined): DemoPayment {
    const payment = typeof paymentId === 'string' ? this.#payments.get(paymentId) : undefined;
    if (!payment || payment.organization !== pisp.organizationIdentifier) throw new ApiError(404, 'not_found', 'no such payment');
    return payment;
  }

  async #statusOf(auth: AuthorizationServer, authorization: string): Promise<PaymentStatus> {
    // statusOf decides an expired authorization on the way; the outcome kept here outlives it.
    return (await auth.payments.statusOf(authorization))?.status ?? this.#outcomes.get(authorization)?.status ?? 'expired';
  }

  async #view(auth: AuthorizationServer, payment: DemoPayment): Promise<DemoPaymentView> {
    const status = await this.#statusOf(auth, payment.initiation);
    const cancellation = payment.cancellation ? await this.#statusOf(auth, payment.cancellation) : undefined;
    return {
      paymentId: payment.paymentId,
      status: cancellation === 'confirmed' ? 'cancelled' : status,
      ...(cancellation ? { cancellation: { status: cancellation } } : {}),
    };
  }
}

function fromPaymentError(error: PaymentRequestError): ApiError {
  const status = error.code === 'unauthorized_client' ? 403 : 400;
  return new ApiError(status, error.code, error.message);
}

/** The answer to a payment or cancellation just submitted: where the PISP sends the PSU. */
function pending(paymentId: string, opened: OpenedPaymentAuthorization) {
  return {
    paymentId,
    status: 'pending' as const,
    expiresAt: opened.expiresAt.toISOString(),
    _links: { scaRedirect: { href: opened.url } },
  };
}
