/**
 * Metadata oidc-provider keeps and returns when a client sends it: the answer stays within the
 * OpenAPI document (every response of `server.request` is held to it).
 */
import { expect } from 'chai';

import { sandboxTpp } from '../support/pki.js';
import { suiteServer } from '../support/suite.js';

describe('registration: metadata kept as sent, within the OpenAPI document', () => {
  const server = suiteServer();

  const cases: [string, unknown][] = [
    ['default_max_age', 0],
    ['application_type', 'native'],
    ['use_mtls_endpoint_aliases', true],
    ['require_auth_time', true],
  ];
  for (const [field, value] of cases) {
    it(`${field}: registered and returned as documented`, async () => {
      const tpp = await sandboxTpp({ roles: ['PSP_AI'] });
      const res = await server.request(tpp).post('/oauth2/register').send({ redirect_uris: ['https://tpp.example/callback'], scope: 'aisp', [field]: value });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body[field]).to.deep.equal(value);
    });
  }
});
