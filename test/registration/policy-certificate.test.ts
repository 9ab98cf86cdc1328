/**
 * The registration policy (applyRegistrationPolicy): the fields derived from the TPP's
 * certificate, and metadata of no use to a pure OAuth 2 server.
 */
import { expect } from 'chai';

import { CERTIFICATE_DERIVED_FIELDS, applyRegistrationPolicy } from '../../lib/registration/policy.js';
import { apply, CODE, identity, refuseMetadata, SUBJECT_DN } from './policy-calls.js';

describe('registration policy (applyRegistrationPolicy)', () => {
  describe('certificate-derived fields', () => {
    it('writes every certificate-derived field into the metadata', () => {
      const metadata = apply({ ...CODE, scope: 'aisp' });
      expect(metadata).to.include({
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_auth_subject_dn: SUBJECT_DN,
        tls_client_certificate_bound_access_tokens: true,
        provider_legal_id: 'PSDFR-ACPR-12345',
        psd2_environment: 'sandbox',
      });
      expect(apply({ ...CODE }, { environment: 'bank' }).psd2_environment).to.equal('bank');
      for (const field of CERTIFICATE_DERIVED_FIELDS) expect(metadata).to.have.property(field);
    });

    it('overwrites defaults already present in the metadata with the certificate values', () => {
      const metadata: Record<string, unknown> = { ...CODE, token_endpoint_auth_method: 'client_secret_basic', tls_client_certificate_bound_access_tokens: false };
      applyRegistrationPolicy(metadata, { identity: identity(['PSP_AI']), requested: { ...CODE }, allowLoopbackRedirectUris: false });
      expect(metadata.token_endpoint_auth_method).to.equal('tls_client_auth');
      expect(metadata.tls_client_certificate_bound_access_tokens).to.equal(true);
    });

    it('removes client secrets and other subject fields from the metadata', () => {
      const metadata: Record<string, unknown> = { ...CODE, client_secret: 's3cret', client_secret_expires_at: 0 };
      applyRegistrationPolicy(metadata, { identity: identity(['PSP_AI']), requested: { ...CODE }, allowLoopbackRedirectUris: false });
      expect(metadata).not.to.have.property('client_secret');
      expect(metadata).not.to.have.property('client_secret_expires_at');
    });

    const others: [string, unknown][] = [
      ['token_endpoint_auth_method', 'client_secret_basic'],
      ['token_endpoint_auth_method', 'self_signed_tls_client_auth'],
      ['token_endpoint_auth_method', 'none'],
      ['tls_client_certificate_bound_access_tokens', false],
      ['tls_client_certificate_bound_access_tokens', 'true'],
      ['provider_legal_id', 'PSDFR-ACPR-99999'],
      ['provider_legal_id', 'psdfr-acpr-12345'],
      ['psd2_environment', 'bank'],
      ['psd2_environment', 'production'],
    ];
    for (const [field, value] of others) {
      it(`refuses ${field} sent as ${JSON.stringify(value)}`, () => {
        refuseMetadata({ ...CODE, [field]: value }, new RegExp(`^${field} is derived from the client certificate`));
      });
    }

    it('accepts every derived field sent with the certificate value', () => {
      const metadata = apply({
        ...CODE,
        token_endpoint_auth_method: 'tls_client_auth',
        tls_client_certificate_bound_access_tokens: true,
        provider_legal_id: 'PSDFR-ACPR-12345',
        psd2_environment: 'sandbox',
        tls_client_auth_subject_dn: SUBJECT_DN,
      });
      expect(metadata.tls_client_auth_subject_dn).to.equal(SUBJECT_DN);
    });

    it('refuses psd2_environment sandbox from a bank certificate', () => {
      refuseMetadata({ ...CODE, psd2_environment: 'sandbox' }, /psd2_environment .*"bank"/, { environment: 'bank' });
    });

    const sameDn = [
      ['OpenSSL one-line form', '/C=FR/O=Acme Payments/organizationIdentifier=PSDFR-ACPR-12345/CN=acme.example'],
      ["Node's newline form", 'C=FR\nO=Acme Payments\norganizationIdentifier=PSDFR-ACPR-12345\nCN=acme.example'],
      ['dotted OID and other order, spacing and case', 'c=FR, 2.5.4.97=PSDFR-ACPR-12345, o=acme payments, cn=ACME.example'],
    ] as const;
    for (const [dialect, dn] of sameDn) {
      it(`accepts tls_client_auth_subject_dn of the certificate in the ${dialect}, storing the RFC 4514 form`, () => {
        expect(apply({ ...CODE, tls_client_auth_subject_dn: dn }).tls_client_auth_subject_dn).to.equal(SUBJECT_DN);
      });
    }

    const otherDn: [string, unknown][] = [
      ['another CN', 'CN=other.example,organizationIdentifier=PSDFR-ACPR-12345,O=Acme Payments,C=FR'],
      ['another organizationIdentifier', 'CN=acme.example,organizationIdentifier=PSDFR-ACPR-99999,O=Acme Payments,C=FR'],
      ['an attribute less', 'CN=acme.example,O=Acme Payments,C=FR'],
      ['an attribute more', `OU=IT,${SUBJECT_DN}`],
      ['unparseable text', 'not a distinguished name'],
      ['an empty string', ''],
      ['a number', 42],
      ['an array', [SUBJECT_DN]],
    ];
    for (const [what, dn] of otherDn) {
      it(`refuses tls_client_auth_subject_dn with ${what}`, () => {
        refuseMetadata({ ...CODE, tls_client_auth_subject_dn: dn }, /^tls_client_auth_subject_dn is derived from the client certificate/);
      });
    }

    for (const field of ['tls_client_auth_san_dns', 'tls_client_auth_san_uri', 'tls_client_auth_san_ip', 'tls_client_auth_san_email']) {
      it(`refuses ${field} (RFC 8705 allows one subject field; this server uses the DN)`, () => {
        refuseMetadata({ ...CODE, [field]: 'acme.example' }, new RegExp(`^${field} is not supported`));
      });
    }
  });

  describe('metadata of no use to a pure OAuth 2 server', () => {
    it('refuses sector_identifier_uri (oidc-provider would fetch it while registering)', () => {
      refuseMetadata({ ...CODE, sector_identifier_uri: 'https://tpp.example/sector.json' }, /^sector_identifier_uri is not supported/);
    });
  });
});
