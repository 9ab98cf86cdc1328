import type { PaymentAuthorizationDetail } from './payments/details.js';
import type { ConsentRecord } from './psd2/authorization.js';

/** What RFC 7662 §2.2 answers, with the PSD2 facts the bank's API needs to decide alone. */
export type IntrospectionResponse =
  | { active: false }
  | {
    active: true;
    iss: string;
    client_id: string;
    token_type: 'Bearer';
    scope: string;
    iat: number;
    exp: number;
    cnf?: { 'x5t#S256': string };
    provider_legal_id?: string;
    psd2_environment?: string;
    /** The PSU, for tokens issued under a PSU's consent. */
    sub?: string;
    /** Accounts the PSU chose to share. */
    accounts?: ConsentRecord['accounts'];
    /** Time of the PSU's strong customer authentication (seconds since the epoch). */
    sca_time?: number;
    /** When the consent ends (seconds since the epoch): no refresh works after it. */
    consent_expires_at?: number;
    /** The payment the PSU confirmed (RFC 9396), for the token of a payment authorization. */
    authorization_details?: readonly PaymentAuthorizationDetail[];
    /** The resource the token is for (RFC 8707): the payment API, for the token of a payment. */
    aud?: string;
  };
