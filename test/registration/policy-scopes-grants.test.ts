/**
 * The registration policy (applyRegistrationPolicy): scope against the certificate's roles, grant
 * types and response types.
 */
import { expect } from 'chai';

import type { Psd2Role } from '../../lib/certificates/oids.js';
import { apply, CODE, refuse, refuseMetadata } from './policy-calls.js';

describe('registration policy (applyRegistrationPolicy)', () => {
  describe('scope against the certificate roles (DESIGN 3.2)', () => {
    const accepted: [readonly Psd2Role[], string, string][] = [
      [['PSP_AI'], 'aisp', 'aisp'],
      [['PSP_AI'], 'aisp extended_transaction_history', 'aisp extended_transaction_history'],
      [['PSP_AI'], 'extended_transaction_history aisp', 'aisp extended_transaction_history'],
      [['PSP_AI'], '  aisp\taisp  ', 'aisp'],
      [['PSP_IC'], 'cbpii', 'cbpii'],
      [['PSP_PI'], 'pisp', 'pisp'],
      [['PSP_AI', 'PSP_IC'], 'cbpii aisp', 'aisp cbpii'],
    ];
    for (const [roles, scope, stored] of accepted) {
      it(`accepts scope "${scope.replace(/\s+/g, ' ').trim()}" for ${roles.join('+')} (stored as "${stored}")`, () => {
        const requested = roles.includes('PSP_PI') && !roles.includes('PSP_AI') && !roles.includes('PSP_IC') ? { scope } : { ...CODE, scope };
        expect(apply(requested, { roles }).scope).to.equal(stored);
      });
    }

    const defaults: [readonly Psd2Role[], string, string[], string[]][] = [
      [['PSP_AI'], 'aisp extended_transaction_history', ['authorization_code', 'refresh_token'], ['code']],
      [['PSP_IC'], 'cbpii', ['authorization_code', 'refresh_token'], ['code']],
      [['PSP_PI'], 'pisp', ['client_credentials'], []],
      [['PSP_AS', 'PSP_PI'], 'pisp', ['client_credentials'], []],
      [['PSP_PI', 'PSP_AI', 'PSP_IC', 'PSP_AS'], 'aisp extended_transaction_history cbpii pisp', ['authorization_code', 'refresh_token', 'client_credentials'], ['code']],
    ];
    for (const [roles, scope, grants, responses] of defaults) {
      it(`defaults an omitted scope to everything ${roles.join('+')} allows ("${scope}")`, () => {
        const metadata = apply({ ...CODE }, { roles });
        expect(metadata.scope).to.equal(scope);
        expect(metadata.grant_types).to.deep.equal(grants);
        expect(metadata.response_types).to.deep.equal(responses);
      });
    }

    const missing: [readonly Psd2Role[], string, string][] = [
      [['PSP_PI'], 'aisp', 'PSP_AI'],
      [['PSP_IC'], 'aisp', 'PSP_AI'],
      [['PSP_IC'], 'aisp extended_transaction_history', 'PSP_AI'],
      [['PSP_AI'], 'cbpii', 'PSP_IC'],
      [['PSP_AI'], 'aisp cbpii', 'PSP_IC'],
      [['PSP_AI'], 'pisp', 'PSP_PI'],
      [['PSP_AI', 'PSP_IC'], 'aisp pisp', 'PSP_PI'],
      [['PSP_AS'], 'aisp', 'PSP_AI'],
    ];
    for (const [roles, scope, role] of missing) {
      it(`refuses scope "${scope}" for ${roles.join('+')}, naming ${role}`, () => {
        refuseMetadata({ ...CODE, scope }, new RegExp(`requires the PSD2 role ${role}\\b`), { roles });
      });
    }

    it('refuses a certificate with only PSP_AS when no scope is asked for', () => {
      refuseMetadata({ ...CODE }, /PSP_AS.*give access to no scope/, { roles: ['PSP_AS'] });
    });

    it('refuses extended_transaction_history without aisp', () => {
      refuseMetadata({ ...CODE, scope: 'extended_transaction_history' }, /extended_transaction_history can only be registered together with aisp/);
    });

    for (const scope of ['openid', 'aisp openid', 'offline_access aisp', 'AISP', 'aisp:read']) {
      it(`refuses the unknown scope in "${scope}"`, () => {
        refuseMetadata({ ...CODE, scope }, /^scope "[^"]+" is not supported/, { roles: ['PSP_AI', 'PSP_IC', 'PSP_PI'] });
      });
    }

    for (const scope of ['', '   ', 42, ['aisp'], { aisp: true }]) {
      it(`refuses scope ${JSON.stringify(scope)} (not a space-separated string)`, () => {
        refuseMetadata({ ...CODE, scope }, /^scope must be a space-separated string/);
      });
    }
  });

  describe('grant types and response types', () => {
    it('accepts the grant types of the registered scope', () => {
      const metadata = apply({ ...CODE, scope: 'aisp', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] });
      expect(metadata.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
      expect(metadata.response_types).to.deep.equal(['code']);
    });

    it('accepts client_credentials for PSP_PI with no redirect URI and no response type', () => {
      const metadata = apply({ scope: 'pisp', grant_types: ['client_credentials'] }, { roles: ['PSP_PI'] });
      expect(metadata.grant_types).to.deep.equal(['client_credentials']);
      expect(metadata.response_types).to.deep.equal([]);
    });

    it('removes duplicate grant and response types', () => {
      const metadata = apply({ ...CODE, grant_types: ['authorization_code', 'authorization_code'], response_types: ['code', 'code'] });
      expect(metadata.grant_types).to.deep.equal(['authorization_code']);
      expect(metadata.response_types).to.deep.equal(['code']);
    });

    it('refuses client_credentials without PSP_PI, naming PSP_PI', () => {
      refuseMetadata({ ...CODE, grant_types: ['authorization_code', 'client_credentials'] }, /grant type client_credentials requires the PSD2 role PSP_PI/);
    });

    it('refuses refresh_token for a PISP-only certificate, naming the roles that allow it', () => {
      refuseMetadata({ ...CODE, grant_types: ['authorization_code', 'refresh_token'] }, /grant type refresh_token requires the PSD2 role PSP_AI or PSP_IC/, { roles: ['PSP_PI'] });
    });

    it('lets a PISP register authorization_code, for the payments its PSUs confirm; the payment types follow', () => {
      const metadata = apply({ ...CODE, grant_types: ['authorization_code', 'client_credentials'] }, { roles: ['PSP_PI'] });
      expect(metadata.scope).to.equal('pisp');
      expect(metadata.authorization_details_types).to.deep.equal(['payment_initiation', 'payment_cancellation']);
      expect(metadata.require_pushed_authorization_requests).to.equal(false);
      // Without a way back to the PISP (no authorization_code), or without the role: none.
      expect(apply({ grant_types: ['client_credentials'] }, { roles: ['PSP_PI'] }).authorization_details_types).to.deep.equal([]);
      expect(apply({ ...CODE }, { roles: ['PSP_AI'] }).authorization_details_types).to.deep.equal([]);
    });

    it('gives a PISP registering without grant_types client_credentials alone (no redirect needed)', () => {
      expect(apply({}, { roles: ['PSP_PI'] }).grant_types).to.deep.equal(['client_credentials']);
    });

    it('refuses a grant type that does not fit the scope when the certificate holds a role for it', () => {
      // PSP_AI+PSP_PI asking for pisp only with refresh_token: the role is there, the scope is not.
      const error = refuse({ ...CODE, scope: 'pisp', grant_types: ['authorization_code', 'refresh_token'] }, { roles: ['PSP_AI', 'PSP_PI'] });
      expect(error.error).to.equal('invalid_client_metadata');
      expect(error.error_description).to.match(/grant type refresh_token does not fit the registered scope pisp/);
      expect(error.error_description, 'must not claim a missing role the certificate does not need').not.to.match(/PSP_IC/);
    });

    it('refuses client_credentials with an aisp scope even when the certificate holds PSP_PI', () => {
      refuseMetadata({ ...CODE, scope: 'aisp', grant_types: ['client_credentials'] }, /grant type client_credentials does not fit the registered scope aisp/, { roles: ['PSP_AI', 'PSP_PI'] });
    });

    for (const grant of ['implicit', 'password', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:openid:params:grant-type:ciba']) {
      it(`refuses the unsupported grant type ${grant}`, () => {
        refuseMetadata({ ...CODE, grant_types: [grant] }, new RegExp(`^grant type ${grant} is not supported`), { roles: ['PSP_AI', 'PSP_IC', 'PSP_PI'] });
      });
    }

    for (const grants of ['authorization_code', [1], [null], { 0: 'authorization_code' }]) {
      it(`refuses grant_types ${JSON.stringify(grants)} (not an array of strings)`, () => {
        refuseMetadata({ ...CODE, grant_types: grants }, /^grant_types must be an array of strings/);
      });
    }

    for (const type of ['token', 'id_token', 'code id_token', 'code token', 'none', 'CODE']) {
      it(`refuses the response type "${type}"`, () => {
        refuseMetadata({ ...CODE, response_types: [type] }, /^response type .* is not supported; only code is/);
      });
    }

    it('refuses grant types with which the client could never obtain a token', () => {
      refuseMetadata({ ...CODE, scope: 'aisp', grant_types: [] }, /must hold authorization_code or client_credentials/);
      refuseMetadata({ ...CODE, scope: 'aisp', grant_types: ['refresh_token'], response_types: [] }, /refresh_token needs authorization_code/);
    });

    it('reads null values as omitted fields (RFC 7592 §2.2)', () => {
      const metadata = apply({
        ...CODE,
        scope: null,
        grant_types: null,
        response_types: null,
        provider_legal_id: null,
        tls_client_auth_subject_dn: null,
        token_endpoint_auth_method: null,
      }, { roles: ['PSP_AI'] });
      expect(metadata.scope).to.equal('aisp extended_transaction_history');
      expect(metadata.grant_types).to.deep.equal(['authorization_code', 'refresh_token']);
      expect(metadata.provider_legal_id).to.equal('PSDFR-ACPR-12345');
      expect(metadata.token_endpoint_auth_method).to.equal('tls_client_auth');
    });

    it('refuses the code response type without the authorization_code grant', () => {
      refuseMetadata({ ...CODE, scope: 'pisp', response_types: ['code'] }, /response type code requires the authorization_code grant type/, { roles: ['PSP_PI'] });
    });

    it('refuses the authorization_code grant without the code response type', () => {
      refuseMetadata({ ...CODE, response_types: [] }, /authorization_code grant type requires the code response type/);
    });
  });
});
