/**
 * The consent lifetime per environment (`tokens.consentLifetime`): a sandbox consent of 60 seconds
 * runs out and the refresh answers exactly what deployed TPP clients match to ask the PSU again,
 * `400 {"error":"invalid_grant","error_description":"Refresh token has expired"}`; a random refresh
 * token answers "Invalid refresh token"; bank consents keep their own lifetime. Refresh bodies are
 * the form bodies those clients send, with `scope=aisp` (one client) and without scope (another).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'chai';

import { loadConfig } from '../../example-app/config.js';
import { bankAuthorization, exchangeCode, redirectParams, registerClient, sandboxAuthorization, type TestClient } from '../authorization/helpers.js';
import { bankTpp } from '../support/pki.js';
import { startServer, type StartOptions } from '../support/server.js';
import { suiteClock, suiteServer } from '../support/suite.js';

const SECRET = 'resource-server-secret-0123456789abcdef';
const EXPIRED = '{"error":"invalid_grant","error_description":"Refresh token has expired"}';
const INVALID = '{"error":"invalid_grant","error_description":"Invalid refresh token"}';

describe('compatibility: consent lifetime per environment and the refresh error texts', function () {
  this.timeout(60_000);
  const clock = suiteClock();
  const server = suiteServer({ options: { now: clock.now, tokens: { consentLifetime: { sandbox: 60 } }, resourceServers: [{ id: 'psd2-api', secret: SECRET }] } });

  /** A refresh as deployed clients send it: a form body, `scope=aisp` or none. */
  function refresh(client: TestClient, refreshToken: string, scope: string | undefined) {
    const body = `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}${scope ? `&scope=${scope}` : ''}&client_id=${encodeURIComponent(client.clientId)}`;
    return server.request(client.tpp).post('/oauth2/token').type('form').send(body);
  }

  function introspect(token: string) {
    return server.request().post('/oauth2/introspect').type('form')
      .set('Authorization', `Basic ${Buffer.from(`psd2-api:${SECRET}`).toString('base64')}`)
      .send(`token=${encodeURIComponent(token)}`);
  }

  async function tokensOf(client: TestClient, authorize: typeof sandboxAuthorization): Promise<Record<string, string>> {
    const { location, pair } = await authorize(server, client);
    const res = await exchangeCode(server, client, redirectParams(location).get('code')!, pair);
    expect(res.status, res.text).to.equal(200);
    return res.body as Record<string, string>;
  }

  for (const scope of ['aisp', undefined]) {
    it(`a sandbox consent of 60 s: refresh${scope ? ' with scope=aisp' : ' without scope'} works within it, then answers "Refresh token has expired"`, async () => {
      const client = await registerClient(server);
      const tokens = await tokensOf(client, sandboxAuthorization);
      const answer = await introspect(tokens.access_token!);
      expect(answer.body.consent_expires_at, 'introspection tells the sandbox consent\'s end').to.equal(answer.body.sca_time + 60);
      clock.offset = 30_000;
      const within = await refresh(client, tokens.refresh_token!, scope);
      expect(within.status, within.text).to.equal(200);
      expect(within.body.scope).to.equal('aisp');
      clock.offset = 61_000;
      const late = await refresh(client, tokens.refresh_token!, scope);
      expect(late.status).to.equal(400);
      expect(late.headers['content-type']).to.match(/^application\/json/);
      expect(late.text).to.equal(EXPIRED);
      expect((await introspect(within.body.access_token as string)).body, 'the consent\'s tokens are inactive').to.deep.equal({ active: false });
      expect((await refresh(client, tokens.refresh_token!, scope)).text, 'and stays so').to.equal(EXPIRED);
    });
  }

  it('the PSU\'s consents list shows the sandbox consent ending 60 s after SCA', async () => {
    const client = await registerClient(server);
    await tokensOf(client, sandboxAuthorization);
    const consents = await server.auth.management.consentsOf('sandbox-anna');
    const mine = consents.find((consent) => consent.clientId === client.clientId);
    expect(mine?.expiresAt.getTime()).to.equal(mine!.scaTime.getTime() + 60_000);
  });

  it('a bank consent of the same server keeps the bank\'s lifetime (180 days)', async () => {
    const client = await registerClient(server, { environment: 'bank', tpp: await bankTpp({ roles: ['PSP_AI'] }) });
    const tokens = await tokensOf(client, bankAuthorization as typeof sandboxAuthorization);
    const answer = await introspect(tokens.access_token!);
    expect(answer.body.consent_expires_at).to.equal(answer.body.sca_time + 180 * 86_400);
    clock.offset = 61_000;
    const res = await refresh(client, tokens.refresh_token!, 'aisp');
    expect(res.status, res.text).to.equal(200);
  });

  it('a random refresh token answers "Invalid refresh token", with and without scope', async () => {
    const client = await registerClient(server);
    for (const scope of ['aisp', undefined]) {
      const res = await refresh(client, 'Zm9yZ2VkLXJlZnJlc2gtdG9rZW4tMDEyMzQ1Njc4OWFiY2RlZg', scope);
      expect(res.status).to.equal(400);
      expect(res.text).to.equal(INVALID);
    }
  });

  describe('the option', () => {
    async function refusal(tokens: StartOptions['options']): Promise<string> {
      try {
        const started = await startServer({ options: tokens });
        await started.close();
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`${JSON.stringify(tokens)} was accepted`);
    }

    it('takes one number or one per environment, each within its bounds', async () => {
      expect(await refusal({ tokens: { consentLifetime: { sandbox: 59 } } })).to.equal('invalid option tokens.consentLifetime.sandbox: Too small: expected number to be >=60');
      expect(await refusal({ tokens: { consentLifetime: { bank: 60 } } })).to.match(/^invalid option tokens\.consentLifetime\.bank: /);
      expect(await refusal({ tokens: { consentLifetime: { sandbox: 181 * 86_400 } } })).to.match(/tokens\.consentLifetime\.sandbox: must be at most 180 days/);
      expect(await refusal({ tokens: { consentLifetime: { sandbox: 60, psu: 60 } as never } })).to.match(/tokens\.consentLifetime\.psu: unknown option/);
      const started = await startServer({ options: { tokens: { consentLifetime: 7200 } } });
      await started.close();
    });

    it('is set for the sandbox by the example app\'s CONSENT_LIFETIME_SANDBOX', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dev-pki-consent-'));
      try {
        const config = await loadConfig({ DEV_PKI_DIR: dir, CONSENT_LIFETIME_SANDBOX: '60' });
        expect(config.options.tokens).to.deep.equal({ consentLifetime: { sandbox: 60 } });
        expect((await loadConfig({ DEV_PKI_DIR: dir })).options.tokens).to.equal(undefined);
        let message = '';
        await loadConfig({ DEV_PKI_DIR: dir, CONSENT_LIFETIME_SANDBOX: '59' }).catch((error: Error) => { message = error.message; });
        expect(message).to.equal('CONSENT_LIFETIME_SANDBOX=59: must be a whole number from 60 to 15552000');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
