/**
 * Real Chromium for the page tests, driven by playwright-core. The executable is Debian's
 * `chromium` (installed by .ci/run) or CHROMIUM_PATH.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { testPki } from './pki.js';

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium from reaching out to the network on its own. */
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Chromium; `trustTestServer` makes it trust the test server's certificate (by the hash of its
 * key) as a browser trusts a bank's: it then keeps what the server lets it cache, which it keeps
 * from no server whose certificate errors it only ignores.
 */
export async function launchChromium(options: { trustTestServer?: boolean } = {}): Promise<Browser> {
  if (!existsSync(EXECUTABLE)) {
    throw new Error(`Chromium not found at ${EXECUTABLE}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  const trust = options.trustTestServer ? [`--ignore-certificate-errors-spki-list=${await testServerKeyHash()}`] : [];
  return chromium.launch({ executablePath: EXECUTABLE, args: [...ARGS, ...trust] });
}

/** The SHA-256 of the test server certificate's key (SubjectPublicKeyInfo), in base64. */
async function testServerKeyHash(): Promise<string> {
  const key = new X509Certificate((await testPki()).server.certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(key).digest('base64');
}

/** The TPP's redirect URI, answered inside the browser: the TPP is not a real host. */
export const TPP_CALLBACK = 'https://tpp.example/callback';

/**
 * A fresh browser profile. The test server's certificate comes from the test PKI, which Chromium
 * does not know; the TLS checks themselves are covered by the API tests.
 */
export async function newPsuContext(browser: Browser, options: { locale?: string; javaScriptEnabled?: boolean } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    locale: options.locale ?? 'en-GB',
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    viewport: { width: 900, height: 900 },
  });
  await context.route(`${TPP_CALLBACK}**`, (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'TPP received the PSU back' }));
  return context;
}

/** Saves a full-page screenshot when SCREENSHOT_DIR is set (`npm run screenshots`). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
