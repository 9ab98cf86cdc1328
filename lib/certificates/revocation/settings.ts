/** How the revocation checker caches and how long it waits. */
export interface RevocationSettings {
  /**
   * Seconds a good status is kept at most; less when the OCSP response or CRL says it is fresh for
   * less (`nextUpdate`). Default 3600.
   */
  readonly maxAge: number;
  /**
   * Seconds a status that could not be established (responder down, answer not trustworthy) is
   * remembered, and an OCSP responder or CRL server that did not answer is not asked again, so
   * that an outage costs one timeout, not one per request. Default 60.
   */
  readonly unreachableTtl: number;
  /** Milliseconds one HTTP request to an OCSP responder or CRL server may take. Default 5000. */
  readonly timeout: number;
  /** Bytes an OCSP response or CRL may hold; larger answers are dropped. Default 16 MiB. */
  readonly maxResponseBytes?: number;
}

export const DEFAULT_REVOCATION_SETTINGS = {
  maxAge: 3600,
  unreachableTtl: 60,
  timeout: 5000,
  maxResponseBytes: 16 * 1024 * 1024,
} as const satisfies Required<RevocationSettings>;

/** `settings` completed with the defaults; throws a TypeError naming a field out of range. */
export function resolveSettings(settings: Partial<RevocationSettings>): Required<RevocationSettings> {
  const resolved = { ...DEFAULT_REVOCATION_SETTINGS, ...settings };
  for (const name of ['maxAge', 'unreachableTtl', 'timeout', 'maxResponseBytes'] as const) {
    const value = resolved[name];
    if (!(Number.isFinite(value) && value > 0)) throw new TypeError(`revocation ${name} must be a positive number, not ${String(value)}`);
  }
  return resolved;
}
