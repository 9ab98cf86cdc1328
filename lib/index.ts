export { createAuthorizationServer, type AuthorizationServer } from './authorization-server.js';
export type { ServerEvents, ServerEventMap, EventContext, EventError, RegisteredClient, StoredToken } from './events.js';
/** The options' documented types: AuthorizationServerOptions and its parts. */
export type * from './options/types.js';
export type {
  PsuAccount,
  SandboxPsu,
  PsuAuthenticator,
  AccountLookup,
  CredentialsAttempt,
  CredentialsResult,
  SecondFactorAttempt,
  SecondFactorResult,
} from './psu.js';
export { LANGUAGES, type Language } from './language.js';
export type { ConsentRecord } from './psd2/authorization.js';
export type { Management, ConsentSummary, StatisticsRange } from './management-types.js';
export type { IntrospectionResponse } from './introspection-response.js';
export {
  PaymentRequestError,
  type Payments,
  type PaymentAuthorizationRequest,
  type OpenedPaymentAuthorization,
  type PaymentOutcome,
  type PaymentStatus,
  type PaymentAuthorizationState,
} from './payments/types.js';
export { PAYMENT_TYPES, type PaymentType, type PaymentDetails, type PaymentAuthorizationDetail } from './payments/details.js';
export {
  OAuthError,
  InvalidClientError,
  InvalidClientMetadataError,
  InvalidRedirectUriError,
  InvalidRequestError,
  InvalidTokenError,
  ServerError,
  StorageUnavailableError,
  ConfigurationError,
} from './errors.js';
export type { Logger } from './logger.js';
export type { CounterLimit, Storage } from './storage.js';
export { MemoryStorage } from '../adapters/memory.js';
export { RedisStorage, type RedisStorageOptions, type RedisCommands, type RedisSubscriber } from '../adapters/redis/storage.js';
export {
  CertificateRejectedError,
  type CertificateRejection,
  type TppIdentity,
  type EnvironmentName,
  type Psd2Role,
} from './certificates/index.js';
export { SCOPES, type Scope } from './psd2/scopes.js';
export type { TppRegister, TppRegisterSnapshot, TppLicence, LicenceKey, RegisterNotice } from './tpp-register/types.js';
export { EbaRegister, type EbaRegisterOptions } from './tpp-register/eba-register.js';
export type { TppRegisterControl, SweepOutcome } from './tpp-register/index.js';
export type { TrustedLists, RefreshOutcome } from './trusted-lists/source.js';
export {
  operationsListener,
  StatisticsRangeError,
  type ServerMetrics,
  type MetricsOptions,
  type Health,
  type HealthReport,
  type PsdStatistics,
  type StatisticsReport,
  type DayFigures,
} from './observability/index.js';
