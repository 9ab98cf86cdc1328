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
 * The path from `leaf` through CA certificates among `intermediates` (each valid at `now`) up to one
 * of `anchors`: leaf first, anchor last; undefined when there is none. Signatures, issuer names, the
 * CA flag and path length constraints are checked at every link; the leaf's own validity period is
 * checked separately so that an expired certificate gets its own error.
 */
export function pathToAnchor(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  now: Date,
): X509Certificate[] | undefined {
  let current = leaf;
  const used: X509Certificate[] = [];
  for (let depth = 0; depth < MAX_DEPTH; depth += 1) {
    const below = used.length;
    const anchor = anchors.find((candidate) => candidate.ca && withinValidity(candidate, now) && allowsDepth(candidate, below) && issuedBy(current, candidate));
    if (anchor) return [leaf, ...used, anchor];
    const next = intermediates.find(
      (candidate) => !used.includes(candidate) && candidate.ca && withinValidity(candidate, now)
        && allowsDepth(candidate, below) && issuedBy(current, candidate),
    );
    if (!next) return undefined;
    used.push(next);
    current = next;
  }
  return undefined;
}

/** True when {@link pathToAnchor} finds a path. */
export function chainsToAnchor(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  now: Date,
): boolean {
  return pathToAnchor(leaf, intermediates, anchors, now) !== undefined;
}
