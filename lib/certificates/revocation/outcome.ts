/** What one source (an OCSP responder or a CRL) says of one certificate. */

export type StatusSource = 'ocsp' | 'crl';

export type SourceOutcome =
  | {
      readonly kind: 'good';
      readonly source: StatusSource;
      readonly url: string;
      /** Epoch ms until which the source vouches for the answer; undefined when it names no nextUpdate. */
      readonly nextUpdate: number | undefined;
    }
  | {
      readonly kind: 'revoked';
      readonly source: StatusSource;
      readonly url: string;
      readonly revokedAt: number | undefined;
      /** RFC 5280 §5.3.1 reason name, e.g. `keyCompromise`. */
      readonly reason: string | undefined;
      readonly nextUpdate: number | undefined;
    }
  | {
      /** No answer that can be trusted; `description` says why, e.g. "the OCSP responder … did not answer within 5000 ms". */
      readonly kind: 'failed';
      readonly description: string;
    };

/** What a source needs besides the certificate: the clock and the bounds it works within. */
export interface SourceContext {
  /** Epoch ms, from the injected clock. */
  readonly now: number;
  /** Seconds a good status is kept at most: also how old an answer without nextUpdate may be. */
  readonly maxAge: number;
}

/** A thisUpdate a little ahead of this server's clock is the responder's clock, not a forgery. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export function failed(description: string): SourceOutcome {
  return { kind: 'failed', description };
}

/** Why an answer is not current at `now`; undefined when it is. */
export function freshnessProblem(thisUpdate: number, nextUpdate: number | undefined, context: SourceContext): string | undefined {
  if (thisUpdate > context.now + CLOCK_SKEW_MS) return `is dated in the future (thisUpdate ${new Date(thisUpdate).toISOString()})`;
  if (nextUpdate !== undefined && nextUpdate <= context.now) return `is past its nextUpdate (${new Date(nextUpdate).toISOString()})`;
  if (nextUpdate === undefined && thisUpdate < context.now - context.maxAge * 1000) {
    return `names no nextUpdate and is older than ${context.maxAge} s (thisUpdate ${new Date(thisUpdate).toISOString()})`;
  }
  return undefined;
}

/** What the checker tells of its look-ups; the RevocationChecker's `observer`. */
export interface RevocationObserver {
  /**
   * One status looked up: from a status kept here or in the storage (`cache`), or asked of an
   * OCSP responder or a CRL, with its time in seconds; `unavailable` when the source gave no
   * answer to trust.
   */
  lookup(source: StatusSource | 'cache', result: 'good' | 'revoked' | 'unknown' | 'unavailable', seconds?: number): void;
  /**
   * `certificate_status`: whether a kept status answered (hit) or the network had to be asked
   * (miss); `crl`: whether a CRL held here or in the storage, still fresh, answered (hit) or it
   * had to be fetched (miss).
   */
  cacheLookup(cache: 'certificate_status' | 'crl', hit: boolean): void;
}
