/**
 * A PSD2 rule's refusal: the RFC error code and the description the TPP reads. The rules return
 * refusals; the provider layer turns them into oidc-provider's errors, so that the rules stay pure.
 */
export interface Refusal {
  readonly error:
    | 'invalid_request'
    | 'invalid_request_uri'
    | 'invalid_scope'
    | 'invalid_target'
    | 'invalid_grant'
    | 'unauthorized_client';
  readonly description: string;
  /** For `invalid_scope`: the scopes refused. */
  readonly scope?: string;
}
