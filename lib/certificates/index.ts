export { OID, PSD2_ROLES, type Psd2Role, type ExtendedKeyUsageName } from './oids.js';
export {
  CertificateVerifier,
  CertificateRejectedError,
  type CertificateRejection,
  type EnvironmentName,
  type EnvironmentTrust,
  type PresentedCertificate,
  type TppIdentity,
} from './identity.js';
export { presentedCertificate, type CertificateSource } from './extract.js';
export { validatePath, DEFAULT_PATH_VALIDATION, type PathValidationPolicy } from './path-validation.js';
export { ELLIPTIC_CURVES, SIGNATURE_HASHES, type EllipticCurve, type SignatureHash } from './algorithms.js';
export {
  parseDistinguishedName,
  formatRfc4514,
  sameDistinguishedName,
  distinguishedNameMatches,
  type DnAttribute,
} from './distinguished-name.js';
export { readCertificateContents, type CertificateContents } from './parse.js';
export { RoleOfPsp, RolesOfPsp, Psd2QcType } from './psd2-statement.js';
