/**
 * The default logger: `info` and up as JSON lines on standard error, so that the audit trail is
 * kept when the bank passes no logger; errors written without what a client sent; no secret in
 * any line of a whole PSU authorization, token life cycle and introspection.
 */
import { expect } from 'chai';

import { stderrLogger } from '../../lib/logger.js';
import { bankAuthorization, redirectParams, registerClient, exchangeCode } from '../authorization/helpers.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { startServer } from '../support/server.js';

/** What `action` writes to standard error (and lets through nothing), as lines. */
async function stderrOf(action: () => Promise<void> | void): Promise<string[]> {
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stderr.write;
  try {
    await action();
  } finally {
    process.stderr.write = original;
  }
  return written.join('').split('\n').filter(Boolean);
}

/** Every string in a parsed JSON value. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

describe('the default logger', function defaultLogger() {
  this.timeout(30_000);

  it('writes info, warnings and errors as JSON lines on standard error', async () => {
    const lines = await stderrOf(() => {
      stderrLogger.info({ event: 'token.issued', clientId: 'c1' }, 'token issued');
      stderrLogger.warn({ event: 'certificate.rejected' }, 'refused');
      stderrLogger.error({ event: 'storage.unavailable' }, 'down');
    });
    expect(lines).to.have.length(3);
    const [info, warn, error] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(info).to.include({ level: 'info', event: 'token.issued', clientId: 'c1', msg: 'token issued' });
    expect(new Date(String(info?.time)).toISOString()).to.equal(info?.time);
    expect(warn).to.include({ level: 'warn', event: 'certificate.rejected', msg: 'refused' });
    expect(error).to.include({ level: 'error', event: 'storage.unavailable', msg: 'down' });
  });

  it('writes an error as its type, message, code, stack and causes, never its other fields (a parser\'s error carries the body)', async () => {
    const parseError = Object.assign(new SyntaxError('Unexpected token'), { body: 'password=secret-marker', type: 'entity.parse.failed' });
    const cause = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED', config: { password: 'secret-marker' } });
    const [first, second] = await stderrOf(() => {
      stderrLogger.error({ err: parseError }, 'request failed');
      stderrLogger.error({ err: new Error('storage failed', { cause }) }, 'request failed');
    });
    expect(first).not.to.contain('secret-marker');
    expect(second).not.to.contain('secret-marker');
    const { err } = JSON.parse(first!) as { err: Record<string, unknown> };
    expect(err).to.include({ type: 'SyntaxError', message: 'Unexpected token' });
    expect(err.stack).to.match(/^SyntaxError: Unexpected token\n/);
    const chained = (JSON.parse(second!) as { err: { message: string; cause: Record<string, unknown> } }).err;
    expect(chained.message).to.equal('storage failed');
    expect(chained.cause).to.include({ type: 'Error', message: 'connection refused', code: 'ECONNREFUSED' });
  });

  it('never fails on what it cannot write: the entry is kept without its fields', async () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const [line] = await stderrOf(() => stderrLogger.warn({ cycle, count: 1n }, 'odd fields'));
    expect(JSON.parse(line!)).to.include({ level: 'warn', msg: 'odd fields' });
  });

  it('keeps the audit trail of a server started without a logger, and no secret in it', async () => {
    const resourceSecret = 'resource-server-secret-0123456789abcdef';
    const cookieKey = 'cookie-key-of-the-audit-test-0123456789';
    const server = await startServer({ options: { logger: undefined, cookieKeys: [cookieKey], resourceServers: [{ id: 'accounts-api', secret: resourceSecret }] } });
    const secrets: string[] = [resourceSecret, cookieKey, 'correct horse', 'wrong-password-marker'];
    let tpp = '';
    const lines = await stderrOf(async () => {
      const client = await registerClient(server, { environment: 'bank' });
      tpp = client.tpp.der.toString('base64');
      const browser = new PsuBrowser();
      // A failed sign-in first: the attempt is logged, never the password typed.
      await bankAuthorization(server, client, { password: 'wrong-password-marker', browser }).catch(() => undefined);
      const { location, pair } = await bankAuthorization(server, client, { browser: new PsuBrowser() });
      const code = redirectParams(location).get('code')!;
      secrets.push(code, pair.verifier);
      const tokens = await exchangeCode(server, client, code, pair);
      expect(tokens.status, tokens.text).to.equal(200);
      secrets.push(tokens.body.access_token as string, tokens.body.refresh_token as string);
      const refreshed = await server.request(client.tpp).post('/oauth2/token').type('form')
        .send({ grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token as string, client_id: client.clientId });
      expect(refreshed.status, refreshed.text).to.equal(200);
      secrets.push(refreshed.body.access_token as string);
      const introspected = await server.request().post('/oauth2/introspect').auth('accounts-api', resourceSecret).type('form')
        .send({ token: refreshed.body.access_token as string });
      expect(introspected.body.active).to.equal(true);
      const revoked = await server.request(client.tpp).post('/oauth2/revoke').type('form')
        .send({ token: tokens.body.refresh_token as string, client_id: client.clientId });
      expect(revoked.status).to.equal(200);
    });
    await server.close();

    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const events = entries.map((entry) => entry.event);
    expect(events).to.include.members([
      'registration.created',
      'psu.login_failed',
      'psu.consent_granted',
      'token.issued',
      'token.introspected',
      'token.revoked',
    ]);
    expect(entries.filter((entry) => entry.event === 'token.issued').map((entry) => entry.grantType)).to.include.members(['authorization_code', 'refresh_token']);
    for (const entry of entries) {
      expect(entry.level, JSON.stringify(entry)).to.be.oneOf(['info', 'warn', 'error']);
      for (const value of stringsOf(entry)) {
        for (const secret of secrets) expect(value, `${JSON.stringify(entry)} holds a secret`).not.to.contain(secret);
        expect(value, `${JSON.stringify(entry)} holds the one-time code`).not.to.equal('123456');
        expect(value, `${JSON.stringify(entry)} holds the TPP certificate`).not.to.contain(tpp.slice(0, 64));
      }
    }
  });
});
