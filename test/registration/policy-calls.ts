/**
 * Calls of the registration policy as the policy tests make them: a TPP identity with roles in an
 * environment, the metadata it asks for, and what a refusal must look like.
 */
import type { X509Certificate } from 'node:crypto';

import { expect } from 'chai';

import type { TppIdentity } from '../../lib/certificates/identity.js';
import type { Psd2Role } from '../../lib/certificates/oids.js';
import { InvalidClientMetadataError, InvalidRedirectUriError, OAuthError } from '../../lib/errors.js';
import { applyRegistrationPolicy } from '../../lib/registration/policy.js';

export const SUBJECT_DN = 'CN=acme.example,organizationIdentifier=PSDFR-ACPR-12345,O=Acme Payments,C=FR';

export function identity(roles: readonly Psd2Role[], environment: 'sandbox' | 'bank' = 'sandbox'): TppIdentity {
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

export interface Call {
  readonly roles?: readonly Psd2Role[];
  readonly environment?: 'sandbox' | 'bank';
  readonly loopback?: boolean;
}

/** Runs the policy on a copy of `requested` and returns the resulting metadata. */
export function apply(requested: Record<string, unknown>, call: Call = {}): Record<string, unknown> {
  const metadata = structuredClone(requested);
  applyRegistrationPolicy(metadata, {
    identity: identity(call.roles ?? ['PSP_AI'], call.environment),
    requested,
    allowLoopbackRedirectUris: call.loopback ?? (call.environment ?? 'sandbox') === 'sandbox',
  });
  return metadata;
}

/** Runs the policy expecting a refusal; returns the error after checking that `metadata` was left alone. */
export function refuse(requested: Record<string, unknown>, call: Call = {}): OAuthError {
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

export function refuseMetadata(requested: Record<string, unknown>, description: RegExp, call: Call = {}): void {
  const error = refuse(requested, call);
  expect(error).to.be.instanceOf(InvalidClientMetadataError);
  expect(error.error).to.equal('invalid_client_metadata');
  expect(error.status).to.equal(400);
  expect(error.error_description).to.match(description);
}

export function refuseRedirect(requested: Record<string, unknown>, description: RegExp, call: Call = {}): void {
  const error = refuse(requested, call);
  expect(error).to.be.instanceOf(InvalidRedirectUriError);
  expect(error.error).to.equal('invalid_redirect_uri');
  expect(error.status).to.equal(400);
  expect(error.error_description).to.match(description);
  // oidc-provider reports descriptions starting with "redirect_uris" as invalid_redirect_uri.
  expect(error.error_description).to.match(/^redirect_uris /);
}

export const CODE = { redirect_uris: ['https://tpp.example/cb'] };
