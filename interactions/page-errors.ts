/**
 * Why a PSU page cannot carry on: each ends in the page or redirect that failures.ts chooses.
 */
import type { Flow } from './flow.js';

/** The interaction of the URL is not the one of the PSU's browser, or no longer exists. */
export class SessionMismatch extends Error {
  constructor(readonly method?: string) {
    super('interaction not found');
  }
}

/** The PSU already decided within this interaction. */
export class Finished extends Error {
  constructor(readonly returnTo: string) {
    super('interaction already decided');
  }
}

/** A form post without its CSRF token, or from another origin. */
export class FormRejected extends Error {
  constructor(readonly flow: Flow) {
    super('form rejected');
  }
}

/** A failure of the bank's own services (authenticator, account lookup). */
export class BankServiceError extends Error {
  constructor(readonly service: string, options: ErrorOptions) {
    super(`the bank's ${service} failed`, options);
  }
}

/** Runs a call to the bank's `service`, its failure a {@link BankServiceError}. */
export async function bankCall<T>(service: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new BankServiceError(service, { cause: error });
  }
}
