/**
 * What the path validation tests (RFC 5280 §6.1) share: names of usages and policies, how a path is
 * presented, and a suite of the test PKI, a verifier of its environments and a plain QTSP under the
 * sandbox root, made before the suite's tests.
 */
import { CertificateVerifier, type EnvironmentTrust, type PresentedCertificate, type TppIdentity } from '../../lib/certificates/identity.js';
import type { IssuedCertificate } from '../../tools/dev-pki/pki.js';
import { testPki, type TestPki } from '../support/pki.js';
import { beforeSuite } from '../support/suite.js';
import { rejectionOf, testEnvironments } from './helpers.js';
import { mint, tppSubject, type MintOptions, type Minted } from './path-pki.js';

export const SANDBOX_ROOT = 'the trust anchor "C=EU,O=Sandbox Test Root,CN=Sandbox Test Root"';
export const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
export const EMAIL_PROTECTION = '1.3.6.1.5.5.7.3.4';
export const ANY_USAGE = '2.5.29.37.0';
export const ANY_POLICY = '2.5.29.32.0';
export const POLICY_A = '1.3.6.1.4.1.55555.2.1';
export const POLICY_B = '1.3.6.1.4.1.55555.2.2';

export function present(leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]): PresentedCertificate {
  return { leaf: leaf.der, chain: chain.map((certificate) => certificate.der) };
}

/** How `verifier` refuses the certificate `leaf` will be, presented with `chain`. */
export async function refusedBy(verifier: CertificateVerifier, leaf: Promise<IssuedCertificate>, ...chain: readonly IssuedCertificate[]) {
  const issued = await leaf;
  return rejectionOf(() => verifier.identify(present(issued, ...chain)));
}

/** `the CA certificate "CN=<name>,O=<name>,C=EU"`, as messages name a CA minted by {@link qtsp}. */
export function caLabel(name: string): string {
  return `the CA certificate "CN=${name},O=${name},C=EU"`;
}

export interface PathSuite {
  /** The test PKI. */
  readonly pki: TestPki;
  /** A verifier of the test environments. */
  readonly verifier: CertificateVerifier;
  /** A QTSP intermediate under the sandbox root, `Path QTSP`. */
  readonly plainCa: Minted;
  /** A QTSP intermediate under the sandbox root, which the sandbox environment trusts. */
  qtsp(name: string, options?: Partial<MintOptions>): Promise<Minted>;
  /** A TPP certificate (PSD2 statements, organizationIdentifier) under `issuer`. */
  tpp(issuer: Minted, options?: Partial<MintOptions>): Promise<Minted>;
  identify(leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]): TppIdentity;
  refusal(leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]): ReturnType<typeof rejectionOf>;
  /** A verifier of one sandbox environment trusting `anchor`, with `policy` on top of the test defaults. */
  trusting(anchor: Minted, policy?: Partial<EnvironmentTrust>): CertificateVerifier;
}

/** The PKI, verifier and plain QTSP of a path validation suite, made before its tests. */
export function pathSuite(): PathSuite {
  const pki = beforeSuite(() => testPki());
  const qtsp = (name: string, options: Partial<MintOptions> = {}): Promise<Minted> => mint({
    issuer: pki.sandboxRoot, subject: `C=EU,O=${name},CN=${name}`, ca: { pathLength: 0 }, freshKey: true, ...options,
  });
  const made = beforeSuite(async () => ({ verifier: new CertificateVerifier(testEnvironments(pki)), plainCa: await qtsp('Path QTSP') }));
  const identify = (leaf: IssuedCertificate, ...chain: readonly IssuedCertificate[]) => made.verifier.identify(present(leaf, ...chain));
  return {
    pki,
    get verifier() { return made.verifier; },
    get plainCa() { return made.plainCa; },
    qtsp,
    tpp: (issuer, options = {}) => mint({ issuer, subject: tppSubject('api.path-tpp.example'), ...options }),
    identify,
    refusal: (leaf, ...chain) => rejectionOf(() => identify(leaf, ...chain)),
    trusting: (anchor, policy = {}) => new CertificateVerifier([
      { name: 'sandbox', anchors: [anchor.node], requireQualifiedStatements: true, requiredExtendedKeyUsages: [], ...policy },
    ]),
  };
}
