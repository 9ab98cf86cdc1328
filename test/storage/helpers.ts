/**
 * What the storage fault tests expect of an answer while the storage is out, and how they wait
 * for and time answers.
 */
import { expect } from 'chai';
import type { Response } from 'supertest';

import { redirectParams } from '../authorization/helpers.js';
import { LEAK } from '../support/leak.js';
import type { PageResponse } from '../support/psu-browser.js';

/** What "answers quickly" means here: the storage timeout is 1 s in these tests (2 s by default). */
export const QUICK_MS = 3000;

/** Polls `probe` every 50 ms until it returns a value, or fails after `ms`. */
export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs `request` and measures how long it took. */
export async function timed<T>(request: () => PromiseLike<T>): Promise<{ res: T; ms: number }> {
  const started = Date.now();
  const res = await request();
  return { res, ms: Date.now() - started };
}

/** An API answer while the storage is out: 503 JSON temporarily_unavailable, Retry-After, no stack trace. */
export function expectUnavailableJson(what: string, res: Response, ms: number): void {
  expect(res.status, `${what}: ${res.status} ${res.text}`).to.equal(503);
  expect(res.headers['content-type'], what).to.match(/^application\/json/);
  expect(res.body.error, what).to.equal('temporarily_unavailable');
  expect(res.body.error_description, what).to.be.a('string').and.not.equal('');
  expect(res.headers['retry-after'], `${what}: Retry-After`).to.match(/^\d+$/);
  expect(res.text, what).not.to.match(LEAK);
  expect(ms, `${what}: answered in ${ms} ms`).to.be.below(QUICK_MS);
}

/** A PSU's answer while the storage is out: a 503 page in `language`, or a redirect to the TPP with temporarily_unavailable. */
export function expectUnavailableForPsu(what: string, res: PageResponse, ms: number, title = 'Service temporarily unavailable'): void {
  expect(ms, `${what}: answered in ${ms} ms`).to.be.below(QUICK_MS);
  expect(res.text, what).not.to.match(LEAK);
  if (res.status >= 300 && res.status < 400) {
    const back = redirectParams(res.location);
    expect(back.get('error'), `${what}: ${res.location}`).to.equal('temporarily_unavailable');
    return;
  }
  expect(res.status, `${what}: ${res.status} ${res.text.slice(0, 400)}`).to.equal(503);
  expect(res.headers['content-type'], what).to.match(/^text\/html/);
  expect(res.text, what).to.contain(title);
  expect(res.headers['retry-after'], `${what}: Retry-After`).to.match(/^\d+$/);
  const details = /<details>[\s\S]*?<\/details>/.exec(res.text)?.[0] ?? '';
  expect(details, `${what}: the page's technical details name server_error`).not.to.contain('server_error');
}
