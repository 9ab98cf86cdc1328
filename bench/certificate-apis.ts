/**
 * What reading a client certificate costs per request, by API, on a real mutual-TLS connection
 * presenting the benchmark's TPP QWAC with its intermediate; the product's own per-request
 * certificate work (presentedCertificate + CertificateVerifier.identify on a cache hit, the revocation
 * status of its path once cached); and what
 * getPeerX509Certificate() does to the peer chain of the connection.
 *
 *   npx tsx bench/certificate-apis.ts
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import tls from 'node:tls';

import { presentedCertificate } from '../lib/certificates/extract.js';
import { MemoryStorage } from '../adapters/memory.js';
import { CertificateVerifier } from '../lib/certificates/identity.js';
import { RevocationChecker } from '../lib/certificates/revocation/index.js';
import { startCrlServer } from './crl.js';
import { createBenchPki } from './pki.js';

const crls = await startCrlServer();
const pki = await createBenchPki(crls);
const verifier = new CertificateVerifier([{ name: 'sandbox', anchors: [new X509Certificate(pki.sandboxRootPem)], requireQualifiedStatements: true, requiredExtendedKeyUsages: [] }]);

function time(label: string, operation: () => unknown, count = 500): void {
  operation();
  const started = performance.now();
  for (let i = 0; i < count; i += 1) operation();
  console.log(`${label.padEnd(62)} ${(((performance.now() - started) / count) * 1000).toFixed(1).padStart(7)} µs`);
}

async function timeAsync(label: string, operation: () => Promise<unknown>, count = 5000): Promise<void> {
  await operation();
  const started = performance.now();
  for (let i = 0; i < count; i += 1) await operation();
  console.log(`${label.padEnd(62)} ${(((performance.now() - started) / count) * 1000).toFixed(1).padStart(7)} µs`);
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const checker = new RevocationChecker(new MemoryStorage(), {}, { now: () => new Date(), logger: quiet });

await new Promise<void>((resolve) => {
  const server = tls.createServer({ key: pki.serverKeyPem, cert: pki.serverCertPem, requestCert: true, rejectUnauthorized: false }, async (socket) => {
    console.log(`Node ${process.version}, OpenSSL ${process.versions.openssl}; the client sends its leaf and intermediate\n`);
    time('socket.getPeerCertificate(false)', () => socket.getPeerCertificate(false));
    time('socket.getPeerCertificate(true)  (lib/certificates/extract.ts)', () => socket.getPeerCertificate(true));
    const req = { socket } as unknown as IncomingMessage;
    time('presentedCertificate(req, socket)', () => presentedCertificate(req, { from: 'socket' }));
    const presented = presentedCertificate(req, { from: 'socket' });
    time('CertificateVerifier.identify(presented), cache hit', () => verifier.identify(presented));
    const { path } = verifier.identify(presented);
    await timeAsync('RevocationChecker.checkPath(path), status cached', () => checker.checkPath(path));
    await timeAsync('RevocationChecker.watch(path), already watched', () => checker.watch(path));
    const leafDer = Buffer.from(presented!.leaf);
    time('new X509Certificate(der)', () => new X509Certificate(leafDer));
    // Last: on the server side the first getPeerX509Certificate() removes the leaf from OpenSSL's
    // peer chain stack (nodejs/node#65579); the intermediates are gone for later calls of either API.
    const first = socket.getPeerX509Certificate();
    console.log(`\nfirst getPeerX509Certificate(): issuerCertificate ${first?.issuerCertificate ? 'present' : 'missing'}`);
    console.log(`then getPeerCertificate(true): issuerCertificate ${socket.getPeerCertificate(true).issuerCertificate?.raw ? 'present' : 'missing'}; getPeerX509Certificate(): issuerCertificate ${socket.getPeerX509Certificate()?.issuerCertificate ? 'present' : 'missing'}\n`);
    time('socket.getPeerX509Certificate()', () => socket.getPeerX509Certificate());
    time('x509.raw + x509.issuerCertificate?.raw (read once, kept)', () => [first?.raw, first?.issuerCertificate?.raw]);
    socket.end();
    server.close(() => resolve());
    await checker.close();
    await crls.close();
  });
  server.listen(0, '127.0.0.1', () => {
    const client = tls.connect({ host: '127.0.0.1', port: (server.address() as { port: number }).port, key: pki.tpp.keyPem, cert: pki.tpp.chainPem, rejectUnauthorized: false });
    client.on('error', () => undefined);
    client.resume();
  });
});
