import type { X509Certificate } from 'node:crypto';

const MAX_DEPTH = 8;

function issuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function withinValidity(certificate: X509Certificate, now: Date): boolean {
  return new Date(certificate.validFrom) <= now && now <= new Date(certificate.validTo);
}

/**
 * True when `leaf` chains through CA certificates among `intermediates` (each valid at `now`) up to
 * one of `anchors`. Signatures, issuer names and CA constraints are checked at every link; the
 * leaf's own validity period is checked separately so that an expired certificate gets its own error.
 */
export function chainsToAnchor(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  now: Date,
): boolean {
  let current = leaf;
  const used = new Set<X509Certificate>();
  for (let depth = 0; depth < MAX_DEPTH; depth += 1) {
    if (anchors.some((anchor) => anchor.ca && withinValidity(anchor, now) && issuedBy(current, anchor))) {
      return true;
    }
    const next = intermediates.find(
      (candidate) => !used.has(candidate) && candidate.ca && withinValidity(candidate, now)
        && issuedBy(current, candidate),
    );
    if (!next) return false;
    used.add(next);
    current = next;
  }
  return false;
}
