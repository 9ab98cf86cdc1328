// PEM bundles of certificates in the options: trust anchors, trusted-list signers.
import { X509Certificate } from 'node:crypto';

import { z } from 'zod';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A PEM bundle's certificates; CA certificates only unless `anyCertificate`. */
export function parseBundle(value: string | Buffer, ctx: z.RefinementCtx, anyCertificate = false): X509Certificate[] {
  const blocks = String(value).match(PEM_CERTIFICATE) ?? [];
  if (!blocks.length) {
    ctx.addIssue({ code: 'custom', message: 'must be a PEM bundle holding at least one certificate' });
    return z.NEVER;
  }
  const certificates: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    try {
      const certificate = new X509Certificate(block);
      if (!certificate.ca && !anyCertificate) {
        ctx.addIssue({ code: 'custom', message: `certificate ${index + 1} of the bundle is not a CA certificate` });
        return z.NEVER;
      }
      certificates.push(certificate);
    } catch {
      ctx.addIssue({ code: 'custom', message: `certificate ${index + 1} of the bundle cannot be parsed` });
      return z.NEVER;
    }
  }
  return certificates;
}
