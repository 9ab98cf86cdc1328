export type * from './types.js';
export {
  resolveOptions,
  type ResolvedOptions,
  type ResolvedEnvironment,
  type ResolvedSandboxPages,
  type ResolvedBankPages,
} from './resolve.js';
