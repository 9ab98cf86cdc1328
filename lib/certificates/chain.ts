import type { X509Certificate } from 'node:crypto';

import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, id_ce_basicConstraints } from '@peculiar/asn1-x509';

const MAX_DEPTH = 8;
const pathLengths = new WeakMap<X509Certificate, number | undefined>();

/** The basicConstraints pathLenConstraint of a CA certificate; undefined when unlimited. */
function pathLength(ca: X509Certificate): number | undefined {
  if (!pathLengths.has(ca)) {
    let limit: number | undefined;
    try {
      const extensions = AsnConvert.parse(ca.raw, Certificate).tbsCertificate.extensions ?? [];
      const basic = extensions.find((extension) => extension.extnID === id_ce_basicConstraints);
      if (basic) limit = AsnConvert.parse(basic.extnValue.buffer, BasicConstraints).pathLenConstraint;
    } catch {
      limit = 0;
    }
    pathLengths.set(ca, limit);
  }
  return pathLengths.get(ca);
}

/** Whether `ca` may issue a chain with `below` CA certificates between it and the leaf. */
function allowsDepth(ca: X509Certificate, below: number): boolean {
  const limit = pathLength(ca);
  return limit === undefined || limit >= below;
}

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
 * one of `anchors`. Signatures, issuer names, the CA flag and path length constraints are checked at every link; the
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
    const below = used.size;
    if (anchors.some((anchor) => anchor.ca && withinValidity(anchor, now) && allowsDepth(anchor, below) && issuedBy(current, anchor))) {
      return true;
    }
    const next = intermediates.find(
      (candidate) => !used.has(candidate) && candidate.ca && withinValidity(candidate, now)
        && allowsDepth(candidate, below) && issuedBy(current, candidate),
    );
    if (!next) return false;
    used.add(next);
    current = next;
  }
  return false;
}
