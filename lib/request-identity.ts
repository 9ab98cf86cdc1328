import type { IncomingMessage } from 'node:http';

import { presentedCertificate, type CertificateSource } from './certificates/extract.js';
import { CertificateRejectedError, type CertificateVerifier, type TppIdentity } from './certificates/identity.js';
import type { ResolvedOptions } from './options/index.js';

/** Where the configured server reads client certificates: the TLS socket, or its proxies' header. */
export function certificateSourceOf(options: Pick<ResolvedOptions, 'clientCertificateHeader' | 'proxies'>): CertificateSource {
  const header = options.clientCertificateHeader;
  return header ? { from: 'header', header: header.header, chainHeader: header.chainHeader, proxies: options.proxies } : { from: 'socket' };
}

type Outcome = { readonly identity: TppIdentity } | { readonly error: CertificateRejectedError };

/**
 * The TPP identity of each request, verified once and remembered for the request's lifetime, so
 * that Express middleware and oidc-provider's synchronous certificate helpers share one result.
 */
export class RequestIdentities {
  /**
   * Where each request's outcome is kept: a property of the request under this instance's own
   * symbol, not a WeakMap, whose every entry for a new request costs several times as much to write.
   */
  readonly #key = Symbol('TPP identity');

  constructor(
    private readonly verifier: CertificateVerifier,
    private readonly source: CertificateSource,
  ) {}

  #outcome(req: IncomingMessage): Outcome {
    const carrier = req as IncomingMessage & Record<symbol, Outcome | undefined>;
    let outcome = carrier[this.#key];
    if (!outcome) {
      try {
        outcome = { identity: this.verifier.identify(presentedCertificate(req, this.source)) };
      } catch (error) {
        if (!(error instanceof CertificateRejectedError)) throw error;
        outcome = { error };
      }
      carrier[this.#key] = outcome;
    }
    return outcome;
  }

  /** The verified identity; throws {@link CertificateRejectedError} saying why there is none. */
  require(req: IncomingMessage): TppIdentity {
    const outcome = this.#outcome(req);
    if ('error' in outcome) throw outcome.error;
    return outcome.identity;
  }

  /** The verified identity, or undefined when no acceptable certificate was presented. */
  find(req: IncomingMessage): TppIdentity | undefined {
    const outcome = this.#outcome(req);
    return 'identity' in outcome ? outcome.identity : undefined;
  }
}
