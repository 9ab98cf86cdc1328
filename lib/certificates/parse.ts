import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, ExtendedKeyUsage, type Name } from '@peculiar/asn1-x509';
import { QCStatements } from '@peculiar/asn1-x509-qualified';
import { QcType } from '@peculiar/asn1-x509-qualified-etsi';

import type { DnAttribute } from './distinguished-name.js';
import { OID, PSD2_ROLES, ROLE_BY_OID, type Psd2Role } from './oids.js';
import { Psd2QcType } from './psd2-statement.js';

export interface Psd2Attributes {
  readonly roles: readonly Psd2Role[];
  readonly ncaName: string;
  readonly ncaId: string;
}

/** What a TPP certificate says about its holder, read from its ASN.1 structure. */
export interface CertificateContents {
  readonly subject: readonly DnAttribute[];
  readonly organizationIdentifier: string | undefined;
  /** QcCompliance statement present (EU qualified certificate). */
  readonly qcCompliance: boolean;
  /** QcType object identifiers (web, eseal, esign). */
  readonly qcTypes: readonly string[];
  /** The PSD2 QCStatement, when present. */
  readonly psd2: Psd2Attributes | undefined;
  /** Extended key usage OIDs; undefined when the extension is absent (any usage). */
  readonly extendedKeyUsages: readonly string[] | undefined;
}

export class CertificateContentError extends Error {
  override readonly name = 'CertificateContentError';
}

function attributeValue(value: { toString(): string }): string {
  return value.toString();
}

function nameAttributes(name: Name): DnAttribute[] {
  return Array.from(name).flatMap((rdn) => Array.from(rdn, (atv) => ({ oid: atv.type, value: attributeValue(atv.value) })));
}

function readPsd2Statement(statementInfo: ArrayBuffer): Psd2Attributes {
  const statement = AsnConvert.parse(statementInfo, Psd2QcType);
  const roles: Psd2Role[] = [];
  for (const role of statement.rolesOfPSP) {
    const name = ROLE_BY_OID.get(role.roleOfPspOid);
    if (!name) continue;
    if (role.roleOfPspName !== name) {
      throw new CertificateContentError(
        `PSD2 role ${role.roleOfPspOid} is named "${role.roleOfPspName}" instead of "${name}"`,
      );
    }
    if (!roles.includes(name)) roles.push(name);
  }
  return { roles, ncaName: statement.nCAName, ncaId: statement.nCAId };
}

/**
 * Reads subject, qualified statements, PSD2 roles and extended key usages from a DER certificate.
 * Throws {@link CertificateContentError} when a structure is malformed.
 */
export function readCertificateContents(der: Uint8Array): CertificateContents {
  let certificate: Certificate;
  try {
    certificate = AsnConvert.parse(der, Certificate);
  } catch (cause) {
    throw new CertificateContentError('not a DER-encoded X.509 certificate', { cause });
  }
  const subject = nameAttributes(certificate.tbsCertificate.subject);
  const organizationIdentifier = subject.find((a) => a.oid === OID.organizationIdentifier)?.value;

  let qcCompliance = false;
  let qcTypes: string[] = [];
  let psd2: Psd2Attributes | undefined;
  let extendedKeyUsages: string[] | undefined;

  for (const extension of certificate.tbsCertificate.extensions ?? []) {
    const value = extension.extnValue.buffer;
    try {
      if (extension.extnID === OID.qcStatements) {
        for (const statement of AsnConvert.parse(value, QCStatements)) {
          const info = statement.statementInfo?.byteLength ? statement.statementInfo : undefined;
          if (statement.statementId === OID.qcCompliance) qcCompliance = true;
          if (statement.statementId === OID.qcType && info) {
            qcTypes = [...AsnConvert.parse(info, QcType)];
          }
          if (statement.statementId === OID.psd2Statement) {
            if (!info) throw new CertificateContentError('PSD2 QCStatement has no content');
            psd2 = readPsd2Statement(info);
          }
        }
      } else if (extension.extnID === OID.extKeyUsage) {
        extendedKeyUsages = [...AsnConvert.parse(value, ExtendedKeyUsage)].map(String);
      }
    } catch (cause) {
      if (cause instanceof CertificateContentError) throw cause;
      throw new CertificateContentError(`extension ${extension.extnID} is malformed`, { cause });
    }
  }

  return { subject, organizationIdentifier, qcCompliance, qcTypes, psd2, extendedKeyUsages };
}

/** All role names, in their standard order. */
export const ALL_ROLES = Object.keys(PSD2_ROLES) as Psd2Role[];
