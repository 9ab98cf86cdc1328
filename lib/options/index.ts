export type {
  AuthorizationServerOptions,
  EnvironmentOptions,
  SandboxEnvironmentOptions,
  BankEnvironmentOptions,
  AttemptLimit,
  PagesOptions,
  ClientCertificateHeaderOptions,
  RevocationOptions,
  RevocationMode,
  TokenOptions,
  ConsentLifetimes,
  PaymentOptions,
  ResourceServerOptions,
} from './types.js';
export {
  resolveOptions,
  type ResolvedOptions,
  type ResolvedEnvironment,
  type ResolvedSandboxPages,
  type ResolvedBankPages,
} from './resolve.js';
