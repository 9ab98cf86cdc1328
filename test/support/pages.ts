/**
 * The suites of the PSU page and payment tests, each made once before its tests (support/suite.ts):
 * a server with a sandbox and a bank client, a server for payment authorizations with its PISP
 * and what the bank was told, the test PKI's environments served by a bank of the test's own, and
 * Chromium.
 */
import type { Browser, BrowserContext } from 'playwright-core';

import type { AuthorizationServerOptions, BankEnvironmentOptions } from '../../lib/index.js';
import { registerClient, suiteClient, type TestClient } from '../authorization/helpers.js';
import { Outcomes, pispClient } from '../payments/helpers.js';
import { launchChromium, newPsuContext } from './browser.js';
import { testPki } from './pki.js';
import { SANDBOX_PSUS, type TestBank } from './psus.js';
import { startServer, type StartOptions, type TestServer } from './server.js';
import { beforeSuite, suiteServer } from './suite.js';

/** A suite's server with a sandbox and a bank client, both registered as "Acme Money". */
export function pagesSuite(start: StartOptions | (() => Promise<StartOptions>) = {}): { server: TestServer; sandbox: TestClient; bank: TestClient } {
  const server = suiteServer(start);
  return { server, sandbox: suiteClient(server), bank: suiteClient(server, { environment: 'bank' }) };
}

/**
 * The test PKI's sandbox (with the test customers) and bank environments, the bank's customers
 * signing in with `bank`; `sandbox: false` serves the bank environment alone.
 */
export async function testEnvironments(bank: TestBank, settings: { sandbox?: boolean; loginLimits?: BankEnvironmentOptions['loginLimits'] } = {}): Promise<AuthorizationServerOptions['environments']> {
  const pki = await testPki();
  return {
    ...(settings.sandbox === false ? {} : { sandbox: { trustAnchors: pki.sandboxRoot.certPem, requireQualifiedStatements: false, testPsus: SANDBOX_PSUS } }),
    bank: { trustAnchors: pki.bankCa.certPem, authenticator: bank, accounts: bank, ...(settings.loginLimits ? { loginLimits: settings.loginLimits } : {}) },
  };
}

/** What {@link paymentsSuite} makes: the server, its PISP client and what the bank was told. */
export interface PaymentsSuite {
  readonly server: TestServer;
  readonly client: TestClient;
  readonly outcomes: Outcomes;
}

/**
 * A suite's server for payment authorizations, whose outcomes are collected in `outcomes`, with a
 * PISP client registered in `environment` as `organization`.
 */
export function paymentsSuite(settings: { options?: Partial<AuthorizationServerOptions>; environment?: 'sandbox' | 'bank'; organization?: string } = {}): PaymentsSuite {
  const outcomes = new Outcomes();
  const { options = {} } = settings;
  const server = suiteServer({ options: { ...options, payments: { ...options.payments, onOutcome: outcomes.handler } } });
  const client = beforeSuite(() => pispClient(server, settings.environment, settings.organization));
  return { server, client, outcomes };
}

/**
 * Chromium for the suite, closed after it; `open` gives a fresh PSU profile. `trustTestServer`:
 * Chromium trusts the test server's certificate (see {@link launchChromium}).
 */
export function suiteChromium(settings: { trustTestServer?: boolean } = {}): { readonly browser: Browser; open(options?: Parameters<typeof newPsuContext>[1]): Promise<BrowserContext> } {
  return beforeSuite(async () => {
    const browser = await launchChromium(settings);
    return { browser, open: (options?: Parameters<typeof newPsuContext>[1]) => newPsuContext(browser, options) };
  }, ({ browser }) => browser.close());
}

/**
 * Makes a fresh `T` before each test of the suite (and releases it after the test); as
 * {@link beforeSuite}, `T` is a plain object whose members are copied into the one returned.
 */
function beforeEachTest<T extends object>(make: () => Promise<T>, release?: (made: T) => Promise<unknown> | unknown): T {
  const shared = {} as T;
  beforeEach(async () => {
    Object.assign(shared, await make());
  });
  if (release) afterEach(async () => release(shared));
  return shared;
}

/** A server of its own for each test (what one test uses up, such as sign-in limits, stays with it). */
export function eachTestServer(start: StartOptions | (() => Promise<StartOptions>) = {}): TestServer {
  return beforeEachTest(async () => startServer(typeof start === 'function' ? await start() : start), (server) => server.close());
}

/** A client registered on the test's own server before each test. */
export function eachTestClient(server: TestServer, options: Parameters<typeof registerClient>[1] = {}): TestClient {
  return beforeEachTest(() => registerClient(server, options));
}
