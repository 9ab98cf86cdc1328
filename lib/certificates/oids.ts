/** Object identifiers of ETSI EN 319 412-5 and ETSI TS 119 495 used by PSD2 certificates. */
export const OID = {
  qcStatements: '1.3.6.1.5.5.7.1.3',
  qcCompliance: '0.4.0.1862.1.1',
  qcType: '0.4.0.1862.1.6',
  qcTypeEsign: '0.4.0.1862.1.6.1',
  qcTypeEseal: '0.4.0.1862.1.6.2',
  qcTypeWeb: '0.4.0.1862.1.6.3',
  psd2Statement: '0.4.0.19495.2',
  organizationIdentifier: '2.5.4.97',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Certificate extensions of RFC 5280 §4.2 and RFC 3739 that path validation reads. */
export const EXTENSION = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  qcStatements: '1.3.6.1.5.5.7.1.3',
} as const;

/** RFC 5280 §4.2.1.4 and §4.2.1.12: the special policy and usage that stand for any. */
export const ANY_POLICY = '2.5.29.32.0';
export const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

/** PKCS #9 emailAddress, a legacy subject attribute subject to rfc822Name constraints (RFC 5280 §4.2.1.6). */
export const EMAIL_ADDRESS = '1.2.840.113549.1.9.1';
export const COMMON_NAME = '2.5.4.3';

/** PSD2 roles of a payment service provider (ETSI TS 119 495 §5.1). */
export const PSD2_ROLES = {
  PSP_AS: '0.4.0.19495.1.1',
  PSP_PI: '0.4.0.19495.1.2',
  PSP_AI: '0.4.0.19495.1.3',
  PSP_IC: '0.4.0.19495.1.4',
} as const;

export type Psd2Role = keyof typeof PSD2_ROLES;

export const ROLE_BY_OID: ReadonlyMap<string, Psd2Role> = new Map(
  Object.entries(PSD2_ROLES).map(([name, oid]) => [oid, name as Psd2Role]),
);

export const EXTENDED_KEY_USAGES = {
  serverAuth: OID.serverAuth,
  clientAuth: OID.clientAuth,
} as const;

export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGES;
