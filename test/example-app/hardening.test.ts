/**
 * The example app as a bank runs it: every failure a JSON error (no stack trace, no body in the
 * log), the audit trail on standard error, and an HTTPS server that bounds how long a client may
 * take and how many may be connected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';

import { expect } from 'chai';

import { loadConfig } from '../../example-app/config.js';
import { startExampleApp, startupFailure, type ExampleApp } from './helpers.js';

const MARKER = 'hunter2-marker-of-a-refused-body';

/** Resolves once `socket` is closed, with the milliseconds it took; fails after `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server kept the connection open for more than ${ms} ms`));
    }, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
  });
}

/** A TLS connection to the app, resolved once the handshake is done (or rejected if refused). */
function tlsConnection(example: ExampleApp): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: example.port, servername: 'localhost', ca: example.ca });
    socket.on('data', () => undefined);
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the handshake completed')));
  });
}

async function configRefusal(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dev-pki-limits-'));
  try {
    await loadConfig({ DEV_PKI_DIR: dir, ...env });
  } catch (error) {
    return (error as Error).message;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`${JSON.stringify(env)} was accepted`);
}

describe('the example app, hardened', function hardening() {
  this.timeout(90_000);

  describe('errors and logs', () => {
    let example: ExampleApp;
    before(async () => { example = await startExampleApp(); });
    after(() => example?.stop());

    it('answers a bad JSON body on any path with a JSON error: no stack trace, the body neither echoed nor logged', async () => {
      for (const path of ['/anything', '/', '/api/echo', '/api/payments', '/api/health']) {
        const res = await example.request('post', path).set('Content-Type', 'application/json').send(`{"password":"${MARKER}" oops`);
        expect(res.status, `${path}: ${res.text}`).to.equal(400);
        expect(res.headers['content-type'], path).to.match(/^application\/json/);
        expect(res.body, path).to.deep.equal({ error: 'invalid_request', error_description: 'the request body is not valid JSON' });
        expect(res.text, path).not.to.contain(MARKER);
      }
      const large = await example.request('post', '/api/echo').set('Content-Type', 'application/json').send(JSON.stringify({ x: 'a'.repeat(200_000) }));
      expect(large.status).to.equal(413);
      expect(large.body).to.deep.equal({ error: 'invalid_request', error_description: 'the request body is too large' });
      const missing = await example.request('get', '/nothing/here');
      expect(missing.status).to.equal(404);
      expect(missing.body).to.deep.equal({ error: 'not_found', error_description: 'there is no such resource' });

      // An audit line written after those requests: whatever they logged is in the output by then.
      const { cert, key } = await example.tppCert('PSP_AI', 'Hardened');
      const registered = await example.request('post', '/oauth2/register').cert(cert).key(key)
        .send({ redirect_uris: ['https://tpp.example/callback'], client_name: 'Hardened' });
      expect(registered.status, registered.text).to.equal(201);
      const output = await example.waitForOutput('"event":"registration.created"');
      expect(output).not.to.contain(MARKER);
      expect(output).not.to.contain('SyntaxError');
      expect(output).not.to.match(/\n\s+at [\w.<>]+ \(/);
    });

    it('writes the audit trail as JSON lines on standard error by default, and says so at start-up', async () => {
      expect(example.startup).to.contain('log:      JSON lines on standard error, info and up (the audit trail)');
      const output = await example.waitForOutput('"event":"registration.created"');
      const line = output.split('\n').find((candidate) => candidate.includes('"event":"registration.created"'))!;
      expect(JSON.parse(line)).to.include({ level: 'info', event: 'registration.created', organization: 'PSDFR-NCA-HARDENED', environment: 'sandbox', msg: 'client registered' });
    });
  });

  describe('the HTTPS server\'s limits', () => {
    let example: ExampleApp;
    before(async () => {
      example = await startExampleApp({
        TLS_HANDSHAKE_TIMEOUT_MS: '500',
        HEADERS_TIMEOUT_MS: '1000',
        REQUEST_TIMEOUT_MS: '1500',
        KEEP_ALIVE_TIMEOUT_MS: '500',
        MAX_CONNECTIONS: '4',
      });
    });
    after(() => example?.stop());

    it('prints them at start-up', () => {
      expect(example.startup).to.contain('limits:   TLS handshake 500 ms, headers 1000 ms, request 1500 ms, keep-alive 500 ms, 4 connections');
    });

    it('closes a connection that does not complete its TLS handshake (TLS_HANDSHAKE_TIMEOUT_MS)', async () => {
      const socket = tcpConnect(example.port, '127.0.0.1');
      socket.on('error', () => undefined);
      const ms = await closedWithin(socket, 10_000);
      expect(ms).to.be.below(5000);
    });

    it('answers 408 to a client that does not finish its headers (HEADERS_TIMEOUT_MS)', async () => {
      const socket = await tlsConnection(example);
      let text = '';
      socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      socket.write('GET /api/health HTTP/1.1\r\nHost: localhost\r\n');
      await closedWithin(socket, 10_000);
      expect(text).to.match(/^HTTP\/1\.1 408 /);
    });

    it('answers 408 to a client that does not finish its body (REQUEST_TIMEOUT_MS)', async () => {
      const socket = await tlsConnection(example);
      let text = '';
      socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      socket.write('POST /api/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
      await closedWithin(socket, 10_000);
      expect(text).to.match(/^HTTP\/1\.1 408 /);
    });

    it('closes an idle kept-alive connection (KEEP_ALIVE_TIMEOUT_MS)', async () => {
      const socket = await tlsConnection(example);
      let text = '';
      socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      socket.write('GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n');
      const ms = await closedWithin(socket, 10_000);
      expect(text).to.match(/^HTTP\/1\.1 200 /);
      expect(ms).to.be.below(4000);
    });

    it('holds at most MAX_CONNECTIONS connections: more are closed as they arrive, and one freed lets one in', async () => {
      const held: TLSSocket[] = [];
      let refused: unknown;
      try {
        for (let attempt = 0; attempt < 10 && !refused; attempt += 1) {
          try {
            held.push(await tlsConnection(example));
          } catch (error) {
            refused = error;
          }
        }
        expect(refused, 'a connection beyond the limit').to.be.an('error');
        // Connections of earlier tests may still be closing: at most the limit were held.
        expect(held.length).to.be.within(1, 4);
        const freed = held.pop()!;
        const closed = closedWithin(freed, 5000);
        freed.end();
        await closed;
        held.push(await tlsConnection(example));
      } finally {
        for (const socket of held) socket.destroy();
      }
    });

    it('refuses values that are not whole numbers in range, naming the variable', async () => {
      const cases: [NodeJS.ProcessEnv, string][] = [
        [{ TLS_HANDSHAKE_TIMEOUT_MS: 'ten' }, 'TLS_HANDSHAKE_TIMEOUT_MS=ten: must be a whole number from 100 to 120000'],
        [{ HEADERS_TIMEOUT_MS: '50' }, 'HEADERS_TIMEOUT_MS=50: must be a whole number from 100 to 300000'],
        [{ REQUEST_TIMEOUT_MS: '1.5' }, 'REQUEST_TIMEOUT_MS=1.5: must be a whole number'],
        [{ KEEP_ALIVE_TIMEOUT_MS: '-1' }, 'KEEP_ALIVE_TIMEOUT_MS=-1: must be a whole number'],
        [{ MAX_CONNECTIONS: '0' }, 'MAX_CONNECTIONS=0: must be a whole number from 1 to 1000000'],
        [{ HEADERS_TIMEOUT_MS: '40000', REQUEST_TIMEOUT_MS: '30000' }, 'HEADERS_TIMEOUT_MS=40000 must not exceed REQUEST_TIMEOUT_MS=30000'],
      ];
      for (const [env, message] of cases) expect(await configRefusal(env), JSON.stringify(env)).to.contain(message);
      const { code, output } = await startupFailure({ MAX_CONNECTIONS: 'many' });
      expect(code).to.equal(1);
      expect(output).to.contain('The example app cannot start: MAX_CONNECTIONS=many: must be a whole number from 1 to 1000000');
    });

    it('defaults to limits that fit TPPs and PSU browsers', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dev-pki-limits-'));
      try {
        const config = await loadConfig({ DEV_PKI_DIR: dir });
        expect(config.server).to.deep.equal({ handshakeTimeout: 10_000, headersTimeout: 20_000, requestTimeout: 30_000, keepAliveTimeout: 5000, maxConnections: 1000 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
