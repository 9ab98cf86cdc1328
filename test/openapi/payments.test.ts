/**
 * The OpenAPI document describes payment authorizations: the request_uri a PSU arrives with, the
 * errors of the authorization and token endpoints, the payment in token and introspection
 * responses; and the answers of a real payment flow hold to it.
 */
import { expect } from 'chai';

import { openApiDocument } from '../../lib/openapi/index.js';
import { resolveOptions } from '../../lib/options/index.js';
import { REDIRECT_URI, registerClient, submit, type TestClient } from '../authorization/helpers.js';
import { createOpenApiValidator, type OpenApiValidator } from '../support/openapi.js';
import { testPki } from '../support/pki.js';
import { csrfOf, formAction, PsuBrowser } from '../support/psu-browser.js';
import { SANDBOX_PSUS, TestBank } from '../support/psus.js';
import { startServer, testSigningKey, type TestServer } from '../support/server.js';

type Json = Record<string, unknown>;
type Parameter = { name: string; in: string; required: boolean; description?: string };

const DETAIL = {
  type: 'payment_initiation',
  instructedAmount: { currency: 'EUR', amount: '1250.50' },
  creditorName: 'Boulangerie Dupont',
  creditorAccount: { iban: 'FR7630006000011234567890189' },
  remittanceInformationUnstructured: 'Invoice 2026-118',
  requestedExecutionDate: '2030-12-01',
  paymentId: 'pmt-0001',
};

const TOKENS = { access_token: 'at', token_type: 'bearer', expires_in: 600, scope: 'pisp' };
const NO_STORE = { 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8' };

function json(status: number, body: unknown, headers: Record<string, string> = NO_STORE) {
  return { status, headers, text: JSON.stringify(body), body };
}

/** The message of the AssertionError `check` throws. */
function failure(check: () => void): string {
  try {
    check();
  } catch (error) {
    return (error as Error).message;
  }
  return expect.fail('the validator accepted the response');
}

describe('the OpenAPI document and payment authorizations', function payments() {
  this.timeout(60_000);
  let document: Json & { paths: Record<string, Record<string, Json>>; components: { schemas: Record<string, Json> }; info: { description: string } };
  let validator: OpenApiValidator;

  before(async () => {
    const pki = await testPki();
    const bank = new TestBank();
    document = openApiDocument(resolveOptions({
      issuer: 'https://api.bank.example/oauth2',
      signingKeys: { keys: [testSigningKey()] },
      cookieKeys: ['0123456789abcdef0123456789abcdef'],
      environments: {
        sandbox: { trustAnchors: pki.sandboxRoot.certPem, testPsus: SANDBOX_PSUS },
        bank: { trustAnchors: pki.bankCa.certPem, authenticator: bank, accounts: bank },
      },
      payments: { resource: 'https://api.bank.example/psd2/payments' },
    })) as typeof document;
    validator = createOpenApiValidator(document);
  });

  const operation = (path: string, method = 'get') => document.paths[path]?.[method] as Json & { parameters: Parameter[]; responses: Record<string, Json>; description: string };

  it('documents request_uri on the authorization endpoint and on every entry page, with client_id as the only other parameter needed', () => {
    for (const path of ['/authorize', '/{lang}/sandbox/signin.html', '/{lang}/banque/oauth2_authorization.aspx']) {
      const parameters = operation(path).parameters;
      const requestUri = parameters.find((parameter) => parameter.name === 'request_uri');
      expect(requestUri, path).to.include({ in: 'query', required: false });
      expect(requestUri?.description, path).to.contain('client_id').and.contain('payment API').and.contain('once');
      const required = parameters.filter((parameter) => parameter.required && parameter.in === 'query').map((parameter) => parameter.name);
      expect(required, path).to.deep.equal(['client_id']);
      for (const name of ['response_type', 'scope', 'code_challenge', 'code_challenge_method']) {
        expect(parameters.find((parameter) => parameter.name === name)?.description, `${path} ${name}`).to.contain('except in a payment authorization');
      }
      expect(operation(path).description, path).to.contain('request_uri');
    }
  });

  it('lists the errors a payment authorization can send the PSU back with', () => {
    for (const path of ['/authorize', '/{lang}/sandbox/signin.html', '/authorize/{uid}']) {
      const responses = operation(path).responses;
      expect(responses['302']?.description, path).to.contain('invalid_request_uri').and.contain('invalid_authorization_details');
    }
  });

  it('documents the token endpoint\'s errors and answer for payments', () => {
    const token = operation('/token', 'post');
    const content = (token.responses['400']?.content as Json)['application/json'] as { schema: { properties: { error: { enum: string[] } } }; examples: Record<string, { value: { error_description: string } }> };
    expect(content.schema.properties.error.enum).to.include.members(['invalid_target', 'invalid_authorization_details']);
    expect(content.examples.invalid_target?.value.error_description).to.contain('https://api.bank.example/psd2/payments');
    expect(token.description).to.contain('authorization_details').and.contain('https://api.bank.example/psd2/payments').and.contain('without a refresh token');
    const body = (token.requestBody as { content: Record<string, { schema: { oneOf: { title: string; required: string[] }[] } }> }).content['application/x-www-form-urlencoded']!.schema.oneOf;
    expect(body.find((grant) => grant.title === 'authorization_code')?.required).to.not.include('code_verifier');
  });

  it('has the payment detail schema, referenced by the token and introspection responses', () => {
    const schemas = document.components.schemas;
    expect(schemas.PaymentAuthorizationDetail).to.be.an('object');
    const reference = { $ref: '#/components/schemas/PaymentAuthorizationDetail' };
    expect((schemas.TokenResponse as { properties: Record<string, Json> }).properties.authorization_details?.items).to.deep.equal(reference);
    const active = (schemas.IntrospectionResponse as { oneOf: { properties: Record<string, Json> }[] }).oneOf[1]!;
    expect(active.properties.authorization_details?.items).to.deep.equal(reference);
    expect(active.properties.aud).to.be.an('object');
    expect((schemas.Metadata as { properties: Record<string, Json> }).properties.authorization_details_types_supported).to.be.an('object');
    const client = (schemas.ClientInformation as { properties: Record<string, Json> }).properties;
    expect(client).to.include.keys('authorization_details_types', 'require_pushed_authorization_requests');
  });

  it('says in its introduction how PISPs use the authorization code', () => {
    expect(document.info.description).to.match(/\| PSP_PI \(payment initiation\) \| `pisp` \| client_credentials; authorization_code for payment authorizations \|/);
    expect(document.info.description).to.contain('request_uri').and.contain('PaymentAuthorizationDetail');
    expect(operation('/register', 'post').description).to.contain('authorization_details_types');
  });

  it('holds a token answer to the payment detail schema', () => {
    validator.checkResponse('POST', '/oauth2/token', json(200, { ...TOKENS, authorization_details: [DETAIL] }));
    validator.checkResponse('POST', '/oauth2/token', json(200, { ...TOKENS, authorization_details: [{ ...DETAIL, type: 'payment_cancellation', debtorAccount: { iban: 'DE89370400440532013000' } }] }));
    expect(failure(() => validator.checkResponse('POST', '/oauth2/token', json(200, { ...TOKENS, authorization_details: [{ ...DETAIL, note: 'x' }] })))).to.contain('additional properties');
    expect(failure(() => validator.checkResponse('POST', '/oauth2/token', json(200, { ...TOKENS, authorization_details: [{ ...DETAIL, type: 'account_information' }] })))).to.contain('/authorization_details/0/type');
    expect(failure(() => validator.checkResponse('POST', '/oauth2/token', json(200, { ...TOKENS, authorization_details: [{ ...DETAIL, creditorAccount: { iban: 'FR76 3000 6000' } }] })))).to.contain('/creditorAccount/iban');
    expect(failure(() => validator.checkResponse('POST', '/oauth2/token', json(200, { ...TOKENS, authorization_details: [{ ...DETAIL, instructedAmount: { currency: 'EUR', amount: '12,50' } }] })))).to.contain('/instructedAmount/amount');
  });
});

describe('answers of a payment authorization, held to the document', function flow() {
  this.timeout(60_000);
  const secret = 'a-resource-server-secret-of-32-chars!';
  let server: TestServer;
  let client: TestClient;

  before(async () => {
    server = await startServer({ options: { resourceServers: [{ id: 'payments-api', secret }] } });
    client = await registerClient(server, { roles: ['PSP_PI'], body: { grant_types: ['authorization_code', 'client_credentials'] } });
  });
  after(() => server.close());

  const open = () => server.auth.payments.openInitiation({
    clientId: client.clientId,
    redirectUri: REDIRECT_URI,
    state: 'pay-1',
    payment: { amount: '12.50', currency: 'EUR', creditorName: 'Boulangerie Dupont', creditorAccount: 'FR7630006000011234567890189', paymentId: 'pmt-openapi' },
  });
  /** The browser's answer to `url`, checked against the document. */
  const visit = async (browser: PsuBrowser, url: string) => {
    const res = await browser.get(url);
    server.openApi.checkResponse('GET', url, res);
    return res;
  };

  it('the entry page, the pages, the token and the introspection answers are documented', async () => {
    const opened = await open();
    const browser = new PsuBrowser();
    const start = await visit(browser, opened.url);
    expect(start.status).to.equal(303);
    const signIn = await visit(browser, start.location!);
    expect(signIn.status, signIn.text).to.equal(200);
    const payment = await submit(server, browser, signIn, '/signin', { psu: 'sandbox-anna' });
    server.openApi.checkResponse('GET', payment.url, payment);
    const post = await browser.post(formAction(payment, '/consent'), { csrf: csrfOf(payment), decision: 'grant' });
    server.openApi.checkResponse('POST', post.url, post);
    const back = await visit(browser, post.location!);
    expect(back.status).to.equal(303);
    const code = new URL(back.location!).searchParams.get('code');
    expect(code).to.be.a('string');

    // server.request() holds each answer to the document.
    const tokens = await server.request(client.tpp).post('/oauth2/token').type('form')
      .send({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, client_id: client.clientId });
    expect(tokens.status, tokens.text).to.equal(200);
    expect(tokens.body.authorization_details).to.deep.equal(opened.authorizationDetails);
    const introspection = await server.request().post('/oauth2/introspect').auth('payments-api', secret).type('form').send({ token: tokens.body.access_token });
    expect(introspection.body).to.include({ active: true, scope: 'pisp', aud: new URL('/payments', server.issuer).href });
  });

  it('a second use of the link, and refusals at the token endpoint, are documented', async () => {
    const opened = await open();
    await visit(new PsuBrowser(), opened.url);
    const again = await visit(new PsuBrowser(), opened.url);
    expect(new URL(again.location!).searchParams.get('error')).to.equal('invalid_request_uri');
    const target = await server.request(client.tpp).post('/oauth2/token').type('form')
      .send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId, resource: 'https://elsewhere.example/' });
    expect(target.status).to.equal(400);
    expect(target.body.error).to.equal('invalid_target');
    const details = await server.request(client.tpp).post('/oauth2/token').type('form')
      .send({ grant_type: 'client_credentials', scope: 'pisp', client_id: client.clientId, authorization_details: JSON.stringify([{ type: 'payment_initiation' }]) });
    expect(details.status).to.equal(400);
    expect(details.body.error).to.equal('invalid_authorization_details');
  });
});
