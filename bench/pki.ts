/**
 * The benchmark's PKI, minted with the project's own PKI helpers the way the test PKI is built: a
 * sandbox root → intermediate QTSP issuing the TPP's QWAC (sent with its intermediate), and a
 * server CA issuing the HTTPS certificate of localhost.
 */
import { generateKeyPairSync } from 'node:crypto';

import { createAuthority, issueServerCertificate, issueTppCertificate, organizationIdentifierFor } from '../tools/dev-pki/pki.js';
import type { CrlServer } from './crl.js';

export interface BenchPki {
  /** Trust anchor of the sandbox environment (the root above the TPP's QTSP). */
  readonly sandboxRootPem: string;
  /** CA of the server certificate, for clients verifying the server. */
  readonly serverCaPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly tpp: {
    /** Leaf followed by its intermediate. */
    readonly chainPem: string;
    readonly keyPem: string;
    /** The TPP's organizationIdentifier (its provider_legal_id). */
    readonly organizationIdentifier: string;
  };
  /** RSA private JWK signing what the servers sign. */
  readonly signingKey: Record<string, unknown>;
}

export const TPP_ORGANIZATION = { roles: ['PSP_AI', 'PSP_PI'] as const, organization: 'Bench TPP', authorisationNumber: 'BENCH1' };

/**
 * The PKI; the QTSP intermediate and the QWAC name their issuer's CRL on `crls`, which publishes
 * them, so that the product checks their revocation status as it does in production.
 */
export async function createBenchPki(crls: CrlServer): Promise<BenchPki> {
  const sandboxRoot = await createAuthority('Bench Sandbox Root');
  const sandboxCa = await createAuthority('Bench Sandbox QTSP', { issuer: sandboxRoot, crlUrl: crls.urlOf(sandboxRoot.name) });
  await crls.publish(sandboxRoot);
  await crls.publish(sandboxCa);
  const serverCa = await createAuthority('Bench Server CA');
  const server = await issueServerCertificate(serverCa, ['localhost', '127.0.0.1']);
  const options = { ...TPP_ORGANIZATION, roles: [...TPP_ORGANIZATION.roles], crlUrl: crls.urlOf(sandboxCa.name) };
  const tpp = await issueTppCertificate(sandboxCa, options);
  return {
    sandboxRootPem: sandboxRoot.certPem,
    serverCaPem: serverCa.certPem,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    tpp: {
      chainPem: tpp.certPem + sandboxCa.certPem,
      keyPem: tpp.keyPem,
      organizationIdentifier: organizationIdentifierFor(options) ?? '',
    },
    signingKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<string, unknown>,
  };
}
