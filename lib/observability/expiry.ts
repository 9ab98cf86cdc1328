/**
 * What `expiry_days` counts down to at start-up: the signing keys' certificates (`x5c` of a JWK,
 * its first entry the key's own) and the trust anchors configured. The bank's TLS server
 * certificate is the host's to give (`metrics.setServerCertificate`): the server never sees it.
 */
import { X509Certificate } from 'node:crypto';

import type { ServerMetrics } from './metrics.js';

/** The earliest end of validity among `certificates`, or undefined when there is none. */
function earliest(certificates: readonly X509Certificate[]): Date | undefined {
  const ends = certificates.map((certificate) => Date.parse(certificate.validTo)).filter(Number.isFinite);
  return ends.length ? new Date(Math.min(...ends)) : undefined;
}

/** The certificate of a JWK's `x5c`, when it has a readable one. */
function keyCertificate(jwk: Record<string, unknown>): X509Certificate | undefined {
  const chain = jwk.x5c;
  if (!Array.isArray(chain) || typeof chain[0] !== 'string') return undefined;
  try {
    return new X509Certificate(Buffer.from(chain[0], 'base64'));
  } catch {
    return undefined;
  }
}

/** Sets the expiry of the signing keys with a certificate; the trust anchors' is read at each scrape. */
export function watchExpiries(
  metrics: Pick<ServerMetrics, 'setExpiry' | 'watchExpiry'>,
  sources: { readonly signingKeys: readonly Record<string, unknown>[]; readonly anchors: () => readonly X509Certificate[] },
): void {
  const keys = earliest(sources.signingKeys.map(keyCertificate).filter((certificate) => certificate !== undefined));
  if (keys) metrics.setExpiry('signing_key', keys);
  metrics.watchExpiry('trust_anchor', () => earliest(sources.anchors()));
}
