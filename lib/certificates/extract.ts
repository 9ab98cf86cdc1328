import type { IncomingMessage } from 'node:http';
import type { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';

import type { TrustedProxies } from '../trusted-proxies.js';
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
      /** The proxies allowed to set these headers; from any other peer they are refused. */
      readonly proxies: TrustedProxies;
    };

/**
 * Longest header value read: a few certificates' worth (a QWAC with a 4096-bit RSA key is about
 * 2.5 KB of DER, 4.5 KB as URL-encoded PEM). Longer values are refused before any parsing.
 */
export const MAX_CERTIFICATE_HEADER_LENGTH = 16 * 1024;
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

/** The header's one value, trimmed; undefined when absent or blank. */
function headerValue(req: IncomingMessage, name: string): string | undefined {
  const key = name.toLowerCase();
  // Node joins repeated lines of an unknown header with ", "; headersDistinct keeps them apart.
  const distinct = (req as { headersDistinct?: Record<string, string[] | undefined> }).headersDistinct?.[key];
  const value = req.headers[key];
  if ((distinct?.length ?? 0) > 1 || Array.isArray(value) && value.length > 1) {
    malformed(`the ${key} header was sent more than once: one value is expected`);
  }
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (text.length > MAX_CERTIFICATE_HEADER_LENGTH) {
    malformed(`the ${key} header is longer than ${MAX_CERTIFICATE_HEADER_LENGTH} characters`);
  }
  return text;
}

const isBase64Char = (code: number): boolean => (code >= 65 && code <= 90) || (code >= 97 && code <= 122)
  || (code >= 48 && code <= 57) || code === 43 || code === 47;
const isSpace = (code: number): boolean => code === 32 || (code >= 9 && code <= 13);

/** Decodes base64 that may hold white space; one pass over the text, no regular expression. */
function decodeBase64(text: string, what: string): Buffer {
  let compact = '';
  let padding = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (isSpace(code)) continue;
    if (code === 61) {
      padding += 1;
      if (padding > 2) malformed(`${what} is not valid base64`);
    } else if (!isBase64Char(code) || padding > 0) {
      malformed(`${what} is not valid base64`);
    }
    compact += text[index];
  }
  const der = Buffer.from(compact, 'base64');
  if (!der.length) malformed(`${what} is empty`);
  return der;
}

/** RFC 8941 byte sequences (`:base64:`), comma-separated. */
function parseByteSequences(text: string, what: string): Buffer[] {
  return text.split(',').map((item) => {
    const trimmed = item.trim();
    if (trimmed.length < 3 || !trimmed.startsWith(':') || !trimmed.endsWith(':') || trimmed.indexOf(':', 1) !== trimmed.length - 1) {
      malformed(`${what} is not an RFC 9440 byte sequence`);
    }
    return decodeBase64(trimmed.slice(1, -1), what);
  });
}

/**
 * The bodies between PEM certificate markers, found with indexOf: linear in the text's length. The
 * space of the markers may arrive form-encoded as "+" (a "+" of the base64 must not become one).
 */
function pemBodies(text: string): string[] {
  const bodies: string[] = [];
  let from = 0;
  for (;;) {
    const begin = /-----BEGIN[ +]CERTIFICATE-----/y;
    const start = text.indexOf('-----BEGIN', from);
    if (start < 0) return bodies;
    begin.lastIndex = start;
    if (!begin.test(text)) {
      from = start + 1;
      continue;
    }
    const bodyStart = begin.lastIndex;
    let end = text.indexOf('-----END', bodyStart);
    const close = /-----END[ +]CERTIFICATE-----/y;
    while (end >= 0) {
      close.lastIndex = end;
      if (close.test(text)) break;
      end = text.indexOf('-----END', end + 1);
    }
    if (end < 0) return bodies;
    bodies.push(text.slice(bodyStart, end));
    from = close.lastIndex;
  }
}

function parsePem(text: string, what: string): Buffer[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    return malformed(`${what} is not URL-encoded PEM`);
  }
  const blocks = pemBodies(decoded).map((body) => decodeBase64(body, what));
  if (!blocks.length) malformed(`${what} holds no PEM certificate`);
  return blocks;
}

/**
 * The certificates a header value holds: URL-encoded PEM (one or more blocks), or RFC 9440 byte
 * sequences. With `single`, a list of byte sequences (several values joined by commas, where one
 * certificate is expected) is refused. Linear in the value's length.
 */
export function parseCertificateHeader(text: string, what: string, single = false): Buffer[] {
  const byteSequences = text.startsWith(':');
  // A raw comma never occurs in URL-encoded PEM: it joins two values.
  if (!byteSequences && text.includes(',')) malformed(`${what} holds more than one value: one certificate is expected`);
  const certificates = byteSequences ? parseByteSequences(text, what) : parsePem(text, what);
  if (certificates.length > MAX_CHAIN) malformed(`${what} holds too many certificates`);
  if (single && byteSequences && certificates.length > 1) malformed(`${what} holds more than one value: one certificate is expected`);
  return certificates;
}

/**
 * Refuses a request carrying a certificate header that did not come from one of the bank's
 * proxies: anyone else who sends it tries to pass as the TPP whose (public) certificate it holds.
 */
function requireTrustedPeer(req: IncomingMessage, source: Extract<CertificateSource, { from: 'header' }>): void {
  if (source.proxies.trustsPeerOf(req)) return;
  const names = [source.header, ...(source.chainHeader ? [source.chainHeader] : [])].map((name) => name.toLowerCase());
  const sent = names.find((name) => req.headers[name] !== undefined);
  if (sent) {
    throw new CertificateRejectedError(
      'certificate_header_untrusted',
      `the ${sent} header came from an untrusted peer: a client certificate header is accepted only from the bank's TLS-terminating proxies`,
    );
  }
}

/**
 * Reads the client certificate of a request from its TLS socket, or from the headers set by the
 * bank's TLS-terminating proxy when that mode is configured (headers are ignored otherwise).
 * Returns undefined when none was presented; throws when a header is present but unreadable, sent
 * more than once, or sent by a peer that is not a trusted proxy.
 */
export function presentedCertificate(req: IncomingMessage, source: CertificateSource): PresentedCertificate | undefined {
  if (source.from === 'socket') return fromSocket(req);
  requireTrustedPeer(req, source);
  const leafText = headerValue(req, source.header);
  if (!leafText) return undefined;
  const [leaf, ...rest] = parseCertificateHeader(leafText, `the ${source.header.toLowerCase()} header`, true);
  const chainText = source.chainHeader ? headerValue(req, source.chainHeader) : undefined;
  const chain = chainText ? parseCertificateHeader(chainText, `the ${source.chainHeader?.toLowerCase()} header`) : [];
  return { leaf: leaf as Buffer, chain: [...rest, ...chain] };
}
