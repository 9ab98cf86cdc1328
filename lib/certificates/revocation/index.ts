export {
  RevocationChecker,
  NOT_CONFORMING,
  type CertificateRole,
  type CheckOptions,
  type PathStatus,
  type RevocationDependencies,
} from './checker.js';
export { DEFAULT_REVOCATION_SETTINGS, type RevocationSettings } from './settings.js';
export type { SweepResult } from './sweep.js';
export { HttpFailure, type HttpAnswer, type HttpClient, type HttpFailureKind, type HttpLimits, type HttpRequest } from './fetch.js';
export type { RevocationObserver, StatusSource } from './outcome.js';
export { STATUS_MODEL } from './cache.js';
export { CRL_MODEL } from './crl-store.js';
export { WATCHED_MODEL, WATCH_INDEX_MODEL } from './watchlist.js';
