/**
 * What path validation reads from one certificate, decoded once per certificate object.
 */
import type { X509Certificate } from 'node:crypto';

import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  CertificatePolicies,
  ExtendedKeyUsage,
  InhibitAnyPolicy,
  KeyUsage,
  PolicyConstraints,
  PolicyMappings,
  type AlgorithmIdentifier,
  type KeyUsageType,
  type Name,
} from '@peculiar/asn1-x509';

import { formatRfc4514, sameDistinguishedName, type DnAttribute } from './distinguished-name.js';
import { RawGeneralNames, RawNameConstraints, type RawGeneralName } from './general-name.js';
import { EXTENSION } from './oids.js';

/** A relative distinguished name: the attributes of one RDN (usually one). */
export type Rdn = readonly DnAttribute[];

export interface PolicyMapping {
  readonly issuerDomainPolicy: string;
  readonly subjectDomainPolicy: string;
}

export interface CertificateFacts {
  readonly certificate: X509Certificate;
  /** Subject RDNs, most general first (certificate order). */
  readonly subject: readonly Rdn[];
  /** The subject in RFC 4514 form, to name the certificate in messages. */
  readonly subjectText: string;
  /** RFC 5280 §6.1: subject and issuer names are the same. */
  readonly selfIssued: boolean;
  /** basicConstraints cA. */
  readonly ca: boolean;
  /** keyUsage bits; undefined when the extension is absent. */
  readonly keyUsage: readonly KeyUsageType[] | undefined;
  /** extKeyUsage OIDs; undefined when the extension is absent. */
  readonly extendedKeyUsages: readonly string[] | undefined;
  readonly subjectAltNames: readonly RawGeneralName[];
  readonly nameConstraints: { readonly permitted: readonly RawGeneralName[]; readonly excluded: readonly RawGeneralName[] } | undefined;
  /** certificatePolicies identifiers; undefined when the extension is absent. */
  readonly policies: readonly string[] | undefined;
  readonly policyMappings: readonly PolicyMapping[] | undefined;
  readonly requireExplicitPolicy: number | undefined;
  readonly inhibitPolicyMapping: number | undefined;
  readonly inhibitAnyPolicy: number | undefined;
  /** OIDs of critical extensions that no part of this server processes. */
  readonly unrecognisedCritical: readonly string[];
  readonly signatureAlgorithm: AlgorithmIdentifier;
}

export class CertificateFactsError extends Error {
  override readonly name = 'CertificateFactsError';
}

/** Extensions some part of this server processes: path validation, the PSD2 reading, revocation. */
const RECOGNISED = new Set<string>(Object.values(EXTENSION));

function rdnsOf(name: Name): Rdn[] {
  return Array.from(name, (rdn) => Array.from(rdn, (atv) => ({ oid: atv.type, value: atv.value.toString() })));
}

function sameName(a: readonly Rdn[], b: readonly Rdn[]): boolean {
  return a.length === b.length && a.every((rdn, index) => sameDistinguishedName(rdn, b[index] as Rdn));
}

/** SkipCerts (RFC 5280 §4.2.1.11, §4.2.1.14): a non-negative INTEGER. */
function skipCerts(value: ArrayBuffer | undefined): number | undefined {
  if (value === undefined) return undefined;
  const bytes = new Uint8Array(value);
  if (bytes.length && (bytes[0] as number) & 0x80) throw new CertificateFactsError('negative SkipCerts');
  if (bytes.length > 4) return Number.MAX_SAFE_INTEGER;
  return bytes.reduce((total, byte) => total * 256 + byte, 0);
}

const cache = new WeakMap<X509Certificate, CertificateFacts | CertificateFactsError>();

type MutableFacts = { -readonly [K in keyof CertificateFacts]: CertificateFacts[K] };

/** How each recognised extension adds to the facts (RFC 5280 §4.2). */
const EXTENSION_READERS: Readonly<Record<string, (value: ArrayBuffer, facts: MutableFacts) => void>> = {
  [EXTENSION.basicConstraints]: (value, facts) => {
    facts.ca = AsnConvert.parse(value, BasicConstraints).cA;
  },
  [EXTENSION.keyUsage]: (value, facts) => {
    facts.keyUsage = AsnConvert.parse(value, KeyUsage).toJSON();
  },
  [EXTENSION.extKeyUsage]: (value, facts) => {
    facts.extendedKeyUsages = [...AsnConvert.parse(value, ExtendedKeyUsage)].map(String);
  },
  [EXTENSION.subjectAltName]: (value, facts) => {
    facts.subjectAltNames = [...AsnConvert.parse(value, RawGeneralNames)];
  },
  [EXTENSION.nameConstraints]: (value, facts) => {
    const constraints = AsnConvert.parse(value, RawNameConstraints);
    facts.nameConstraints = {
      permitted: [...(constraints.permittedSubtrees ?? [])].map((subtree) => subtree.base),
      excluded: [...(constraints.excludedSubtrees ?? [])].map((subtree) => subtree.base),
    };
  },
  [EXTENSION.certificatePolicies]: (value, facts) => {
    facts.policies = [...AsnConvert.parse(value, CertificatePolicies)].map((policy) => policy.policyIdentifier);
  },
  [EXTENSION.policyMappings]: (value, facts) => {
    facts.policyMappings = [...AsnConvert.parse(value, PolicyMappings)].map((mapping) => ({
      issuerDomainPolicy: mapping.issuerDomainPolicy,
      subjectDomainPolicy: mapping.subjectDomainPolicy,
    }));
  },
  [EXTENSION.policyConstraints]: (value, facts) => {
    const constraints = AsnConvert.parse(value, PolicyConstraints);
    facts.requireExplicitPolicy = skipCerts(constraints.requireExplicitPolicy);
    facts.inhibitPolicyMapping = skipCerts(constraints.inhibitPolicyMapping);
    // RFC 5280 §4.2.1.11: conforming CAs MUST NOT issue an empty sequence.
    if (facts.requireExplicitPolicy === undefined && facts.inhibitPolicyMapping === undefined) {
      throw new CertificateFactsError('empty policy constraints');
    }
  },
  [EXTENSION.inhibitAnyPolicy]: (value, facts) => {
    facts.inhibitAnyPolicy = skipCerts(AsnConvert.parse(value, InhibitAnyPolicy).value);
  },
};

function read(certificate: X509Certificate): CertificateFacts {
  let parsed: Certificate;
  try {
    parsed = AsnConvert.parse(certificate.raw, Certificate);
  } catch (cause) {
    throw new CertificateFactsError('not a DER-encoded X.509 certificate', { cause });
  }
  const tbs = parsed.tbsCertificate;
  const subject = rdnsOf(tbs.subject);
  const facts: MutableFacts = {
    certificate,
    subject,
    subjectText: formatRfc4514(subject.flat()),
    selfIssued: sameName(subject, rdnsOf(tbs.issuer)),
    ca: false,
    keyUsage: undefined,
    extendedKeyUsages: undefined,
    subjectAltNames: [],
    nameConstraints: undefined,
    policies: undefined,
    policyMappings: undefined,
    requireExplicitPolicy: undefined,
    inhibitPolicyMapping: undefined,
    inhibitAnyPolicy: undefined,
    unrecognisedCritical: [],
    signatureAlgorithm: parsed.signatureAlgorithm,
  };
  const seen = new Set<string>();
  for (const extension of tbs.extensions ?? []) {
    const id = extension.extnID;
    // RFC 5280 §4.2: one instance of an extension at most; two could say different things.
    if (seen.has(id)) throw new CertificateFactsError(`extension ${id} appears more than once`);
    seen.add(id);
    if (extension.critical && !RECOGNISED.has(id)) facts.unrecognisedCritical = [...facts.unrecognisedCritical, id];
    try {
      EXTENSION_READERS[id]?.(extension.extnValue.buffer, facts);
    } catch (cause) {
      throw new CertificateFactsError(`extension ${id} is malformed`, { cause });
    }
  }
  return facts;
}

/** The facts of `certificate`; throws {@link CertificateFactsError} when an extension cannot be read. */
export function factsOf(certificate: X509Certificate): CertificateFacts {
  let facts = cache.get(certificate);
  if (!facts) {
    try {
      facts = read(certificate);
    } catch (error) {
      if (!(error instanceof CertificateFactsError)) throw error;
      facts = error;
    }
    cache.set(certificate, facts);
  }
  if (facts instanceof CertificateFactsError) throw facts;
  return facts;
}
