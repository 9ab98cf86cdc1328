export { createAuthorizationServer, type AuthorizationServer } from './authorization-server.js';
export type {
  AuthorizationServerOptions,
  EnvironmentOptions,
  ClientCertificateHeaderOptions,
} from './options.js';
export {
  OAuthError,
  InvalidClientError,
  InvalidClientMetadataError,
  InvalidRedirectUriError,
  InvalidRequestError,
  InvalidTokenError,
  ServerError,
  ConfigurationError,
} from './errors.js';
export type { Logger } from './logger.js';
export type { Storage } from '../adapters/storage.js';
export { MemoryStorage } from '../adapters/memory.js';
export {
  CertificateRejectedError,
  type CertificateRejection,
  type TppIdentity,
  type EnvironmentName,
  type Psd2Role,
} from './certificates/index.js';
export { SCOPES, type Scope } from './psd2/scopes.js';
