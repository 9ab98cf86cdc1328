// The options as a host reads them on hover. The schema (schema.ts) holds the rules and defaults and
// is checked to accept exactly these types: types inferred from it lose these comments in .d.ts files.
import type { Storage } from '../storage.js';
import type { EllipticCurve, SignatureHash } from '../certificates/algorithms.js';
import type { ExtendedKeyUsageName } from '../certificates/oids.js';
import type { Clock } from '../clock.js';
import type { Language } from '../language.js';
import type { Logger } from '../logger.js';
import type { MetricsOptions } from '../observability/metrics.js';
import type { PaymentOutcome } from '../payments/types.js';
import type { AccountLookup, PsuAuthenticator, SandboxPsu } from '../psu.js';
import type { TppRegisterOptions } from '../tpp-register/types.js';

export type { TppRegisterOptions };

/** Trust settings of one environment (`sandbox` or `bank`). */
export interface EnvironmentOptions {
  /**
   * PEM bundle of the certificate authorities (QTSP roots or intermediates) whose TPP certificates
   * this environment accepts. Required.
   */
  trustAnchors: string | Buffer;
  /**
   * Require the ETSI QcCompliance statement and QcType web (ETSI EN 319 412-5), i.e. a qualified
   * website authentication certificate. Default `true`; some test QTSPs issue sandbox certificates
   * without them. A certificate whose QcType is not web (e.g. an eseal) is refused either way.
   */
  requireQualifiedStatements?: boolean;
  /**
   * Extended key usages a certificate must list when it carries the extension. Default `[]`: real
   * QWACs carry serverAuth and clientAuth, but some QTSPs are dropping clientAuth.
   */
  requiredExtendedKeyUsages?: ExtendedKeyUsageName[];
  /**
   * Smallest RSA key, in bits, accepted anywhere on a TPP's certificate path: the TPP's certificate,
   * its CAs and the trust anchor. Default 2048 (ETSI TS 119 312; CA/Browser Forum Baseline
   * Requirements §6.1.5); between 2048 and 16384. A bank whose policy already asks for 3072 sets it.
   */
  minimumRsaKeySize?: number;
  /**
   * Curves accepted for EC and EdDSA keys anywhere on the path, among `P-256`, `P-384`, `P-521`,
   * `Ed25519` and `Ed448`. Default all five (ETSI TS 119 312). Other curves (e.g. secp256k1) and
   * other key types (e.g. DSA) are always refused.
   */
  ellipticCurves?: EllipticCurve[];
  /**
   * Hashes accepted in the signatures of the path's certificates (the trust anchor's signature on
   * itself excepted), among `SHA-256`, `SHA-384` and `SHA-512`; EdDSA signatures are accepted with
   * their curve. Default all three. SHA-1, MD5 and SHA-224 are always refused (RFC 5280 §6.1.3(a)
   * leaves the choice to the relying party; CA/Browser Forum Baseline Requirements §7.1.3.2).
   */
  signatureHashes?: SignatureHash[];
  /**
   * Accept CA certificates whose extended key usage (RFC 5280 §4.2.1.12) allows serverAuth but not
   * clientAuth, as in TLS server hierarchies that browser root programs now want dedicated to
   * serverAuth. Default `false`: a CA certificate below the trust anchor that restricts its
   * extended key usage must allow clientAuth or anyExtendedKeyUsage. (A TPP certificate with
   * serverAuth and without clientAuth is accepted either way, unless `requiredExtendedKeyUsages`
   * lists clientAuth.)
   */
  acceptServerAuthOnlyCAs?: boolean;
  /**
   * Accept `http` redirect URIs on loopback hosts (RFC 8252 §7.3) for TPP development.
   * Default `true` for `sandbox`, `false` for `bank`.
   */
  allowLoopbackRedirectUris?: boolean;
}

/** The sandbox environment: simulated PSUs, no password. */
export interface SandboxEnvironmentOptions extends EnvironmentOptions {
  /**
   * Path of the sandbox sign-in page, relative to the mount path; `{lang}` stands for the page's
   * language. An alias of the authorization endpoint for sandbox clients.
   * Default `/{lang}/sandbox/signin.html`.
   */
  entryPath?: string;
  /** The simulated customers offered on the sandbox sign-in page, with their accounts. Required. */
  testPsus: SandboxPsu[];
}

/** Limit of failed sign-ins within a window. */
export interface AttemptLimit {
  /** Failed attempts allowed within the window; the next one is refused without being checked. */
  attempts: number;
  /** Window length in seconds, counted from the first failure. */
  windowSeconds: number;
}

/**
 * The EU list of trusted lists (LOTL, ETSI TS 119 612) as a source of trust anchors: the qualified
 * CAs for website authentication of the national lists it points to, each list's XAdES signature
 * checked, the LOTL's against the pinned certificates.
 */
export interface TrustedListOptions {
  /**
   * Where the LOTL is published: an `https:` or `http:` URL (the signature, not the transport, is
   * what is trusted), or a `file:` URL of a mirrored copy (whose pointers may then be `file:` URLs
   * too). Required.
   */
  url: string;
  /**
   * PEM bundle of the certificates allowed to sign the LOTL: those the European Commission publishes
   * in the Official Journal of the EU. A LOTL signed by any other key is refused. Required.
   */
  signers: string | Buffer;
  /** Seconds between readings at most; a list's earlier NextUpdate comes first. Default 21600 (6 hours); 60 to 604800. */
  refreshInterval?: number;
  /** Seconds before a failed reading is tried again. Default 300; 10 to 86400. */
  retryInterval?: number;
  /**
   * Seconds the set in use may go without a successful reading before readiness fails (it stays in
   * use meanwhile). Default 604800 (7 days); 3600 to 7776000.
   */
  maxAge?: number;
  /** Milliseconds to read one list. Default 30000; 1000 to 120000. */
  timeout?: number;
  /**
   * Seconds a national list that cannot be read again stays in use past its NextUpdate (lists are
   * re-issued well before it); after that its QTSPs anchor nothing. Default 86400; 0 to 2592000.
   */
  grace?: number;
  /** Largest list read, in bytes (national lists run below 2 MB). Default 8388608; 65536 to 67108864. */
  maxListBytes?: number;
  /** Most elements a list may hold, counted before it is parsed. Default 200000; 1000 to 5000000. */
  maxElements?: number;
  /**
   * Milliseconds one list may take to parse and verify, in a worker thread that is ended when it
   * takes longer (the list is then refused). Default 60000; 1000 to 600000.
   */
  readTimeout?: number;
}

/** The bank environment: real PSUs, signed in by the bank's authenticator. */
export interface BankEnvironmentOptions extends Omit<EnvironmentOptions, 'trustAnchors'> {
  /**
   * PEM bundle of the certificate authorities whose TPP certificates the bank accepts. Required
   * unless `trustedList` is set; with both, both are trusted.
   */
  trustAnchors?: string | Buffer;
  /** Trust the qualified CAs of the EU trusted lists, refreshed while the server runs. */
  trustedList?: TrustedListOptions;
  /**
   * Path of the bank sign-in page, relative to the mount path; `{lang}` stands for the page's
   * language. Default `/{lang}/banque/oauth2_authorization.aspx`.
   */
  entryPath?: string;
  /** The bank's PSU login, with strong customer authentication. Required. */
  authenticator: PsuAuthenticator;
  /** The bank's account directory, for the accounts a PSU may share. Required. */
  accounts: AccountLookup;
  /**
   * Failed sign-ins allowed per PSU identifier and per client IP address.
   * Default `{ perPsu: { attempts: 5, windowSeconds: 900 }, perIp: { attempts: 20, windowSeconds: 900 } }`.
   */
  loginLimits?: { perPsu?: AttemptLimit; perIp?: AttemptLimit };
}

/** The PSU pages: sign-in and consent. */
export interface PagesOptions {
  /** Languages offered, among `de`, `en`, `fr`. Default all three. */
  languages?: Language[];
  /** Language used when the PSU's is not offered. Default `en`; must be among `languages`. */
  defaultLanguage?: Language;
  /** The bank's name in the page header. Default: a generic "Online banking" in the page's language. */
  bankName?: string;
  /**
   * Extra CSS after the pages' own, to apply the bank's colours and fonts: served as a file of its
   * own under the pages' path, which every page links to. Text without control characters.
   */
  stylesheet?: string;
  /** Seconds a PSU has to complete sign-in and consent. Default 600. */
  interactionLifetime?: number;
}

/** Consent lifetime in seconds per environment (see {@link TokenOptions.consentLifetime}). */
export interface ConsentLifetimes {
  /** Sandbox consents: between 60 seconds and 180 days. Default 180 days. */
  sandbox?: number;
  /** Bank consents: between 3600 seconds and 180 days (RTS Art. 10a). Default 180 days. */
  bank?: number;
}

/** Lifetimes and refresh behaviour of tokens (DESIGN 3.3). */
export interface TokenOptions {
  /**
   * Access token lifetime in seconds per scope; a token holding several scopes gets the shortest.
   * Default `{ aisp: 3600, cbpii: 3600, pisp: 600 }`.
   */
  accessTokenLifetime?: { aisp?: number; cbpii?: number; pisp?: number };
  /**
   * Seconds a PSU's consent lasts after their strong customer authentication: refresh tokens stop
   * working then, whatever happens in between (RTS Art. 10a), and the refresh answers
   * `400 invalid_grant` "Refresh token has expired". One number for both environments, or one per
   * environment, e.g. `{ sandbox: 60 }` so that TPPs can test their re-consent path in the sandbox.
   * The bank's is between 3600 seconds and 180 days (15552000 seconds, RTS Art. 10a's limit); the
   * sandbox's between 60 seconds and 180 days. Default 180 days in both.
   */
  consentLifetime?: number | ConsentLifetimes;
  /**
   * Issue a new refresh token at each refresh; reusing a rotated one then revokes the whole grant.
   * Default `false`: refresh tokens are already bound to the client's certificate by its
   * authentication (RFC 8705 §4).
   */
  rotateRefreshTokens?: boolean;
}

/** Payment initiation and cancellation authorizations, opened by the bank's payment API. */
export interface PaymentOptions {
  /**
   * Seconds the PSU has, from the moment the authorization is opened, to use its URL and decide.
   * Between 60 and 1800. Default 300.
   */
  requestLifetime?: number;
  /**
   * Told the outcome of each authorization once: confirmed (with the time of SCA), rejected or
   * expired. A failure is logged; the outcome stays readable with `payments.statusOf`.
   */
  onOutcome?: (outcome: PaymentOutcome) => void | Promise<void>;
  /**
   * Resource indicator (RFC 8707) of the bank's payment API: the audience of the access tokens of
   * confirmed payments. Default: `/payments` on the issuer's origin.
   */
  resource?: string;
}

/** A resource server of the bank (its PSD2 API) allowed to introspect tokens (RFC 7662). */
export interface ResourceServerOptions {
  /** Its identifier: the HTTP Basic user name, and its name in the logs. */
  id: string;
  /** Its HTTP Basic secret, at least 32 characters. */
  secret?: string;
  /**
   * SHA-256 thumbprints (base64url, as in `x5t#S256`) of the TLS client certificates it may present
   * instead of HTTP Basic credentials.
   */
  certificateThumbprints?: string[];
}

/** Where client certificates come from when a TLS-terminating proxy sits in front of the app. */
export interface ClientCertificateHeaderOptions {
  /**
   * Header the proxy sets to the client certificate: URL-encoded PEM (e.g. nginx
   * `$ssl_client_escaped_cert`) or an RFC 9440 `Client-Cert` byte sequence; recognised by its form.
   * The proxy must remove this header from what clients send.
   */
  header: string;
  /** Header holding intermediate certificates (RFC 9440 `Client-Cert-Chain`). Optional. */
  chainHeader?: string;
  /**
   * The proxies allowed to set these headers: IPv4 and IPv6 addresses and CIDR ranges (e.g.
   * `10.0.0.0/8`, `2001:db8::/32`), compared with the TCP peer address of each request; an IPv4
   * entry also matches the address seen as IPv4-mapped IPv6. Required. A request from any other
   * peer that carries the header is refused (401 `invalid_client`); `X-Forwarded-For`, used for the
   * PSU sign-in limits, is believed only from them.
   */
  trustedProxies: string[];
}

/** What the server does when it cannot establish a certificate's revocation status. */
export type RevocationMode = 'hard' | 'soft' | 'off';

/**
 * Revocation checking of TPP certificates and their intermediates, through the OCSP responder
 * (Authority Information Access) and the CRL distribution points they name (RFC 6960, RFC 5280).
 * A revoked certificate is refused in every mode but `off`.
 */
export interface RevocationOptions {
  /**
   * Sandbox certificates: `hard` refuses a certificate whose status cannot be established, `soft`
   * accepts it (and logs a warning), `off` checks nothing. Default `soft`.
   */
  sandbox?: RevocationMode;
  /** Bank certificates, as for `sandbox`. Default `hard`: soft fail must be chosen explicitly. */
  bank?: RevocationMode;
  /**
   * Seconds a good status is kept at most (less when the OCSP response or CRL says it is fresh for
   * less, `nextUpdate`). Between 1 and 86400. Default 3600.
   */
  maxAge?: number;
  /**
   * Seconds a status that could not be established (responder down, answer not trustworthy) is
   * remembered, so that an outage costs one timeout, not one per request. Between 1 and 3600. Default 60.
   */
  unreachableTtl?: number;
  /** Milliseconds to wait for an OCSP responder or CRL server. Between 100 and 30000. Default 5000. */
  timeout?: number;
  /**
   * Seconds between two background checks of the certificates of clients that authenticated, so
   * that a revocation takes effect even for a TPP that does not call again. 0 turns it off.
   * Between 0 and 86400. Default 900.
   */
  sweepInterval?: number;
}

/** Options of {@link createAuthorizationServer}. */
export interface AuthorizationServerOptions {
  /**
   * Issuer identifier (RFC 8414 §2): the https URL where the router is mounted, e.g.
   * `https://api.bank.example/oauth2`. Every endpoint URL is derived from it.
   */
  issuer: string;
  /** Private JSON Web Key Set used to sign what the server signs (at least one RSA or EC key). */
  signingKeys: { keys: Record<string, unknown>[] };
  /** Secrets that sign cookies, newest first (rotate by prepending). At least one, 32+ characters. */
  cookieKeys: string[];
  /** Trust settings per environment; at least one of `sandbox` and `bank`. */
  environments: { sandbox?: SandboxEnvironmentOptions; bank?: BankEnvironmentOptions };
  /** The PSU pages. */
  pages?: PagesOptions;
  /** Token lifetimes and refresh behaviour. */
  tokens?: TokenOptions;
  /** Payment authorizations. */
  payments?: PaymentOptions;
  /** The bank's resource servers allowed to introspect tokens; TPPs never may. Default: none. */
  resourceServers?: ResourceServerOptions[];
  /**
   * Read client certificates from a header set by the bank's TLS-terminating proxy instead of
   * from the TLS connection. Default: off, and such headers sent by clients are ignored.
   */
  clientCertificateHeader?: ClientCertificateHeaderOptions;
  /** Revocation checking of TPP certificates (OCSP and CRL). Default: on, `hard` for the bank and `soft` for the sandbox. */
  revocation?: RevocationOptions;
  /**
   * The register of TPP licences checked at registration, at each authorization and token request,
   * and in a daily sweep (e.g. the EBA PSD2 register, `EbaRegister`). Default: none, no licence is
   * checked.
   */
  tppRegister?: TppRegisterOptions;
  /**
   * Trust `X-Forwarded-*` headers for the request's protocol and host (set when behind a proxy).
   * Default `false`.
   */
  trustProxy?: boolean;
  /**
   * The `Strict-Transport-Security` header (RFC 6797) of every page and API answer under the mount
   * path: browsers reach the issuer's host over HTTPS only, for a year (`max-age=31536000`).
   * `includeSubDomains` (RFC 6797 §6.1.2) extends that to every subdomain of the host; default
   * `true`, `false` when a subdomain must still be reachable over plain HTTP.
   */
  strictTransportSecurity?: { includeSubDomains?: boolean };
  /** Where clients, grants and tokens are kept. Default: in-memory (development only). */
  storage?: Storage;
  /**
   * Seconds an instance relies on what it last read of an organization's suspension, instead of
   * asking the storage on every TPP request. The instance that suspends an organization refuses it
   * at once; other instances within this delay, and the suspension sweeps the organization's tokens
   * once more after it, so that none issued meanwhile survives. 0 asks every time. Default 2.
   */
  suspensionCacheTtl?: number;
  /** Where log entries go; a pino logger fits. Default: `info` and up as JSON lines on stderr. */
  logger?: Logger;
  /**
   * The Prometheus metrics (`metrics` of the server): `registry` (the host's own), `prefix`,
   * `providerLegalIds`, as in `MetricsOptions`. `false`: nothing is registered or counted and the
   * scrape is empty (health and PSD2 statistics stay on). Default: on, in a registry of their own.
   */
  metrics?: false | Omit<MetricsOptions, 'now'>;
  /** The server's one clock, read by the rules that depend on the time. Default: the system clock. */
  now?: Clock;
}
