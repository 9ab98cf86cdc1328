import { SCOPES } from '../../psd2/scopes.js';
import type { AnswerStep } from './step.js';
import { jsonBodyOf } from './step.js';

/** OpenID Connect fields of oidc-provider's discovery document that a pure OAuth 2 server omits. */
const OIDC_ONLY_METADATA = [
  'claims_parameter_supported',
  'claims_supported',
  'claim_types_supported',
  'id_token_signing_alg_values_supported',
  'subject_types_supported',
  'request_parameter_supported',
  'request_uri_parameter_supported',
  'require_request_uri_registration',
  // Pushed authorization requests are the payment API's, made in process.
  'pushed_authorization_request_endpoint',
  'require_pushed_authorization_requests',
] as const;

/** What the RFC 8414 metadata document adds to oidc-provider's. */
export interface MetadataFacts {
  /** The introspection endpoint's URL (RFC 8414 §2: published; only the bank's resource servers use it). */
  readonly introspectionEndpoint: string;
  /** How the bank's resource servers authenticate there. */
  readonly introspectionAuthMethods: readonly string[];
  /** The languages of the PSU pages. */
  readonly languages: readonly string[];
}

/** The metadata document of a pure OAuth 2 server with PSD2 scopes and mutual TLS only. */
export function describeServer(facts: MetadataFacts): AnswerStep {
  return (ctx) => {
    const metadata = ctx.oidc?.route === 'discovery' ? jsonBodyOf(ctx) : undefined;
    if (!metadata) return;
    for (const field of OIDC_ONLY_METADATA) delete metadata[field];
    metadata.scopes_supported = [...SCOPES];
    metadata.revocation_endpoint_auth_methods_supported = ['tls_client_auth'];
    metadata.introspection_endpoint = facts.introspectionEndpoint;
    if (facts.introspectionAuthMethods.length) metadata.introspection_endpoint_auth_methods_supported = [...facts.introspectionAuthMethods];
    metadata.ui_locales_supported = [...facts.languages];
  };
}
