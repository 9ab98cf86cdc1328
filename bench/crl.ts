/**
 * The QTSP side of the benchmark's revocation checking: CRLs of the bench PKI's authorities,
 * served over plain HTTP on a loopback port, as a QTSP publishes them. The product under test
 * fetches each once and then serves the status from its cache; the rate is what that costs.
 */
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import * as x509 from '@peculiar/x509';

import type { Authority } from '../tools/dev-pki/pki.js';

export interface CrlServer {
  /** The URL a certificate issued by `authority` names as its CRL distribution point. */
  urlOf(authority: string): string;
  /** Signs and publishes an empty CRL of `authority`, good for a day. */
  publish(authority: Authority): Promise<void>;
  /** CRL downloads served so far. */
  readonly downloads: number;
  close(): Promise<void>;
}

const DAY = 24 * 60 * 60 * 1000;

export async function startCrlServer(): Promise<CrlServer> {
  const crls = new Map<string, Buffer>();
  let downloads = 0;
  const server: Server = createServer((req, res) => {
    const crl = crls.get(req.url ?? '');
    if (!crl) {
      res.writeHead(404).end();
      return;
    }
    downloads += 1;
    res.writeHead(200, { 'content-type': 'application/pkix-crl', 'content-length': crl.length }).end(crl);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const path = (authority: string) => `/${encodeURIComponent(authority.toLowerCase().replace(/[^a-z0-9]+/g, '-'))}.crl`;
  return {
    urlOf: (authority) => `http://127.0.0.1:${port}${path(authority)}`,
    publish: async (authority) => {
      const crl = await x509.X509CrlGenerator.create({
        issuer: authority.certificate.subject,
        thisUpdate: new Date(Date.now() - 60_000),
        nextUpdate: new Date(Date.now() + DAY),
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        signingKey: authority.keys.privateKey,
        entries: [],
      });
      crls.set(path(authority.name), Buffer.from(crl.rawData));
    },
    get downloads() {
      return downloads;
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
