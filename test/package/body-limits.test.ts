/**
 * Bodies larger than their endpoint accepts: `413` with a JSON error, decided from Content-Length
 * before the body is read (chunked bodies: as soon as they pass the limit), and received by clients
 * that are still uploading, Node's and a Java-like one, instead of a connection reset.
 */
import { Agent, request } from 'node:https';
import { connect } from 'node:tls';

import { expect } from 'chai';

import { BODY_LIMITS, DISCARD_LIMIT } from '../../lib/body-limits.js';
import { deployedTppBody, jwkWithX5c, qsealc, register } from '../registration/helpers.js';
import { sandboxTpp, testPki, type TppCredentials } from '../support/pki.js';
import { startServer, type TestServer } from '../support/server.js';

const MB5 = 5_000_000;

interface Upload {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** Bytes of the body the client wrote. */
  readonly written: number;
  /** An error the client saw, if any (e.g. ECONNRESET). */
  readonly error: string | undefined;
}

/**
 * A Node client that keeps uploading `size` bytes in 64 KiB writes, waiting for 'drain' as a
 * streaming client does: with Content-Length, or chunked. Resolves once the request is over.
 */
function nodeUpload(server: TestServer, tpp: TppCredentials | undefined, method: string, path: string, options: {
  size: number;
  contentType: string;
  chunked?: boolean;
  headers?: Record<string, string>;
}): Promise<Upload> {
  return new Promise((resolve) => {
    const agent = new Agent({ keepAlive: false, maxCachedSessions: 0 });
    let status = 0;
    let headers: Upload['headers'] = {};
    let text = '';
    let written = 0;
    let error: string | undefined;
    const req = request(`${server.url}${path}`, {
      method,
      agent,
      ca: testPkiCa,
      ...(tpp ? { cert: tpp.chainPem, key: tpp.keyPem } : {}),
      // Named, since Node's client frames the body of a GET or DELETE only when told to.
      headers: { 'content-type': options.contentType, ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(options.size) }), ...options.headers },
    }, (res) => {
      status = res.statusCode ?? 0;
      headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('error', (e: NodeJS.ErrnoException) => { error ??= e.code ?? e.message; });
    });
    req.on('error', (e: NodeJS.ErrnoException) => { error ??= e.code ?? e.message; });
    req.on('close', () => {
      agent.destroy();
      resolve({ status, headers, text, written, error });
    });
    const piece = Buffer.alloc(64 * 1024, 'a');
    const write = () => {
      while (written < options.size) {
        const chunk = piece.subarray(0, Math.min(piece.length, options.size - written));
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', write);
          return;
        }
      }
      req.end();
    };
    write();
  });
}

/**
 * A client as Java's HttpURLConnection behaves: it writes the whole body (Content-Length or
 * chunked) and reads the answer only then. Resolves once the server has closed the connection
 * or, with keep-alive, once the whole answer is in.
 */
function javaLikeUpload(server: TestServer, tpp: TppCredentials, path: string, options: { size: number; contentType: string; chunked?: boolean }): Promise<{ status: number; head: string; body: string; error: string | undefined }> {
  return new Promise((resolve) => {
    const socket = connect({ host: 'localhost', port: Number(new URL(server.url).port), servername: 'localhost', ca: testPkiCa, cert: tpp.chainPem, key: tpp.keyPem });
    let received = Buffer.alloc(0);
    let error: string | undefined;
    const done = () => {
      const text = received.toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body, error });
    };
    socket.pause();
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const text = received.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const length = end < 0 ? undefined : Number(/\r\ncontent-length: (\d+)/i.exec(text.slice(0, end))?.[1]);
      if (length !== undefined && Buffer.byteLength(text.slice(end + 4)) >= length) {
        socket.end();
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => { error ??= e.code ?? e.message; });
    socket.on('close', done);
    socket.once('secureConnect', () => {
      const body = Buffer.alloc(options.size, 'a');
      socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${options.contentType}\r\n`
        + (options.chunked ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${options.size}\r\n\r\n`));
      const payload = options.chunked ? Buffer.concat([Buffer.from(`${options.size.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]) : body;
      // Only once everything is written does it read.
      socket.write(payload, () => socket.resume());
    });
  });
}

let testPkiCa: string;

const API_ENDPOINTS = [
  { method: 'POST', path: '/oauth2/register', contentType: 'application/json', limit: BODY_LIMITS.registration },
  { method: 'POST', path: '/oauth2/token', contentType: 'application/x-www-form-urlencoded', limit: BODY_LIMITS.form },
  { method: 'POST', path: '/oauth2/revoke', contentType: 'application/x-www-form-urlencoded', limit: BODY_LIMITS.form },
  { method: 'POST', path: '/oauth2/introspect', contentType: 'application/x-www-form-urlencoded', limit: BODY_LIMITS.form },
] as const;

function expectTooLarge(server: TestServer, method: string, path: string, answer: Upload, limit: number, where: string): void {
  expect(answer.error, `${where}: the client saw no error`).to.equal(undefined);
  expect(answer.status, `${where}: ${answer.text}`).to.equal(413);
  expect(JSON.parse(answer.text), where).to.deep.equal({
    error: 'invalid_request',
    error_description: `the request body is larger than this endpoint accepts (${limit / 1024} KiB)`,
  });
  expect(answer.headers['content-type'], where).to.equal('application/json; charset=utf-8');
  expect(answer.headers['cache-control'], where).to.equal('no-store');
  server.openApi.checkResponse(method, path, answer);
}

describe('request bodies over their endpoint\'s limit', function bodyLimits() {
  this.timeout(60_000);
  let server: TestServer;
  let tpp: TppCredentials;
  let managed: string;
  let clientId: string;

  before(async () => {
    server = await startServer();
    testPkiCa = (await testPki()).serverCa.certPem;
    tpp = await sandboxTpp({ roles: ['PSP_AI'], organization: 'Body Limits', authorisationNumber: '41300' });
    ({ path: managed, clientId } = await register(server, tpp, { redirect_uris: ['https://tpp.example/callback'], scope: 'aisp' }));
  });
  after(() => server?.close());

  it('a Node client that keeps uploading 5 MB with Content-Length receives the 413 JSON, on every API endpoint', async () => {
    for (const endpoint of [...API_ENDPOINTS, { method: 'PUT', path: managed, contentType: 'application/json', limit: BODY_LIMITS.registration }]) {
      const answer = await nodeUpload(server, tpp, endpoint.method, endpoint.path, { size: MB5, contentType: endpoint.contentType });
      expect(answer.written, `${endpoint.path}: the whole body was sent`).to.equal(MB5);
      expectTooLarge(server, endpoint.method, endpoint.path, answer, endpoint.limit, `${endpoint.method} ${endpoint.path}`);
    }
  });

  it('so does one that uploads 5 MB with chunked transfer encoding; past a few MB the connection is cut', async () => {
    for (const endpoint of API_ENDPOINTS) {
      const answer = await nodeUpload(server, tpp, endpoint.method, endpoint.path, { size: MB5, contentType: endpoint.contentType, chunked: true });
      expect(answer.written, `${endpoint.path}: the whole body was sent`).to.equal(MB5);
      expectTooLarge(server, endpoint.method, endpoint.path, answer, endpoint.limit, `chunked ${endpoint.path}`);
    }
    // The server reads a refused body for the client's sake, not without end.
    const size = DISCARD_LIMIT.bytes * 3;
    const endless = await nodeUpload(server, tpp, 'POST', '/oauth2/token', { size, contentType: 'application/x-www-form-urlencoded', chunked: true });
    expect(endless.written, 'the client could not send it all').to.be.below(size);
  });

  it('endpoints that read no body answer once a body sent to them is dropped: a client still uploading 5 MB receives the answer', async () => {
    for (const [method, path, status] of [
      ['GET', '/oauth2/.well-known/oauth-authorization-server', 200],
      ['POST', '/oauth2/authorize', 404],
      ['DELETE', '/oauth2/register/unknown-client', 401],
    ] as const) {
      for (const chunked of [false, true]) {
        const answer = await nodeUpload(server, tpp, method, path, { size: MB5, contentType: 'application/json', chunked });
        const where = `${method} ${path}${chunked ? ' (chunked)' : ''}`;
        expect(answer.error, `${where}: the client saw no error`).to.equal(undefined);
        expect(answer.written, `${where}: the whole body was sent`).to.equal(MB5);
        expect(answer.status, `${where}: ${answer.text}`).to.equal(status);
        server.openApi.checkResponse(method, path, answer);
      }
    }
  });

  it('a Java-like client that reads only once its 5 MB are written receives the 413 JSON, then a clean close', async () => {
    for (const chunked of [false, true]) {
      for (const endpoint of API_ENDPOINTS.slice(0, 2)) {
        const answer = await javaLikeUpload(server, tpp, endpoint.path, { size: MB5, contentType: endpoint.contentType, chunked });
        const where = `${chunked ? 'chunked' : 'Content-Length'} ${endpoint.path}`;
        expect(answer.error, `${where}: the client saw no error`).to.equal(undefined);
        expect(answer.status, `${where}: ${answer.head}`).to.equal(413);
        expect(JSON.parse(answer.body), where).to.deep.equal({
          error: 'invalid_request',
          error_description: `the request body is larger than this endpoint accepts (${endpoint.limit / 1024} KiB)`,
        });
      }
    }
  });

  it('decides from Content-Length alone: a body declared larger than the server would ever read is refused at once', async () => {
    const socket = connect({ host: 'localhost', port: Number(new URL(server.url).port), servername: 'localhost', ca: testPkiCa, cert: tpp.chainPem, key: tpp.keyPem });
    let text = '';
    socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    // Headers only: nothing of the body is sent, yet the answer comes and the connection ends.
    socket.write(`POST /oauth2/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${DISCARD_LIMIT.bytes + 1}\r\n\r\n`);
    await new Promise((resolve) => socket.once('close', resolve));
    const [head = '', body = ''] = text.split('\r\n\r\n');
    expect(head).to.match(/^HTTP\/1\.1 413 /);
    expect(head).to.match(/\r\nConnection: close\r\n/i);
    expect(head).to.match(/\r\nStrict-Transport-Security: max-age=31536000; includeSubDomains\r\n/i);
    expect(JSON.parse(body)).to.deep.equal({ error: 'invalid_request', error_description: 'the request body is larger than this endpoint accepts (8 KiB)' });
  });

  it('admits bodies within the limits: a 30 KB registration whose jwks carry x5c chains, sent whole or chunked; one byte over is refused', async () => {
    const pki = await testPki();
    const seal = await qsealc({ roles: ['PSP_AI'], organization: 'Body Limits', authorisationNumber: '41300' });
    const chain = [seal.der, pki.sandboxCa.der, pki.sandboxRoot.der].map((der) => der.toString('base64'));
    const base = jwkWithX5c(seal);
    const keys = Array.from({ length: 12 }, (_, index) => ({ ...base, kid: `qseal-${index}`, x5c: chain }));
    const metadata = { ...deployedTppBody(base), jwks: { keys } };
    const big = JSON.stringify(metadata);
    expect(Buffer.byteLength(big)).to.be.within(20_000, 40_000);

    const whole = await server.request(tpp).post('/oauth2/register').set('Content-Type', 'application/json').send(big);
    expect(whole.status, whole.text).to.equal(201);
    const chunked = await chunkedRegistration(server, tpp, big);
    expect(chunked.status, chunked.text).to.equal(201);

    /** The same metadata, its client_name padded to make the body `bytes` long. */
    const sized = (bytes: number) => {
      const empty = JSON.stringify({ ...metadata, client_name: '' });
      return JSON.stringify({ ...metadata, client_name: 'x'.repeat(bytes - Buffer.byteLength(empty)) });
    };
    const over = await server.request(tpp).post('/oauth2/register').set('Content-Type', 'application/json').send(sized(BODY_LIMITS.registration + 1));
    expect(over.status, over.text).to.equal(413);
    const limit = await server.request(tpp).post('/oauth2/register').set('Content-Type', 'application/json').send(sized(BODY_LIMITS.registration));
    // Read, not refused for its size (a client_name this long is the registration policy's to judge).
    expect(limit.status, limit.text).not.to.equal(413);

    // Chunked bodies within the limit are read as the same bytes with a Content-Length would be:
    // empty (its last chunk with the headers, or later), or broken.
    const port = Number(new URL(server.url).port);
    for (const [path, type] of [['/oauth2/register', 'application/json'], ['/oauth2/token', 'application/x-www-form-urlencoded']] as const) {
      const head = `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${type}\r\nConnection: close\r\n`;
      const plain = await rawExchange(port, tpp, [`${head}Content-Length: 0\r\n\r\n`]);
      expect(plain).to.match(/^HTTP\/1\.1 400 /);
      const [, plainBody] = plain.split('\r\n\r\n');
      for (const pieces of [[`${head}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`], [`${head}Transfer-Encoding: chunked\r\n\r\n`, '0\r\n\r\n']]) {
        const answer = await rawExchange(port, tpp, pieces);
        expect(answer, `${path} ${JSON.stringify(pieces)}`).to.match(/^HTTP\/1\.1 400 /);
        expect(answer.split('\r\n\r\n')[1], `${path} ${JSON.stringify(pieces)}`).to.equal(plainBody);
      }
      const broken = await rawExchange(port, tpp, [`${head}Transfer-Encoding: chunked\r\n\r\nzz\r\n`]);
      expect(broken).to.match(/^HTTP\/1\.1 400 /);
      expect(broken).not.to.match(/\bat [\w.<>]+ \(/);
    }
  });

  it('bounds token and revocation forms at 8 KiB, whole or chunked', async () => {
    const prefix = `grant_type=client_credentials&scope=pisp&client_id=${clientId}&x=`;
    const form = (size: number) => `${prefix}${'a'.repeat(size - prefix.length)}`;
    const within = await server.request(tpp).post('/oauth2/token').type('form').send(form(BODY_LIMITS.form));
    expect(within.status, within.text).not.to.equal(413);
    const over = await server.request(tpp).post('/oauth2/token').type('form').send(form(BODY_LIMITS.form + 1));
    expect(over.status, over.text).to.equal(413);
    expect(over.body.error).to.equal('invalid_request');
    const revoke = await nodeUpload(server, tpp, 'POST', '/oauth2/revoke', { size: BODY_LIMITS.form + 1, contentType: 'application/x-www-form-urlencoded', chunked: true });
    expectTooLarge(server, 'POST', '/oauth2/revoke', revoke, BODY_LIMITS.form, 'chunked revoke');
  });

  it('refuses before authenticating: no certificate, still 413, and the connection serves the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: testPkiCa });
    try {
      const send = (body: string) => new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const req = request(`${server.url}/oauth2/token`, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
          let text = '';
          res.on('data', (chunk) => { text += chunk; });
          res.on('end', () => {
            server.openApi.checkResponse('POST', '/oauth2/token', { status: res.statusCode ?? 0, headers: res.headers, text });
            resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket });
          });
        });
        req.on('error', reject);
        req.end(body);
      });
      expect((await send('a'.repeat(100_000))).status).to.equal(413);
      const next = await send('grant_type=client_credentials');
      expect(next.status).to.equal(401);
      expect(next.reused, 'the same connection').to.equal(true);
    } finally {
      agent.destroy();
    }
  });

});

/** A registration sent with chunked transfer encoding, in two pieces. */
function chunkedRegistration(server: TestServer, tpp: TppCredentials, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const agent = new Agent({ keepAlive: false, maxCachedSessions: 0 });
    const req = request(`${server.url}/oauth2/register`, { method: 'POST', agent, ca: testPkiCa, cert: tpp.chainPem, key: tpp.keyPem, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => {
        agent.destroy();
        server.openApi.checkResponse('POST', '/oauth2/register', { status: res.statusCode ?? 0, headers: res.headers, text });
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    setImmediate(() => req.end(body.slice(half)));
  });
}

/** Sends `pieces` over one mutual-TLS connection, each once the previous one is written; returns all the server sent until it closed. */
async function rawExchange(port: number, tpp: TppCredentials, pieces: readonly string[]): Promise<string> {
  const socket = connect({ host: 'localhost', port, servername: 'localhost', ca: testPkiCa, cert: tpp.chainPem, key: tpp.keyPem });
  let text = '';
  socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
  socket.on('error', () => undefined);
  const closed = new Promise((resolve) => socket.once('close', resolve));
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  for (const piece of pieces) await new Promise((resolve) => socket.write(piece, resolve));
  await closed;
  return text;
}
