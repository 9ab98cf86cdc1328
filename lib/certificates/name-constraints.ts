/**
 * Name constraints (RFC 5280 §4.2.1.10, §6.1.3(b, c)): every name a certificate asserts must lie
 * within the permitted subtrees of each CA above it that constrains that name form, and within
 * none of their excluded subtrees. Checking the certificate against each CA's constraints in turn
 * is the same as checking it against their intersection (permitted) and union (excluded).
 */
import type { CertificateFacts, Rdn } from './certificate-facts.js';
import { formatRfc4514, sameDistinguishedName } from './distinguished-name.js';
import { formOf, type NameForm, type RawGeneralName } from './general-name.js';
import { COMMON_NAME, EMAIL_ADDRESS } from './oids.js';

/** One name a certificate asserts, in a comparable form. */
type AssertedName =
  | { readonly form: 'directoryName'; readonly value: readonly Rdn[]; readonly subject: boolean }
  | { readonly form: 'dNSName' | 'rfc822Name' | 'uniformResourceIdentifier'; readonly value: string }
  | { readonly form: 'iPAddress'; readonly value: Uint8Array }
  | { readonly form: Exclude<NameForm, 'directoryName' | 'dNSName' | 'rfc822Name' | 'uniformResourceIdentifier' | 'iPAddress'> };

export interface NameConstraintViolation {
  /** The name as written in messages, e.g. `name DNS:bank.example` or `subject CN=…`. */
  readonly name: string;
  /** True when an excluded subtree holds the name; false when no permitted subtree does. */
  readonly excluded: boolean;
  /** True when the name form is constrained but not one this server compares. */
  readonly unsupported: boolean;
}

const HOSTNAME = /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?$/i;

function rdnsOf(name: NonNullable<RawGeneralName['directoryName']>): Rdn[] {
  return Array.from(name, (rdn) => Array.from(rdn, (atv) => ({ oid: atv.type, value: atv.value.toString() })));
}

/** The names of RFC 5280 §6.1.3(b): the subject, its subjectAltName entries, and legacy forms in the subject. */
function assertedNames(facts: CertificateFacts): AssertedName[] {
  const names: AssertedName[] = [];
  if (facts.subject.length) names.push({ form: 'directoryName', value: facts.subject, subject: true });
  for (const general of facts.subjectAltNames) {
    const form = formOf(general);
    switch (form) {
      case 'directoryName': names.push({ form, value: rdnsOf(general.directoryName!), subject: false }); break;
      case 'dNSName': names.push({ form, value: general.dNSName! }); break;
      case 'rfc822Name': names.push({ form, value: general.rfc822Name! }); break;
      case 'uniformResourceIdentifier': names.push({ form, value: general.uniformResourceIdentifier! }); break;
      case 'iPAddress': names.push({ form, value: new Uint8Array(general.iPAddress!) }); break;
      default: names.push({ form }); break;
    }
  }
  const attributes = facts.subject.flat();
  // RFC 5280 §4.2.1.10: rfc822Name constraints also bind the legacy emailAddress attribute.
  for (const attribute of attributes) {
    if (attribute.oid === EMAIL_ADDRESS) names.push({ form: 'rfc822Name', value: attribute.value });
  }
  // Beyond RFC 5280, as OpenSSL and browsers do: a host name in the common name of a certificate
  // without DNS names in its subjectAltName is bound by dNSName constraints, or a constrained CA
  // could name any host there.
  if (!names.some((name) => name.form === 'dNSName')) {
    for (const attribute of attributes) {
      if (attribute.oid === COMMON_NAME && HOSTNAME.test(attribute.value)) names.push({ form: 'dNSName', value: attribute.value });
    }
  }
  return names;
}

function dnsWithin(name: string, base: string): boolean {
  const host = name.toLowerCase().replace(/\.$/, '');
  const root = base.toLowerCase().replace(/\.$/, '');
  if (!root) return true;
  if (root.startsWith('.')) return host.endsWith(root);
  return host === root || host.endsWith(`.${root}`);
}

/** Whether a wildcard name such as `*.example.com` could stand for a host inside `base`. */
function wildcardReaches(name: string, base: string): boolean {
  if (!name.startsWith('*.')) return false;
  const parent = name.slice(2).toLowerCase().replace(/\.$/, '');
  const root = base.toLowerCase().replace(/^\./, '').replace(/\.$/, '');
  const dot = root.indexOf('.');
  return dot > 0 && root.slice(dot + 1) === parent;
}

function mailboxWithin(address: string, base: string): boolean {
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const host = address.slice(at + 1).toLowerCase();
  const baseAt = base.lastIndexOf('@');
  if (baseAt >= 0) return address.slice(0, at) === base.slice(0, baseAt) && host === base.slice(baseAt + 1).toLowerCase();
  const root = base.toLowerCase();
  if (!root) return true;
  if (root.startsWith('.')) return host.endsWith(root);
  return host === root;
}

function uriHost(uri: string): string | undefined {
  try {
    const host = new URL(uri).hostname;
    return host ? host.replace(/^\[|\]$/g, '') : undefined;
  } catch {
    return undefined;
  }
}

function uriWithin(uri: string, base: string): boolean {
  const host = uriHost(uri)?.toLowerCase().replace(/\.$/, '');
  if (host === undefined) return false;
  const root = base.toLowerCase().replace(/\.$/, '');
  if (root.startsWith('.')) return host.endsWith(root);
  return host === root;
}

const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function addressWithin(address: Uint8Array, base: Uint8Array): boolean {
  // An IPv4-mapped IPv6 address (::ffff:10.1.2.3) is the IPv4 address it maps, for IPv4 subtrees.
  if (address.length === 16 && base.length === 8 && IPV4_MAPPED_PREFIX.every((byte, index) => address[index] === byte)) {
    return addressWithin(address.subarray(12), base);
  }
  if (base.length !== address.length * 2) return false;
  for (let index = 0; index < address.length; index += 1) {
    const mask = base[address.length + index] as number;
    if (((address[index] as number) & mask) !== ((base[index] as number) & mask)) return false;
  }
  return true;
}

function directoryWithin(name: readonly Rdn[], base: readonly Rdn[]): boolean {
  return base.length <= name.length && base.every((rdn, index) => sameDistinguishedName(rdn, name[index] as Rdn));
}

/** Whether `name` lies in the subtree `base` of the same form; `excluding` reads doubtful cases as inside. */
function within(name: AssertedName, base: RawGeneralName, excluding: boolean): boolean {
  switch (name.form) {
    case 'directoryName': return directoryWithin(name.value, rdnsOf(base.directoryName!));
    case 'dNSName': return dnsWithin(name.value, base.dNSName!) || (excluding && wildcardReaches(name.value, base.dNSName!));
    case 'rfc822Name': return mailboxWithin(name.value, base.rfc822Name!);
    case 'uniformResourceIdentifier': return uriWithin(name.value, base.uniformResourceIdentifier!);
    case 'iPAddress': {
      const subtree = new Uint8Array(base.iPAddress!);
      // A subtree of neither 8 nor 32 octets is malformed: it excludes every address and permits none.
      if (excluding && subtree.length !== 8 && subtree.length !== 32) return true;
      return addressWithin(name.value, subtree);
    }
    default: return false;
  }
}

function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let index = 0; index + 1 < bytes.length; index += 2) groups.push((((bytes[index] as number) << 8) | (bytes[index + 1] as number)).toString(16));
  return groups.join(':');
}

function describe(name: AssertedName): string {
  switch (name.form) {
    case 'directoryName': return name.subject ? `subject ${formatRfc4514(name.value.flat())}` : `name DirName:${formatRfc4514(name.value.flat())}`;
    case 'dNSName': return `name DNS:${name.value}`;
    case 'rfc822Name': return `name email:${name.value}`;
    case 'uniformResourceIdentifier': return `name URI:${name.value}`;
    case 'iPAddress': return `name IP:${formatAddress(name.value)}`;
    default: return `${name.form} name`;
  }
}

/**
 * The first name of `certificate` that the name constraints `constraints` of a CA above it do not
 * allow; undefined when they allow them all.
 */
export function nameConstraintViolation(
  certificate: CertificateFacts,
  constraints: NonNullable<CertificateFacts['nameConstraints']>,
): NameConstraintViolation | undefined {
  for (const name of assertedNames(certificate)) {
    const permitted = constraints.permitted.filter((base) => formOf(base) === name.form);
    const excluded = constraints.excluded.filter((base) => formOf(base) === name.form);
    if (!permitted.length && !excluded.length) continue;
    const comparable = ['directoryName', 'dNSName', 'rfc822Name', 'uniformResourceIdentifier', 'iPAddress'].includes(name.form);
    // RFC 5280 §4.2.1.10: a constrained name form that is not processed means the certificate is refused.
    if (!comparable) return { name: describe(name), excluded: excluded.length > 0, unsupported: true };
    if (excluded.some((base) => within(name, base, true))) return { name: describe(name), excluded: true, unsupported: false };
    if (permitted.length && !permitted.some((base) => within(name, base, false))) return { name: describe(name), excluded: false, unsupported: false };
  }
  return undefined;
}
