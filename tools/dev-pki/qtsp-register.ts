/**
 * What the development QTSPs issued and revoked, kept as `qtsp-register.json` in the development
 * PKI folder. `npm run tpp-cert` writes it; the example app's OCSP responder and CRLs read it on
 * each request, so a revocation takes effect while the app runs.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type QtspName = 'sandbox' | 'bank';
export const QTSP_NAMES: readonly QtspName[] = ['sandbox', 'bank'];

/**
 * CRLReason codes (RFC 5280 §5.3.1) that fit a TPP's certificate. `certificateHold` is left out:
 * a development QTSP never takes a revocation back.
 */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface RegisteredCertificate {
  readonly qtsp: QtspName;
  /** Lower-case hexadecimal, without leading zero bytes. */
  readonly serial: string;
  readonly subject: string;
  readonly notAfter: string;
  /** ISO time of the revocation, whole seconds; absent while the certificate is not revoked. */
  readonly revokedAt?: string;
  /** Absent for `unspecified`, which RFC 5280 says to leave out of CRLs. */
  readonly reason?: Exclude<RevocationReason, 'unspecified'>;
}

export const REGISTER_FILE = 'qtsp-register.json';

/** A serial number as the register keeps it, whatever hexadecimal spelling it comes in. */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^(00)+(?=[0-9a-f]{2})/, '');
}

export function readRegister(dir: string): RegisteredCertificate[] {
  const path = join(dir, REGISTER_FILE);
  if (!existsSync(path)) return [];
  return JSON.parse(readFileSync(path, 'utf8')) as RegisteredCertificate[];
}

/** Replaces the register in one step, so a reader never sees half a file. */
function writeRegister(dir: string, entries: readonly RegisteredCertificate[]): void {
  const path = join(dir, REGISTER_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(entries, null, 2)}\n`);
  renameSync(temporary, path);
}

export function recordIssued(dir: string, entry: Omit<RegisteredCertificate, 'revokedAt' | 'reason'>): void {
  writeRegister(dir, [...readRegister(dir), { ...entry, serial: normalizeSerial(entry.serial) }]);
}

/**
 * Records the revocation of a certificate of `qtsp`; a certificate revoked before keeps its first
 * revocation. Returns the register's entry.
 */
export function recordRevoked(
  dir: string,
  certificate: Omit<RegisteredCertificate, 'revokedAt' | 'reason'>,
  reason: RevocationReason,
  at: Date,
): { entry: RegisteredCertificate; already: boolean } {
  const serial = normalizeSerial(certificate.serial);
  const entries = readRegister(dir);
  const index = entries.findIndex((entry) => entry.qtsp === certificate.qtsp && entry.serial === serial);
  const known = index >= 0 ? entries[index] : undefined;
  if (known?.revokedAt) return { entry: known, already: true };
  const entry: RegisteredCertificate = {
    ...(known ?? { ...certificate, serial }),
    revokedAt: new Date(Math.floor(at.getTime() / 1000) * 1000).toISOString(),
    ...(reason === 'unspecified' ? {} : { reason }),
  };
  if (index >= 0) entries[index] = entry;
  else entries.push(entry);
  writeRegister(dir, entries);
  return { entry, already: false };
}
