import { ConfigurationError } from '../../lib/index.js';

/** The ConfigurationError `build` throws; fails when it throws none. */
export function configurationError(build: () => unknown): ConfigurationError {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigurationError) return error;
    throw error;
  }
  throw new Error('expected a ConfigurationError');
}
