/**
 * The server's one clock. Every rule that depends on the time (token and consent lifetimes,
 * payment expiry, sign-in limits, certificate validity, revocation freshness) reads it from here,
 * through the `now` option, so that tests and hosts can move time without waiting for it.
 */
export type Clock = () => Date;

/** The machine's clock: the default of the `now` option. */
export const systemClock: Clock = () => new Date();

/** Seconds since the epoch by `clock`, the unit of oidc-provider's and the storage's expiries. */
export function epochSeconds(clock: Clock): number {
  return Math.floor(clock().getTime() / 1000);
}
