import type { IncomingMessage } from 'node:http';
import type { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';

import { CertificateRejectedError, type PresentedCertificate } from './identity.js';

/** Where the client certificate is read from. */
export type CertificateSource =
  | { readonly from: 'socket' }
  | {
      readonly from: 'header';
      /** Header holding the leaf: URL-encoded PEM, or an RFC 9440 `Client-Cert` byte sequence. */
      readonly header: string;
      /** Header holding intermediates: RFC 9440 `Client-Cert-Chain`, or URL-encoded PEM. */
      readonly chainHeader?: string | undefined;
    };

/** The space of the markers may arrive form-encoded as "+" (a "+" of the base64 must not become one). */
const PEM_BLOCK = /-----BEGIN[ +]CERTIFICATE-----([\s\S]*?)-----END[ +]CERTIFICATE-----/g;
const MAX_CHAIN = 8;

function malformed(description: string): never {
  throw new CertificateRejectedError('certificate_malformed', description);
}

/**
 * The certificates a TLS connection presented, read once per connection. getPeerCertificate(true)
 * rebuilds the whole chain as objects on every call (hundreds of microseconds); the peer's
 * X509Certificate and its issuer links are read once and kept while the connection lives.
 */
const peerChains = new WeakMap<object, PresentedCertificate>();

function chainOf(first: { readonly issuerCertificate?: unknown } | undefined, raw: (item: unknown) => Buffer | undefined): Buffer[] {
  const chain: Buffer[] = [];
  const seen = new Set<unknown>([first]);
  let next = first?.issuerCertificate;
  while (next && !seen.has(next) && chain.length < MAX_CHAIN) {
    const der = raw(next);
    if (!der) break;
    seen.add(next);
    chain.push(der);
    next = (next as { issuerCertificate?: unknown }).issuerCertificate;
  }
  return chain;
}

function readPeer(socket: Partial<TLSSocket>): PresentedCertificate | undefined {
  if (typeof socket.getPeerX509Certificate === 'function') {
    const leaf = socket.getPeerX509Certificate();
    if (!leaf) return undefined;
    return { leaf: leaf.raw, chain: chainOf(leaf, (item) => (item as X509Certificate).raw) };
  }
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const peer = socket.getPeerCertificate(true);
  if (!peer?.raw) return undefined;
  return { leaf: peer.raw, chain: chainOf(peer, (item) => (item as PeerCertificate).raw) };
}

function fromSocket(req: IncomingMessage): PresentedCertificate | undefined {
  const socket = req.socket as Partial<TLSSocket> | undefined;
  if (!socket) return undefined;
  // What the handshake presented stands for the connection: a TLS 1.2 renegotiation by the same
  // client (who holds the keys of both certificates) does not change who it is here.
  const known = peerChains.get(socket);
  if (known) return known;
  const peer = readPeer(socket);
  if (peer) peerChains.set(socket, peer);
  return peer;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  const text = Array.isArray(value) ? value.join(',') : value;
  return text?.trim() ? text.trim() : undefined;
}

function decodeBase64(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(text)) malformed(`${what} is not valid base64`);
  const der = Buffer.from(text.replace(/\s+/g, ''), 'base64');
  if (!der.length) malformed(`${what} is empty`);
  return der;
}

/** RFC 8941 byte sequences (`:base64:`), comma-separated. */
function parseByteSequences(text: string, what: string): Buffer[] {
  return text.split(',').map((item) => {
    const match = /^:([^:]*):$/.exec(item.trim());
    if (!match?.[1]) malformed(`${what} is not an RFC 9440 byte sequence`);
    return decodeBase64(match[1], what);
  });
}

function parsePem(text: string, what: string): Buffer[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    return malformed(`${what} is not URL-encoded PEM`);
  }
  const blocks = [...decoded.matchAll(PEM_BLOCK)].map((m) => decodeBase64(m[1] ?? '', what));
  if (!blocks.length) malformed(`${what} holds no PEM certificate`);
  return blocks;
}

function parseHeader(text: string, what: string): Buffer[] {
  const certificates = text.startsWith(':') ? parseByteSequences(text, what) : parsePem(text, what);
  if (certificates.length > MAX_CHAIN) malformed(`${what} holds too many certificates`);
  return certificates;
}

/**
 * Reads the client certificate of a request from its TLS socket, or from the headers set by the
 * bank's TLS-terminating proxy when that mode is configured (headers are ignored otherwise).
 * Returns undefined when none was presented; throws when a header is present but unreadable.
 */
export function presentedCertificate(req: IncomingMessage, source: CertificateSource): PresentedCertificate | undefined {
  if (source.from === 'socket') return fromSocket(req);
  const leafText = headerValue(req, source.header);
  if (!leafText) return undefined;
  const [leaf, ...rest] = parseHeader(leafText, `the ${source.header} header`);
  const chainText = source.chainHeader ? headerValue(req, source.chainHeader) : undefined;
  const chain = chainText ? parseHeader(chainText, `the ${source.chainHeader} header`) : [];
  return { leaf: leaf as Buffer, chain: [...rest, ...chain] };
}
