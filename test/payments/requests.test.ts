/**
 * What the bank's payment API may open, and what a TPP may not do on its own: payment
 * authorizations only for PISPs registered for the authorization code, with a registered redirect
 * URI and a valid payment (a refusal names the field, and stores nothing); no authorization_details,
 * pisp scope, request object or pushed request from a TPP directly.
 */
import { expect } from 'chai';

import { PaymentRequestError, type PaymentAuthorizationRequest, type PaymentDetails } from '../../lib/index.js';
import { authorizationUrl, entryPath, openPages, pkce, REDIRECT_URI, registerClient, requestParams, submit, type TestClient } from '../authorization/helpers.js';
import { sandboxTpp } from '../support/pki.js';
import { PsuBrowser } from '../support/psu-browser.js';
import { paymentsSuite } from '../support/pages.js';
import { decide, decisionsOffered, expectContained, paymentPage, RecordingStorage, tppRedirect } from './harness.js';
import { PAYMENT, request } from './helpers.js';

/** A payment with one field changed (`undefined` removes it). */
function payment(changes: Record<string, unknown>): PaymentDetails {
  const result: Record<string, unknown> = { ...PAYMENT, debtorAccount: 'DE89 3704 0044 0532 0130 00' };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete result[name];
    else result[name] = value;
  }
  return result as unknown as PaymentDetails;
}

/** Invalid payments, each with the field its refusal must name. */
const INVALID_PAYMENTS: [string, Record<string, unknown>][] = [
  ['creditorAccount', { creditorAccount: 'FR76 3000 6000 0112 3456 7890 188' }],
  ['creditorAccount', { creditorAccount: 'FR7630006000011234567890189X' }],
  ['creditorAccount', { creditorAccount: 'XX00' }],
  ['creditorAccount', { creditorAccount: '' }],
  ['creditorAccount', { creditorAccount: 12345 }],
  ['creditorAccount', { creditorAccount: undefined }],
  ['debtorAccount', { debtorAccount: 'DE89 3704 0044 0532 0130 01' }],
  ['debtorAccount', { debtorAccount: 'DE89370400440532013000\u0000' }],
  ['amount', { amount: '12.345' }],
  ['amount', { amount: '1250.501' }],
  ['amount', { amount: '0' }],
  ['amount', { amount: '0.00' }],
  ['amount', { amount: '-5.00' }],
  ['amount', { amount: '1e3' }],
  ['amount', { amount: '1,50' }],
  ['amount', { amount: ' 1.50' }],
  ['amount', { amount: '1.' }],
  ['amount', { amount: '.5' }],
  ['amount', { amount: '' }],
  ['amount', { amount: '1234567890123456' }],
  ['amount', { amount: 'NaN' }],
  ['amount', { amount: 12.5 }],
  ['amount', { amount: '100.5', currency: 'JPY' }],
  ['amount', { amount: '1.2345', currency: 'BHD' }],
  ['currency', { currency: 'XYZ' }],
  ['currency', { currency: 'eur' }],
  ['currency', { currency: '' }],
  ['currency', { currency: 'EURO' }],
  ['creditorName', { creditorName: '' }],
  ['creditorName', { creditorName: '   ' }],
  ['creditorName', { creditorName: 'Bad\u0000Name' }],
  ['creditorName', { creditorName: 'Two\nLines' }],
  ['creditorName', { creditorName: 'Tab\there' }],
  ['creditorName', { creditorName: '\u202eevil' }],
  ['creditorName', { creditorName: 'zero\u200bwidth' }],
  ['creditorName', { creditorName: 'line\u2028separator' }],
  ['creditorName', { creditorName: 'x'.repeat(141) }],
  ['creditorName', { creditorName: undefined }],
  ['creditorName', { creditorName: ['Boulangerie'] }],
  ['remittanceInformation', { remittanceInformation: 'Invoice\r\n118' }],
  ['remittanceInformation', { remittanceInformation: 'y'.repeat(141) }],
  ['requestedExecutionDate', { requestedExecutionDate: '2030-02-30' }],
  ['requestedExecutionDate', { requestedExecutionDate: '2030-13-01' }],
  ['requestedExecutionDate', { requestedExecutionDate: '2030-00-10' }],
  ['requestedExecutionDate', { requestedExecutionDate: '01.12.2030' }],
  ['requestedExecutionDate', { requestedExecutionDate: '2030-1-1' }],
  ['requestedExecutionDate', { requestedExecutionDate: '20301201' }],
  ['requestedExecutionDate', { requestedExecutionDate: '2030-12-01T00:00:00Z' }],
  ['requestedExecutionDate', { requestedExecutionDate: '2031-02-29' }],
  ['paymentId', { paymentId: 'has space' }],
  ['paymentId', { paymentId: '' }],
  ['paymentId', { paymentId: 'p'.repeat(129) }],
  ['paymentId', { paymentId: 'paiement-é' }],
  ['paymentId', { paymentId: undefined }],
  ['instructedAmount', { instructedAmount: { amount: '1.00', currency: 'EUR' } }],
];

/** Invalid requests around a valid payment, each with the field its refusal must name. */
const INVALID_REQUESTS: [string, Record<string, unknown>][] = [
  ['clientId', { clientId: '' }],
  ['clientId', { clientId: 42 }],
  ['redirectUri', { redirectUri: '' }],
  ['redirectUri', { redirectUri: undefined }],
  ['state', { state: 'état' }],
  ['state', { state: 'line\nbreak' }],
  ['state', { state: 's'.repeat(2001) }],
  ['language', { language: 7 }],
  ['codeChallenge', { codeChallenge: 'too-short' }],
  ['codeChallenge', { codeChallenge: `${'a'.repeat(42)}=` }],
  ['payment', { payment: undefined }],
  ['payment', { payment: 'pay me' }],
  ['authorizationDetails', { authorizationDetails: [] }],
  ['scope', { scope: 'aisp' }],
];

describe('payment authorizations: what may be opened, and by whom', function requests() {
  this.timeout(30_000);
  const storage = new RecordingStorage();
  const { server, client: pisp, outcomes } = paymentsSuite({ options: { storage, suspensionCacheTtl: 0 } });

  /** What openInitiation and openCancellation throw for `input`; checks that nothing was stored. */
  async function refusal(input: unknown): Promise<PaymentRequestError> {
    const stored = { payments: storage.count('PaymentAuthorization'), pushed: storage.count('PushedAuthorizationRequest') };
    const told = outcomes.received.length;
    const errors: unknown[] = [];
    for (const open of [server.auth.payments.openInitiation, server.auth.payments.openCancellation]) {
      try {
        const opened = await open(input as PaymentAuthorizationRequest);
        errors.push(new Error(`opened ${opened.url}`));
      } catch (error) {
        errors.push(error);
      }
    }
    expect(errors[0], String(errors[0])).to.be.instanceOf(PaymentRequestError);
    expect((errors[1] as Error).message).to.equal((errors[0] as Error).message);
    expect({ payments: storage.count('PaymentAuthorization'), pushed: storage.count('PushedAuthorizationRequest') }, 'nothing stored').to.deep.equal(stored);
    expect(outcomes.received.length, 'nothing told').to.equal(told);
    return errors[0] as PaymentRequestError;
  }

  describe('the payment', () => {
    for (const [field, changes] of INVALID_PAYMENTS) {
      it(`refuses ${JSON.stringify(changes).slice(0, 90)} with invalid_request naming ${field}`, async () => {
        const error = await refusal(request(pisp, { payment: payment(changes) }));
        expect(error.code).to.equal('invalid_request');
        expect(error.message).to.include(field);
      });
    }

    for (const [field, changes] of INVALID_REQUESTS) {
      it(`refuses a request with ${JSON.stringify(changes).slice(0, 60)} with invalid_request naming ${field}`, async () => {
        const input: Record<string, unknown> = { ...request(pisp) };
        for (const [name, value] of Object.entries(changes)) {
          if (value === undefined) delete input[name];
          else input[name] = value;
        }
        const error = await refusal(input);
        expect(error.code).to.equal('invalid_request');
        expect(error.message).to.include(field);
      });
    }

    it('refuses what is no request at all', async () => {
      for (const input of [undefined, null, 'request', 42, [], [request(pisp)], new Date()]) {
        const error = await refusal(input);
        expect(error.code, String(input)).to.equal('invalid_request');
      }
    });

    it('normalizes what it accepts: IBANs without spaces in capitals, names trimmed, amounts as given', async () => {
      const opened = await server.auth.payments.openInitiation(request(pisp, {
        payment: {
          amount: '7',
          currency: 'EUR',
          creditorName: '  Boulangerie Dupont  ',
          creditorAccount: 'fr76 3000 6000 0112 3456 7890 189',
          debtorAccount: 'de89\u00a03704 0044 0532 0130 00',
          remittanceInformation: ' Invoice 118 ',
          requestedExecutionDate: '2032-02-29',
          paymentId: 'pmt-normalized',
        },
      }));
      expect(opened.authorizationDetails).to.deep.equal([{
        type: 'payment_initiation',
        instructedAmount: { currency: 'EUR', amount: '7' },
        creditorName: 'Boulangerie Dupont',
        creditorAccount: { iban: 'FR7630006000011234567890189' },
        debtorAccount: { iban: 'DE89370400440532013000' },
        remittanceInformationUnstructured: 'Invoice 118',
        requestedExecutionDate: '2032-02-29',
        paymentId: 'pmt-normalized',
      }]);
      for (const [amount, currency] of [['125000', 'JPY'], ['1.234', 'BHD'], ['0.01', 'EUR'], ['999999999999999.99', 'EUR']] as const) {
        const other = await server.auth.payments.openInitiation(request(pisp, { payment: { ...PAYMENT, amount, currency } }));
        expect(other.authorizationDetails[0]!.instructedAmount).to.deep.equal({ currency, amount });
      }
    });
  });

  describe('the client', () => {
    it('refuses an account information client (PSP_AI only) with unauthorized_client', async () => {
      const aisp = await registerClient(server);
      const error = await refusal(request(aisp));
      expect(error.code).to.equal('unauthorized_client');
      expect(error.message).to.include('PSP_PI');
    });

    it('refuses a PISP registered for client credentials alone with unauthorized_client', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_PI'], organization: 'Credentials Only', authorisationNumber: 'CCONLY' });
      const credentialsOnly = await registerClient(server, { tpp, roles: ['PSP_PI'], body: { scope: 'pisp', redirect_uris: undefined } });
      const error = await refusal(request(credentialsOnly));
      expect(error.code).to.equal('unauthorized_client');
      expect(error.message).to.include('authorization_code');
    });

    it('refuses a client holding PSP_PI whose registered scope leaves pisp out', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_AI', 'PSP_PI'], organization: 'Accounts Only', authorisationNumber: 'ACCONLY' });
      const accountsOnly = await registerClient(server, { tpp, roles: ['PSP_AI', 'PSP_PI'], body: { scope: 'aisp' } });
      const error = await refusal(request(accountsOnly));
      expect(error.code).to.equal('unauthorized_client');
    });

    it('refuses an unknown client with invalid_client', async () => {
      for (const clientId of ['unknown', `${pisp.clientId}x`, ' ', 'x'.repeat(255)]) {
        const error = await refusal(request(pisp, { clientId }));
        expect(error.code, clientId).to.equal('invalid_client');
      }
    });

    it('refuses a redirect URI the client did not register with invalid_redirect_uri', async () => {
      for (const redirectUri of ['https://evil.example/callback', `${REDIRECT_URI}/x`, `${REDIRECT_URI}?next=https://evil.example`, `${REDIRECT_URI}#x`, 'HTTPS://TPP.EXAMPLE/callback', 'https://tpp.example/Callback', 'http://tpp.example/callback', 'javascript:alert(1)', 'not a uri']) {
        const error = await refusal(request(pisp, { redirectUri }));
        expect(error.code, redirectUri).to.equal('invalid_redirect_uri');
      }
    });

    it('refuses a suspended organization, and a TPP suspended after the link was opened gets no code', async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_PI'], organization: 'Soon Suspended', authorisationNumber: 'SUSP1' });
      const suspended = await registerClient(server, { tpp, roles: ['PSP_PI'], body: { grant_types: ['authorization_code', 'client_credentials'] } });
      const opened = await server.auth.payments.openInitiation(request(suspended));
      const { browser, page } = await paymentPage(server, opened.url);
      await server.auth.management.suspendOrganization('PSDFR-NCA-SUSP1');
      try {
        const error = await refusal(request(suspended));
        expect(error.code).to.equal('unauthorized_client');
        // The suspension ended the client's interactions too: the PSU's page has expired, or the
        // PSU goes back with unauthorized_client; never with a code.
        const done = await decide(server, browser, page, { decision: 'grant' });
        expectContained(done, server);
        if (done.location === undefined) expect(done.status).to.equal(400);
        else expect(tppRedirect(done).get('error')).to.equal('unauthorized_client');
        expect(done.location ?? '').to.not.include('code=');
        expect(outcomes.of(opened.id).map((outcome) => outcome.status)).to.not.include('confirmed');
      } finally {
        await server.auth.management.reinstateOrganization('PSDFR-NCA-SUSP1');
      }
    });
  });

  describe('a TPP on its own', () => {
    let aisp: TestClient;
    before(async () => {
      aisp = await registerClient(server);
    });

    const detail = JSON.stringify([{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '10.00' }, creditorName: 'Mallory', creditorAccount: { iban: 'DE89370400440532013000' }, paymentId: 'pmt-own' }]);

    /** Sends the PSU to `params` on the sandbox page and on /authorize; both must come back to the TPP with an error and the state. */
    async function expectRefused(client: TestClient, changes: Record<string, string | undefined>, error: string | readonly string[]) {
      for (const path of [entryPath('sandbox'), '/authorize']) {
        const params = requestParams(client, changes, pkce());
        const visit = await new PsuBrowser().get(authorizationUrl(server, params, path));
        expectContained(visit, server);
        const answer = tppRedirect(visit);
        expect(answer.get('error'), `${path} ${answer.toString()}`).to.be.oneOf(typeof error === 'string' ? [error] : error);
        expect(answer.get('state')).to.equal(params.state ?? null);
        expect(answer.get('code')).to.equal(null);
      }
    }

    it('an AISP sending authorization_details is refused back to it, with its state', async () => {
      await expectRefused(aisp, { authorization_details: detail }, ['invalid_request', 'invalid_authorization_details']);
      await expectRefused(aisp, { authorization_details: 'not json' }, ['invalid_request', 'invalid_authorization_details']);
      await expectRefused(aisp, { authorization_details: '{}' }, ['invalid_request', 'invalid_authorization_details']);
    });

    it('an empty authorization_details is no payment: the ordinary account access consent', async () => {
      const browser = new PsuBrowser();
      const params = requestParams(aisp, { authorization_details: '[]' }, pkce());
      const signIn = await openPages(server, browser, authorizationUrl(server, params, entryPath('sandbox')));
      const consent = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
      expect(consent.status, consent.text).to.equal(200);
      expect(decisionsOffered(consent)).to.deep.equal(['grant', 'refuse']);
      expect(consent.text).to.include('name="accounts"').and.not.include('class="payment"');
    });

    it('an AISP or a PISP asking for scope=pisp is refused back to it, with its state', async () => {
      await expectRefused(aisp, { scope: 'pisp' }, 'invalid_scope');
      await expectRefused(pisp, { scope: 'pisp' }, 'invalid_scope');
      await expectRefused(aisp, { scope: 'aisp pisp' }, 'invalid_scope');
    });

    it('a PISP sending its own authorization_details, with or without pisp, is refused back to it', async () => {
      await expectRefused(pisp, { scope: 'pisp', authorization_details: detail }, 'invalid_request');
      await expectRefused(pisp, { scope: undefined, authorization_details: detail }, ['invalid_request', 'invalid_scope']);
    });

    it('a request object of the TPP\'s own, or a request_uri of its own, is not supported', async () => {
      const unsigned = (payload: object) => `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
      const payload = { client_id: pisp.clientId, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'pisp', authorization_details: JSON.parse(detail) as unknown, iss: pisp.clientId, aud: server.issuer };
      await expectRefused(pisp, { request: unsigned(payload) }, ['request_not_supported', 'invalid_request_object', 'invalid_request']);
      await expectRefused(pisp, { request_uri: 'https://tpp.example/request.jwt' }, ['request_uri_not_supported', 'invalid_request_uri']);
    });

    it('cannot push a request: POST /request answers 404 in JSON, with or without a certificate', async () => {
      const form = { client_id: pisp.clientId, response_type: 'code', scope: 'pisp', redirect_uri: REDIRECT_URI, authorization_details: detail };
      for (const agent of [server.request(pisp.tpp), server.request()]) {
        const res = await agent.post('/oauth2/request').type('form').send(form);
        expect(res.status).to.equal(404);
        expect(res.type).to.equal('application/json');
        expect(res.body.error).to.equal('not_found');
      }
      const metadata = await server.request().get('/oauth2/.well-known/oauth-authorization-server');
      expect(metadata.body).to.not.have.any.keys('pushed_authorization_request_endpoint', 'require_pushed_authorization_requests');
    });
  });
});
