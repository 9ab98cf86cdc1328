import { expect } from 'chai';

import { exchangeCode, redirectParams, submit } from '../authorization/helpers.js';
import { paymentsSuite } from '../support/pages.js';
import { openPayment, request, sandboxSignIn } from './helpers.js';

describe('payment authorizations', function () {
  this.timeout(20_000);
  const { server, client, outcomes } = paymentsSuite();

  it('confirms a payment initiation: the bank is told once, the TPP gets a code, the token carries the payment', async () => {
    const opened = await server.auth.payments.openInitiation(request(client));
    expect(opened.url).to.match(/\/oauth2\/en\/sandbox\/signin\.html\?client_id=.+&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3A/);
    const { browser, page } = await openPayment(server, opened.url);
    const payment = await sandboxSignIn(server, browser, page);
    expect(payment.text).to.include('Confirm this payment').and.include('1,250.50').and.include('Boulangerie Dupont').and.include('FR76 •••• 0189');
    const done = await submit(server, browser, payment, '/consent', { decision: 'grant' });
    const params = redirectParams(done.location);
    expect(params.get('state')).to.equal('pisp-state-1');
    const code = params.get('code');
    expect(code).to.be.a('string');
    expect(outcomes.of(opened.id).map((o) => o.status)).to.deep.equal(['confirmed']);
    const tokens = await exchangeCode(server, client, code!, { verifier: '', challenge: '' }, { code_verifier: undefined });
    expect(tokens.status, tokens.text).to.equal(200);
    expect(tokens.body.scope).to.equal('pisp');
    expect(tokens.body.authorization_details).to.deep.equal(opened.authorizationDetails);
  });
});
