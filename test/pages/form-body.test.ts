/**
 * The pages' form parser: what browsers post is read by the pages themselves, anything else by
 * body-parser, with the same fields and the same refusals either way.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { formFields } from '../../interactions/form-body.js';
import { csrfOf, formAction, PsuBrowser } from '../support/psu-browser.js';
import { pagesSuite } from '../support/pages.js';
import { openSignIn, stepOf } from './helpers.js';

describe('PSU pages: the form parser', function formBody() {
  const { server, sandbox } = pagesSuite();

  it('gives back any fields as they were posted, a repeated name as the list of its values', () => {
    const name = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'accounts', 'a[b]', 'a.b'));
    fc.assert(fc.property(fc.uniqueArray(fc.tuple(name, fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 3 })), { selector: ([key]) => key, maxLength: 6 }), (fields) => {
      const body = new URLSearchParams();
      for (const [key, values] of fields) for (const value of values) body.append(key, value);
      const parsed = formFields(body.toString());
      expect(Object.keys(parsed)).to.have.members(fields.map(([key]) => key));
      for (const [key, values] of fields) expect(parsed[key]).to.deep.equal(values.length === 1 ? values[0] : values);
    }));
  });

  for (const type of ['application/x-www-form-urlencoded; charset=UTF-8', 'application/x-www-form-urlencoded; charset=iso-8859-1']) {
    it(`reads a sign-in posted as ${type}`, async () => {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, sandbox);
      const signedIn = await browser.post(formAction(page, '/signin'), { csrf: csrfOf(page), psu: 'sandbox-anna' }, { 'content-type': type });
      expect(signedIn.status, signedIn.text).to.equal(303);
      expect(stepOf(await browser.follow(signedIn, server.issuer))).to.equal('consent');
    });
  }

  it('refuses a form of more than 50 fields with 413 invalid_request, read by either parser', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=iso-8859-1']) {
      const browser = new PsuBrowser();
      const { page } = await openSignIn(server, browser, sandbox);
      const fields: Record<string, string> = { csrf: csrfOf(page), psu: 'sandbox-anna' };
      for (let i = 0; i < 49; i += 1) fields[`f${i}`] = 'x';
      const refused = await browser.post(formAction(page, '/signin'), fields, { 'content-type': type });
      expect(refused.status, `${type}: ${refused.text}`).to.equal(413);
      expect(JSON.parse(refused.text)).to.include({ error: 'invalid_request' });
    }
  });
});
