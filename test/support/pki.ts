import { createAuthority, issueServerCertificate, issueTppCertificate, type Authority, type IssuedCertificate, type TppCertificateOptions } from '../../tools/dev-pki/pki.js';

export interface TestPki {
  /** QTSP trusted by the sandbox environment (an intermediate under `sandboxRoot`). */
  readonly sandboxCa: Authority;
  readonly sandboxRoot: Authority;
  /** QTSP trusted by the bank environment. */
  readonly bankCa: Authority;
  /** A CA nobody trusts. */
  readonly rogueCa: Authority;
  /** TLS server certificate for localhost, issued by `serverCa`. */
  readonly serverCa: Authority;
  readonly server: IssuedCertificate;
}

let pki: Promise<TestPki> | undefined;

/** One PKI per test process: key generation is the slow part. */
export function testPki(): Promise<TestPki> {
  pki ??= (async () => {
    const sandboxRoot = await createAuthority('Sandbox Test Root');
    const sandboxCa = await createAuthority('Sandbox Test QTSP', { issuer: sandboxRoot });
    const bankCa = await createAuthority('Bank Trusted QTSP');
    const rogueCa = await createAuthority('Rogue CA');
    const serverCa = await createAuthority('Test Server CA');
    const server = await issueServerCertificate(serverCa, ['localhost', '127.0.0.1']);
    return { sandboxRoot, sandboxCa, bankCa, rogueCa, serverCa, server };
  })();
  return pki;
}

export interface TppCredentials extends IssuedCertificate {
  /** PEM chain to send: the leaf followed by intermediates. */
  readonly chainPem: string;
}

/** A sandbox TPP certificate; the leaf is sent with its intermediate. */
export async function sandboxTpp(options: TppCertificateOptions = {}): Promise<TppCredentials> {
  const { sandboxCa } = await testPki();
  const issued = await issueTppCertificate(sandboxCa, options);
  return { ...issued, chainPem: issued.certPem + sandboxCa.certPem };
}

/** A bank TPP certificate. */
export async function bankTpp(options: TppCertificateOptions = {}): Promise<TppCredentials> {
  const { bankCa } = await testPki();
  const issued = await issueTppCertificate(bankCa, options);
  return { ...issued, chainPem: issued.certPem };
}

/** A certificate from an authority that no environment trusts. */
export async function rogueTpp(options: TppCertificateOptions = {}): Promise<TppCredentials> {
  const { rogueCa } = await testPki();
  const issued = await issueTppCertificate(rogueCa, options);
  return { ...issued, chainPem: issued.certPem };
}
