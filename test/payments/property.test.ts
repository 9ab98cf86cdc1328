/**
 * Property tests of payment authorizations: whatever the bank's payment API passes to
 * openInitiation, the answer is an opened authorization or a PaymentRequestError; amounts on the
 * pages are exactly Intl's; whatever client_id and request_uri a browser brings to the entry pages,
 * the answer is never a 5xx, a stack trace, or a redirect to a URI the client did not register;
 * whatever the payment page's form carries, only decision=grant confirms, and only the registered
 * payment.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { formatAmount, minorDigits } from '../../lib/payments/details.js';
import { PaymentRequestError, type PaymentAuthorizationRequest, type PaymentDetails } from '../../lib/index.js';
import { REDIRECT_URI, suiteClient } from '../authorization/helpers.js';
import { LEAK } from '../support/leak.js';
import { csrfOf, formAction } from '../support/psu-browser.js';
import { paymentsSuite } from '../support/pages.js';
import { expectCode, expectContained, expectDenied, expectOutcome, paymentPage, toldOnce } from './harness.js';
import { OTHER_REDIRECT_URI, otherPisp, request } from './helpers.js';


/** Valid IBANs, as a bank might write them. */
const IBANS = ['FR7630006000011234567890189', 'DE89370400440532013000', 'DE02120300000000202051', 'FR7630004000031234567890143', 'DE75512108001245126199', 'GB29NWBK60161331926819', 'NL91ABNA0417164300', 'BE68539007547034'];

/** Every currency Intl knows (EUR, JPY with no minor digits, BHD with three, …). */
const CURRENCIES = Intl.supportedValuesOf('currency');

/** An IBAN with spaces where a person would put them, in either case. */
const iban = fc.tuple(fc.constantFrom(...IBANS), fc.boolean(), fc.boolean()).map(([value, spaced, lower]) => {
  const written = spaced ? value.replace(/(.{4})/g, '$1 ').trim() : value;
  return lower ? written.toLowerCase() : written;
});

/** A valid amount in `currency`: at most its minor digits, above zero. */
const amountIn = (currency: string) => fc.tuple(fc.bigInt({ min: 0n, max: 999_999_999_999_999n }), fc.nat({ max: 10 ** minorDigits(currency) - 1 }), fc.boolean())
  .filter(([whole, fraction]) => whole > 0n || fraction > 0)
  .map(([whole, fraction, withFraction]) => {
    const digits = minorDigits(currency);
    if (!digits || (!withFraction && fraction === 0)) return whole > 0n ? String(whole) : `0.${'1'.padStart(digits, '0')}`;
    return `${whole}.${String(fraction).padStart(digits, '0')}`;
  });

/** Printable text on one line, not blank. */
const text = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: fc.oneof(fc.constantFrom(...'abcXYZ 019-&<>"\'éßÜ€'), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' })) })
  .filter((value) => value.trim().length > 0 && /^[^\p{Cc}\p{Cf}\u2028\u2029]*$/u.test(value));

const date = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((value) => value.toISOString().slice(0, 10));

const validPayment: fc.Arbitrary<PaymentDetails> = fc.constantFrom(...CURRENCIES).chain((currency) => fc.record({
  amount: amountIn(currency),
  currency: fc.constant(currency),
  creditorName: text(140),
  creditorAccount: iban,
  debtorAccount: fc.option(iban, { nil: undefined }),
  remittanceInformation: fc.option(text(140), { nil: undefined }),
  requestedExecutionDate: fc.option(date, { nil: undefined }),
  paymentId: fc.stringMatching(/^[\x21-\x7e]{1,128}$/),
}, { requiredKeys: ['amount', 'currency', 'creditorName', 'creditorAccount', 'paymentId'] }));

/** Values a careless or hostile caller might put anywhere. */
const hostile = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.string({ maxLength: 50 }),
  fc.string({ unit: 'binary', maxLength: 50 }),
  fc.constantFrom('', ' ', '0', '-1', '1e999', 'NaN', 'Infinity', '__proto__', 'constructor', '\u0000', '\u202e', 'x'.repeat(10_000), '1'.repeat(400), 'ZZ00 0000', '2030-02-30', 'urn:ietf:params:oauth:request_uri:x'),
  fc.constantFrom(null, undefined, 0, -0, Number.NaN, Infinity, 1.5, 2 ** 53, true, [], {}, () => 'function', Symbol('s'), 10n, new Date(0), /re/),
);

describe('payment authorizations under random and hostile input', function properties() {
  this.timeout(120_000);
  const { server, client, outcomes } = paymentsSuite();
  const other = suiteClient(server, () => otherPisp(['authorization_code']));

  describe('openInitiation and openCancellation', () => {
    it('open every valid payment, normalized, with a URL of the client\'s entry page', async () => {
      await fc.assert(fc.asyncProperty(validPayment, fc.boolean(), fc.option(fc.stringMatching(/^[\x20-\x7e]{0,80}$/), { nil: undefined }), async (payment, cancellation, state) => {
        const input = request(client, { payment, state });
        const opened = await (cancellation ? server.auth.payments.openCancellation(input) : server.auth.payments.openInitiation(input));
        const detail = opened.authorizationDetails[0]!;
        expect(opened.authorizationDetails).to.have.length(1);
        expect(detail.type).to.equal(cancellation ? 'payment_cancellation' : 'payment_initiation');
        expect(detail.instructedAmount).to.deep.equal({ amount: payment.amount, currency: payment.currency });
        expect(detail.creditorName).to.equal(payment.creditorName.trim());
        expect(detail.creditorAccount.iban).to.equal(payment.creditorAccount.replace(/\s/g, '').toUpperCase());
        expect(detail.debtorAccount?.iban).to.equal(payment.debtorAccount?.replace(/\s/g, '').toUpperCase());
        expect(detail.remittanceInformationUnstructured).to.equal(payment.remittanceInformation?.trim());
        expect(detail.requestedExecutionDate).to.equal(payment.requestedExecutionDate);
        expect(detail.paymentId).to.equal(payment.paymentId);
        const url = new URL(opened.url);
        expect(`${url.origin}${url.pathname}`).to.equal(`${server.issuer}/en/sandbox/signin.html`);
        expect([...url.searchParams.keys()]).to.deep.equal(['client_id', 'request_uri']);
        expect(url.searchParams.get('request_uri')).to.equal(`urn:ietf:params:oauth:request_uri:${opened.id}`);
        expect((await server.auth.payments.statusOf(opened.id))?.status).to.equal('pending');
      }), { numRuns: 150 });
    });

    it('answer anything else with a PaymentRequestError, never another error', async () => {
      const field = fc.constantFrom('clientId', 'payment', 'redirectUri', 'state', 'language', 'codeChallenge', 'extra', '__proto__', 'constructor');
      const paymentField = fc.constantFrom('amount', 'currency', 'creditorName', 'creditorAccount', 'debtorAccount', 'remittanceInformation', 'requestedExecutionDate', 'paymentId', 'extra', '__proto__');
      const mutated = fc.tuple(validPayment, fc.array(fc.tuple(field, hostile), { maxLength: 3 }), fc.array(fc.tuple(paymentField, hostile), { maxLength: 3 }))
        .map(([payment, changes, paymentChanges]) => {
          const input: Record<string, unknown> = { ...request(client, { payment: { ...payment } }) };
          const body = input.payment as Record<string, unknown>;
          for (const [name, value] of paymentChanges) Object.defineProperty(body, name, { value, enumerable: true, configurable: true, writable: true });
          for (const [name, value] of changes) Object.defineProperty(input, name, { value, enumerable: true, configurable: true, writable: true });
          return input;
        });
      await fc.assert(fc.asyncProperty(fc.oneof(mutated, hostile), fc.boolean(), async (input, cancellation) => {
        const told = outcomes.received.length;
        try {
          const opened = await (cancellation ? server.auth.payments.openCancellation(input as PaymentAuthorizationRequest) : server.auth.payments.openInitiation(input as PaymentAuthorizationRequest));
          // What passes is a valid request: its payment is the one registered.
          expect(opened.url.startsWith(`${server.issuer}/`)).to.equal(true);
          expect(opened.authorizationDetails[0]!.paymentId).to.equal((input as { payment: PaymentDetails }).payment.paymentId);
        } catch (error) {
          expect(error, String(error)).to.be.instanceOf(PaymentRequestError);
          const { code, message } = error as PaymentRequestError;
          expect(code).to.be.oneOf(['invalid_request', 'invalid_client', 'unauthorized_client', 'invalid_redirect_uri']);
          expect(message).to.be.a('string').and.not.equal('');
          expect(message.length).to.be.below(1000);
          expect(message).to.not.match(LEAK);
        }
        expect(outcomes.received.length).to.equal(told);
      }), { numRuns: 400 });
    });
  });

  it('shows every amount exactly as Intl formats its decimal string, in every language', () => {
    fc.assert(fc.property(fc.constantFrom(...CURRENCIES).chain((currency) => fc.tuple(fc.constant(currency), amountIn(currency))), fc.constantFrom('de', 'en', 'fr'), ([currency, amount], language) => {
      const digits = minorDigits(currency);
      const expected = new Intl.NumberFormat(language, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits })
        .format(amount as unknown as number);
      expect(formatAmount(amount, currency, language), `${amount} ${currency} ${language}`).to.equal(expected);
    }), { numRuns: 1000 });
  });

  describe('the entry pages', () => {
    const real = () => [client.clientId, other.clientId];

    it('never answer a random client_id and request_uri with a 5xx, a stack trace or a redirect to an unregistered URI', async () => {
      const opened = await Promise.all(Array.from({ length: 3 }, () => server.auth.payments.openInitiation(request(client))));
      const urns = opened.map((authorization) => new URL(authorization.url).searchParams.get('request_uri')!);
      const clientId = fc.oneof(fc.constantFrom(...real()), fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '%', '\u0000', '../x', 'x'.repeat(3000)));
      const requestUri = fc.oneof(
        fc.constantFrom(...urns),
        fc.string({ maxLength: 60 }).map((suffix) => `urn:ietf:params:oauth:request_uri:${suffix}`),
        fc.constantFrom(...urns).chain((urn) => fc.string({ minLength: 1, maxLength: 5 }).map((suffix) => `${urn}${suffix}`)),
        fc.string({ maxLength: 60 }),
        fc.string({ unit: 'binary', maxLength: 40 }),
        fc.constantFrom('https://evil.example/r', 'urn:ietf:params:oauth:request_uri:', 'urn:ietf:params:oauth:request_uri', '\u0000'),
      );
      const extra = fc.array(fc.tuple(fc.constantFrom('redirect_uri', 'state', 'scope', 'response_type', 'authorization_details', 'request', 'response_mode', 'prompt', 'client_id', 'request_uri'), fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('https://evil.example/cb', REDIRECT_URI, 'fragment', 'form_post', 'none', 'code', 'token', 'pisp'))), { maxLength: 3 });
      const path = fc.constantFrom('/oauth2/en/sandbox/signin.html', '/oauth2/fr/banque/oauth2_authorization.aspx', '/oauth2/authorize', '/oauth2/de-AT/sandbox/signin.html', '/oauth2/xx/sandbox/signin.html');
      await fc.assert(fc.asyncProperty(path, fc.option(clientId, { nil: undefined }), fc.option(requestUri, { nil: undefined }), extra, async (where, id, uri, extras) => {
        const query = new URLSearchParams();
        if (id !== undefined) query.append('client_id', id);
        if (uri !== undefined) query.append('request_uri', uri);
        for (const [name, value] of extras) query.append(name, value);
        const res = await server.request().get(`${where}?${query.toString()}`);
        const named = query.getAll('client_id');
        const registered = named.length === 1 && named[0] === other.clientId ? [OTHER_REDIRECT_URI] : named.length === 1 && named[0] === client.clientId ? [REDIRECT_URI] : [];
        expectContained({ status: res.status, text: res.text, headers: res.headers }, server, registered);
        // A code only ever comes from the PSU's decision.
        expect(String(res.headers.location ?? '')).to.not.match(/[?&#]code=/);
      }), { numRuns: 150 });
    });
  });

  describe('the payment page\'s form', () => {
    it('confirms only on decision=grant, and only the registered payment, whatever else is posted', async () => {
      const decision = fc.oneof(fc.constantFrom('grant', 'refuse', 'GRANT', 'grant ', '', 'confirm'), fc.string({ maxLength: 10 }), fc.array(fc.constantFrom('grant', 'refuse'), { minLength: 2, maxLength: 3 }));
      const fieldName = fc.constantFrom('amount', 'currency', 'creditorName', 'creditorAccount', 'debtorAccount', 'paymentId', 'authorization_details', 'accounts', 'psu', 'redirect_uri', 'state', '__proto__', 'lang');
      const extras = fc.array(fc.tuple(fieldName, fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('99999.99', 'JPY', 'Mallory', 'DE89370400440532013000', 'sb-anna-2'))), { maxLength: 5 });
      let serial = 0;
      await fc.assert(fc.asyncProperty(decision, extras, async (value, fields) => {
        serial += 1;
        const state = `prop-${serial}`;
        const opened = await server.auth.payments.openInitiation(request(client, { state }));
        const { browser, page } = await paymentPage(server, opened.url);
        const form: Record<string, string | string[]> = {};
        for (const [name, text] of fields) form[name] = [...([] as string[]).concat(form[name] ?? []), text];
        const answer = await browser.post(formAction(page, '/consent'), { ...form, csrf: csrfOf(page), decision: value });
        const end = await browser.follow(answer, server.url);
        if (value === 'grant') {
          expectCode(end, state);
          expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'confirmed', psuId: 'sandbox-anna' });
        } else {
          expectDenied(end, state);
          expectOutcome(toldOnce(outcomes.received, opened), opened, client, { status: 'rejected', psuId: 'sandbox-anna' });
        }
      }), { numRuns: 40 });
    });
  });
});
