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
