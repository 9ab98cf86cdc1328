import { X509Certificate } from 'node:crypto';

import { MemoryStorage } from '../../adapters/memory.js';
import { CertificateVerifier, type TppIdentity } from '../../lib/certificates/identity.js';
import { CertificateRejectedError } from '../../lib/certificates/rejection.js';
import type { Logger } from '../../lib/logger.js';
import type { Storage } from '../../lib/storage.js';
import { TrustedListSource, type TrustedListSettings } from '../../lib/trusted-lists/source.js';
import type { IssuedCertificate } from '../../tools/dev-pki/pki.js';
import { keepingLogger } from '../observability/helpers.js';
import type { EuLists } from '../support/eu-lists.js';

/** A source reading `lists`' LOTL with the Official Journal key pinned (or `signers`). */
export function sourceOf(lists: EuLists, options: { storage?: Storage; signers?: string[]; logger?: Logger; now?: () => Date; settings?: Partial<TrustedListSettings> } = {}): TrustedListSource {
  return new TrustedListSource({
    url: lists.lotlUrl,
    signers: (options.signers ?? [lists.officialJournal.certPem]).map((pem) => new X509Certificate(pem)),
    refreshInterval: 3600,
    retryInterval: 300,
    maxAge: 86_400,
    timeout: 5000,
    grace: 86_400,
    maxListBytes: 8 * 1024 * 1024,
    maxElements: 200_000,
    readTimeout: 20_000,
    ...options.settings,
  }, { storage: options.storage ?? new MemoryStorage(), now: options.now ?? (() => new Date()), logger: options.logger ?? keepingLogger() });
}

/** A verifier whose bank environment trusts `source` alone. */
export function bankVerifier(source: TrustedListSource): CertificateVerifier {
  return new CertificateVerifier([{ name: 'bank', anchors: [], anchorSource: source, requireQualifiedStatements: true, requiredExtendedKeyUsages: [] }]);
}

/** The identity, or the reason the certificate is refused for. */
export function verdict(verifier: CertificateVerifier, tpp: IssuedCertificate): TppIdentity | string {
  try {
    return verifier.identify({ leaf: tpp.der, chain: [] });
  } catch (error) {
    if (error instanceof CertificateRejectedError) return error.reason;
    throw error;
  }
}
