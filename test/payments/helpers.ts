/**
 * Shared helpers of the payment authorization tests: a PISP client, a payment opened through the
 * package's API as the bank's payment API would, and a PSU walking through the pages.
 */
import { expect } from 'chai';

import type { PaymentAuthorizationRequest, PaymentDetails, PaymentOutcome } from '../../lib/index.js';
import { REDIRECT_URI, registerClient, submit, type TestClient } from '../authorization/helpers.js';
import { sandboxTpp, bankTpp } from '../support/pki.js';
import { PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import type { TestServer } from '../support/server.js';

export const PAYMENT: PaymentDetails = {
  amount: '1250.50',
  currency: 'EUR',
  creditorName: 'Boulangerie Dupont',
  creditorAccount: 'FR76 3000 6000 0112 3456 7890 189',
  remittanceInformation: 'Invoice 2026-118',
  requestedExecutionDate: '2030-12-01',
  paymentId: 'pmt-0001',
};

/** A PISP client registered for the authorization code (needed to bring the PSU back). */
export async function pispClient(server: TestServer, environment: 'sandbox' | 'bank' = 'sandbox', organization = 'Pay Now'): Promise<TestClient> {
  const roles: ('PSP_PI')[] = ['PSP_PI'];
  const tpp = await (environment === 'sandbox' ? sandboxTpp({ roles, organization }) : bankTpp({ roles, organization }));
  return registerClient(server, { environment, tpp, roles, body: { grant_types: ['authorization_code', 'client_credentials'], client_name: organization } });
}

export function request(client: TestClient, overrides: Partial<PaymentAuthorizationRequest> = {}): PaymentAuthorizationRequest {
  return { clientId: client.clientId, payment: PAYMENT, redirectUri: REDIRECT_URI, state: 'pisp-state-1', language: 'en', ...overrides };
}

/** Collects what the bank's payment API is told. */
export class Outcomes {
  readonly received: PaymentOutcome[] = [];
  readonly handler = (outcome: PaymentOutcome): void => {
    this.received.push(outcome);
  };

  of(id: string): PaymentOutcome[] {
    return this.received.filter((outcome) => outcome.id === id);
  }
}

/** Opens the payment URL in a fresh browser and follows it to the first PSU page. */
export async function openPayment(server: TestServer, url: string, browser = new PsuBrowser()): Promise<{ browser: PsuBrowser; page: PageResponse }> {
  const start = await browser.get(url);
  expect(start.status, start.text).to.equal(303);
  const page = await browser.follow(start, server.url);
  expect(page.status, page.text).to.equal(200);
  return { browser, page };
}

/** Signs in on the sandbox page as `psuId`; returns the payment page. */
export async function sandboxSignIn(server: TestServer, browser: PsuBrowser, page: PageResponse, psuId = 'sandbox-anna'): Promise<PageResponse> {
  const next = await submit(server, browser, page, '/signin', { psu: psuId });
  expect(next.status, next.text).to.equal(200);
  return next;
}

/** The redirect URI of another PISP, "Other Pay". */
export const OTHER_REDIRECT_URI = 'https://other-pisp.example/cb';

/** How another PISP, "Other Pay", registers (for suiteClient), with `grantTypes` and a redirect URI of its own. */
export async function otherPisp(grantTypes: readonly string[]): Promise<NonNullable<Parameters<typeof registerClient>[1]>> {
  const tpp = await sandboxTpp({ roles: ['PSP_PI'], organization: 'Other Pay', authorisationNumber: 'OTHER1' });
  return { tpp, roles: ['PSP_PI'], body: { grant_types: grantTypes, redirect_uris: [OTHER_REDIRECT_URI], client_name: 'Other Pay' } };
}
