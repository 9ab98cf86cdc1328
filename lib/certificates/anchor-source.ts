/**
 * Trust anchors that change while the server runs (e.g. the QTSPs of the EU trusted lists), read
 * synchronously by the certificate checks: the source keeps its current verified set in memory.
 */
import type { X509Certificate } from 'node:crypto';

import { reject } from './rejection.js';

/** One verified set of anchors. */
export interface AnchorSnapshot {
  /** Changes whenever the set does: what was verified against another set is verified again. */
  readonly version: number;
  readonly anchors: readonly X509Certificate[];
  /**
   * Why a certificate whose validity begins at `issued` may not chain to `anchor` (e.g. the CA was
   * not granted then); undefined when it may, or when `anchor` is not of this set.
   */
  refusal(anchor: X509Certificate, issued: Date): string | undefined;
}

/** Where an environment's changing anchors come from. */
export interface AnchorSource {
  /** The set in use; undefined while none has been verified (then nothing chains through it). */
  current(): AnchorSnapshot | undefined;
  /** What an environment that has no set yet says to a TPP. */
  readonly unavailableReason: string;
}

interface WithAnchors {
  readonly anchors: readonly X509Certificate[];
  readonly anchorSource?: AnchorSource;
}

/** An environment's anchors: its fixed ones and those of its anchor source now. */
export function anchorsOf(environment: WithAnchors): readonly X509Certificate[] {
  const changing = environment.anchorSource?.current()?.anchors;
  return changing?.length ? [...environment.anchors, ...changing] : environment.anchors;
}

/** Refuses a path (leaf first, anchor last) through a changing anchor that was not granted when the leaf was issued. */
export function checkAnchorGranted(environment: WithAnchors, path: readonly X509Certificate[], leaf: X509Certificate): void {
  const anchor = path.at(-1);
  const refusal = anchor && environment.anchorSource?.current()?.refusal(anchor, new Date(leaf.validFrom));
  if (refusal) reject('issuer_not_granted', refusal);
}

/**
 * Whether `certificate` is issued, by name, under the fixed anchors of an environment without a
 * changing source (the sandbox's), directly or through one of `intermediates`: a list not loaded
 * yet is then not why it does not chain.
 */
export function namedUnderFixedAnchors(environments: readonly WithAnchors[], certificate: X509Certificate, intermediates: readonly X509Certificate[]): boolean {
  const names = new Set(environments.filter((environment) => !environment.anchorSource).flatMap((environment) => environment.anchors.map((anchor) => anchor.subject)));
  for (const intermediate of intermediates) if (names.has(intermediate.issuer)) names.add(intermediate.subject);
  return names.has(certificate.issuer);
}
