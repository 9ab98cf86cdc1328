import type { X509Certificate } from 'node:crypto';

import { expect } from 'chai';

import type { TppIdentity } from '../../lib/certificates/identity.js';
import type { Psd2Role } from '../../lib/certificates/oids.js';
import { InvalidClientMetadataError, InvalidRedirectUriError, OAuthError } from '../../lib/errors.js';
import { CERTIFICATE_DERIVED_FIELDS, applyRegistrationPolicy } from '../../lib/registration/policy.js';

const SUBJECT_DN = 'CN=acme.example,organizationIdentifier=PSDFR-ACPR-12345,O=Acme Payments,C=FR';

function identity(roles: readonly Psd2Role[], environment: 'sandbox' | 'bank' = 'sandbox'): TppIdentity {
  return {
    environment,
    roles,
    ncaName: 'Autorité de contrôle prudentiel et de résolution',
    ncaId: 'FR-ACPR',
    organizationIdentifier: 'PSDFR-ACPR-12345',
    // Certificate order (least specific first), as the certificate parser returns it.
    subject: [
      { oid: '2.5.4.6', value: 'FR' },
      { oid: '2.5.4.10', value: 'Acme Payments' },
      { oid: '2.5.4.97', value: 'PSDFR-ACPR-12345' },
      { oid: '2.5.4.3', value: 'acme.example' },
    ],
    subjectDn: SUBJECT_DN,
    thumbprint: 'thumbprint',
    certificate: undefined as unknown as X509Certificate,
    notAfter: new Date('2099-01-01T00:00:00Z'),
    // The registration policy reads the identity only, never the path it was verified through.
    path: [],
  };
}

interface Call {
  readonly roles?: readonly Psd2Role[];
  readonly environment?: 'sandbox' | 'bank';
  readonly loopback?: boolean;
}

/** Runs the policy on a copy of `requested` and returns the resulting metadata. */
function apply(requested: Record<string, unknown>, call: Call = {}): Record<string, unknown> {
  const metadata = structuredClone(requested);
  applyRegistrationPolicy(metadata, {
    identity: identity(call.roles ?? ['PSP_AI'], call.environment),
    requested,
    allowLoopbackRedirectUris: call.loopback ?? (call.environment ?? 'sandbox') === 'sandbox',
  });
  return metadata;
}

/** Runs the policy expecting a refusal; returns the error after checking that `metadata` was left alone. */
function refuse(requested: Record<string, unknown>, call: Call = {}): OAuthError {
  const metadata = structuredClone(requested);
  const before = structuredClone(metadata);
  let thrown: unknown;
  try {
    applyRegistrationPolicy(metadata, {
      identity: identity(call.roles ?? ['PSP_AI'], call.environment),
      requested,
      allowLoopbackRedirectUris: call.loopback ?? (call.environment ?? 'sandbox') === 'sandbox',
    });
  } catch (error) {
    thrown = error;
  }
  expect(thrown, 'the policy accepted the metadata').to.be.instanceOf(OAuthError);
  expect(metadata, 'a refused request must change nothing').to.deep.equal(before);
  return thrown as OAuthError;
}

function refuseMetadata(requested: Record<string, unknown>, description: RegExp, call: Call = {}): void {
  const error = refuse(requested, call);
  expect(error).to.be.instanceOf(InvalidClientMetadataError);
  expect(error.error).to.equal('invalid_client_metadata');
  expect(error.status).to.equal(400);
  expect(error.error_description).to.match(description);
}

function refuseRedirect(requested: Record<string, unknown>, description: RegExp, call: Call = {}): void {
  const error = refuse(requested, call);
  expect(error).to.be.instanceOf(InvalidRedirectUriError);
  expect(error.error).to.equal('invalid_redirect_uri');
  expect(error.status).to.equal(400);
  expect(error.error_description).to.match(description);
  // oidc-provider reports descriptions starting with "redirect_uris" as invalid_redirect_uri.
  expect(error.error_description).to.match(/^redirect_uris /);
}

const CODE = { redirect_uris: ['https://tpp.example/cb'] };

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

  describe('redirect URIs', () => {
    for (const uri of [' https://tpp.example/cb', 'https://tpp.example/cb ', 'https://tpp.example/c b']) {
      it(`refuses ${JSON.stringify(uri)}: whitespace would be trimmed by URL parsing`, () => {
        refuseRedirect({ redirect_uris: [uri], scope: 'aisp' }, /must not contain whitespace/);
      });
    }

    it('accepts https URIs, with path, query and port', () => {
      const uris = ['https://tpp.example/cb', 'https://tpp.example:8443/a/b?x=1'];
      expect(apply({ redirect_uris: uris }).redirect_uris).to.deep.equal(uris);
    });

    for (const uri of ['http://127.0.0.1/cb', 'http://127.0.0.1:8080/cb', 'http://localhost:3000/cb', 'http://[::1]/cb']) {
      it(`accepts the loopback ${uri} where loopback is allowed (sandbox)`, () => {
        expect(apply({ redirect_uris: [uri] }, { loopback: true }).redirect_uris).to.deep.equal([uri]);
      });
      it(`refuses the loopback ${uri} where loopback is not allowed (bank)`, () => {
        refuseRedirect({ redirect_uris: [uri] }, /allowed only in the sandbox/, { environment: 'bank', loopback: false });
      });
    }

    const refused: [string, string, RegExp][] = [
      ['http on a public host', 'http://tpp.example/cb', /must use https/],
      ['http on a host that merely starts with localhost', 'http://localhost.tpp.example/cb', /must use https/],
      ['http on another 127/8 address', 'http://127.0.0.2/cb', /must use https/],
      ['a custom scheme', 'com.tpp.app:/cb', /must use https/],
      ['a javascript: URI', 'javascript:alert(1)', /must use https/],
      ['a fragment', 'https://tpp.example/cb#frag', /must not have a fragment/],
      ['an empty fragment', 'https://tpp.example/cb#', /must not have a fragment/],
      ['a relative URI', '/cb', /must hold absolute URLs/],
      ['a scheme-relative URI', '//tpp.example/cb', /must hold absolute URLs/],
      ['an empty string', '', /must hold absolute URLs/],
      ['credentials', 'https://user:pass@tpp.example/cb', /must not hold credentials/],
    ];
    for (const [what, uri, description] of refused) {
      it(`refuses a redirect URI with ${what} (${uri || 'empty'}) in the sandbox`, () => {
        refuseRedirect({ redirect_uris: ['https://tpp.example/ok', uri] }, description, { loopback: true });
      });
    }

    for (const uris of ['https://tpp.example/cb', [42], [null]]) {
      it(`refuses redirect_uris ${JSON.stringify(uris)} (not an array of strings)`, () => {
        const error = refuse({ redirect_uris: uris });
        expect(error.error_description).to.match(/^redirect_uris must be an array of strings/);
      });
    }
  });
});
