/**
 * More helpers of the payment authorization tests: a clock the tests move, a storage that records
 * what is saved, the text of a page as the PSU reads it, and the PSU's way to a decision.
 */
import { expect } from 'chai';
import type { RecordAdapter as Adapter } from '../../lib/storage.js';

import { MemoryStorage } from '../../adapters/memory.js';
import type { CounterLimit, Storage } from '../../lib/storage.js';
import type { OpenedPaymentAuthorization, PaymentOutcome } from '../../lib/index.js';
import { REDIRECT_URI, submit, type TestClient } from '../authorization/helpers.js';
import { LEAK } from '../support/leak.js';
import { PsuBrowser, type PageResponse } from '../support/psu-browser.js';
import type { TestServer } from '../support/server.js';
import { openPayment, sandboxSignIn } from './helpers.js';

/** `options.now` of a test server: the system clock moved by what the test says. */
export class Clock {
  #offset = 0;

  readonly now = (): Date => new Date(Date.now() + this.#offset);

  advance(seconds: number): void {
    this.#offset += seconds * 1000;
  }

  reset(): void {
    this.#offset = 0;
  }
}

/** A storage (MemoryStorage unless given) that records every record saved, by model. */
export class RecordingStorage implements Storage {
  readonly saved: { model: string; id: string }[] = [];

  constructor(readonly inner: Storage = new MemoryStorage()) {}

  /** How many records of `model` were saved (created or updated). */
  count(model: string): number {
    return this.saved.filter((entry) => entry.model === model).length;
  }

  /** Distinct ids of `model` saved. */
  ids(model: string): string[] {
    return [...new Set(this.saved.filter((entry) => entry.model === model).map((entry) => entry.id))];
  }

  adapterFor(model: string): Adapter {
    const adapter = this.inner.adapterFor(model);
    return {
      upsert: async (id, payload, expiresIn) => {
        this.saved.push({ model, id });
        return adapter.upsert(id, payload, expiresIn);
      },
      find: (id) => adapter.find(id),
      findByUserCode: (code) => adapter.findByUserCode(code),
      findByUid: (uid) => adapter.findByUid(uid),
      consume: (id) => adapter.consume(id),
      destroy: (id) => adapter.destroy(id),
      revokeByGrantId: (grantId) => adapter.revokeByGrantId(grantId),
    };
  }

  removeClient(clientId: string, options?: { keepMetadata?: boolean }): Promise<void> {
    return this.inner.removeClient(clientId, options);
  }

  grantIdsOf(accountId: string): Promise<string[]> {
    return this.inner.grantIdsOf(accountId);
  }

  clientIdsOf(organization: string): Promise<string[]> {
    return this.inner.clientIdsOf(organization);
  }

  incrementCounter(name: string, windowSeconds: number, amount?: number): Promise<number> {
    return this.inner.incrementCounter(name, windowSeconds, amount);
  }

  readCounter(name: string): Promise<number> {
    return this.inner.readCounter(name);
  }

  resetCounter(name: string): Promise<void> {
    return this.inner.resetCounter(name);
  }

  incrementCountersWithin(counters: readonly CounterLimit[]): Promise<boolean> {
    return this.inner.incrementCountersWithin(counters);
  }
}

const ENTITIES: Record<string, string> = { '&#39;': '\'', '&quot;': '"', '&lt;': '<', '&gt;': '>', '&#96;': '`', '&amp;': '&' };

/**
 * The text of a page as the PSU reads it: no markup, entities decoded, narrow and ordinary
 * no-break spaces (which Intl puts in French and German amounts) as plain spaces.
 */
export function readable(html: string): string {
  return normalizeSpaces(html
    .replace(/<(style|script)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&quot;|&lt;|&gt;|&#96;|&amp;/g, (entity) => ENTITIES[entity] ?? entity));
}

/** Narrow and ordinary no-break spaces as spaces, runs of white space as one. */
export function normalizeSpaces(text: string): string {
  return text.replace(/[\u00a0\u202f]/g, ' ').replace(/\s+/g, ' ');
}

/** The buttons of the page's decision form: their `value`s. */
export function decisionsOffered(page: PageResponse): string[] {
  return [...page.text.matchAll(/<button type="submit" name="decision" value="([^"]+)"/g)].map((match) => match[1]!);
}

/** Opens the URL in a fresh browser, signs in as a sandbox PSU and returns the payment page. */
export async function paymentPage(server: TestServer, url: string, psuId = 'sandbox-anna', browser = new PsuBrowser()): Promise<{ browser: PsuBrowser; page: PageResponse }> {
  const { page } = await openPayment(server, url, browser);
  return { browser, page: await sandboxSignIn(server, browser, page, psuId) };
}

/** Posts the payment page's form and follows the server's redirects: the answer that leaves it (or the page). */
export function decide(server: TestServer, browser: PsuBrowser, page: PageResponse, fields: Record<string, string | readonly string[]>): Promise<PageResponse> {
  return submit(server, browser, page, '/consent', fields);
}

/** The query of a redirect back to the TPP's registered redirect URI. */
export function tppRedirect(response: PageResponse): URLSearchParams {
  expect(response.status, response.text.slice(0, 2000)).to.be.oneOf([302, 303]);
  expect(response.location, 'a redirect').to.be.a('string');
  const url = new URL(response.location!);
  expect(`${url.origin}${url.pathname}`, 'the registered redirect URI').to.equal(REDIRECT_URI);
  return url.searchParams;
}

/** An `access_denied` back to the TPP with `state` and no code. */
export function expectDenied(response: PageResponse, state: string | undefined): URLSearchParams {
  const params = tppRedirect(response);
  expect(params.get('error'), params.toString()).to.equal('access_denied');
  expect(params.get('code')).to.equal(null);
  expect(params.get('state') ?? undefined).to.equal(state);
  return params;
}

/** A code back to the TPP with `state`; returns the code. */
export function expectCode(response: PageResponse, state: string | undefined): string {
  const params = tppRedirect(response);
  expect(params.get('error'), params.toString()).to.equal(null);
  expect(params.get('state') ?? undefined).to.equal(state);
  const code = params.get('code');
  expect(code).to.be.a('string').and.not.equal('');
  return code!;
}

/**
 * An answer to something the PSU's browser carried that was tampered with: never a server error,
 * never a stack trace or server path, and never a redirect to anything but the server itself or
 * one of `registered` (the redirect URIs of the client named in the request).
 */
export function expectContained(response: { status: number; location?: string | undefined; text?: string; headers?: Record<string, unknown> }, server: TestServer, registered: readonly string[] = [REDIRECT_URI]): void {
  const body = response.text ?? '';
  expect(response.status, body.slice(0, 500)).to.be.below(500);
  expect(body).to.not.match(LEAK);
  const location = response.location ?? (typeof response.headers?.location === 'string' ? response.headers.location : undefined);
  if (location === undefined) return;
  const target = new URL(location, server.url);
  if (target.origin === new URL(server.url).origin) return;
  expect(registered, `redirected to ${location}`).to.include(`${target.origin}${target.pathname}`);
}

/** The outcome the bank was told for `opened`, exactly once. */
export function toldOnce(received: readonly PaymentOutcome[], opened: OpenedPaymentAuthorization): PaymentOutcome {
  const told = received.filter((outcome) => outcome.id === opened.id);
  expect(told, `outcomes told for ${opened.id}`).to.have.length(1);
  return told[0]!;
}

/** Checks an outcome against the authorization it decides. */
export function expectOutcome(outcome: PaymentOutcome, opened: OpenedPaymentAuthorization, client: TestClient, expected: {
  status: PaymentOutcome['status'];
  psuId?: string | undefined;
  /** Bounds of the SCA time (ms since the epoch) when one is due. */
  scaBetween?: readonly [number, number];
}): void {
  const detail = opened.authorizationDetails[0]!;
  expect(outcome).to.include({ id: opened.id, type: detail.type, paymentId: detail.paymentId, clientId: client.clientId, status: expected.status });
  expect(outcome.authorizationDetails).to.deep.equal(opened.authorizationDetails);
  expect(outcome.decidedAt).to.be.instanceOf(Date);
  expect(outcome.psuId).to.equal(expected.psuId);
  if (expected.scaBetween) {
    expect(outcome.scaTime, 'the time of SCA').to.be.instanceOf(Date);
    // Seconds since the epoch: the second of the lower bound counts.
    expect(outcome.scaTime!.getTime()).to.be.within(Math.floor(expected.scaBetween[0] / 1000) * 1000, expected.scaBetween[1]);
  }
  if (expected.status === 'expired') expect(outcome).to.not.have.any.keys('psuId', 'scaTime');
}
