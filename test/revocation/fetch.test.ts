import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { expect } from 'chai';

import { MemoryStorage } from '../../adapters/memory.js';
import { createAuthority, issueTppCertificate } from '../../tools/dev-pki/pki.js';
import { RevocationChecker, type HttpClient } from '../../lib/certificates/revocation/index.js';
import { HttpFailure, nodeHttpClient, rememberingOutages, type HttpRequest } from '../../lib/certificates/revocation/fetch.js';
import { ManualClock, pathOf, RecordingLogger } from './helpers.js';

const LIMITS = { timeout: 300, maxBytes: 1024 };

async function failure(request: HttpRequest, limits = LIMITS): Promise<HttpFailure> {
  try {
    await nodeHttpClient(request, limits);
  } catch (error) {
    expect(error).to.be.instanceOf(HttpFailure);
    return error as HttpFailure;
  }
  throw new Error('expected the request to fail');
}

describe('revocation: the HTTP of status lookups', function () {
  let server: Server;
  let base: string;
  let hits = 0;

  before(async function () {
    server = createServer((req, res) => {
      hits += 1;
      const path = req.url ?? '/';
      if (path === '/small') return void res.end(Buffer.alloc(100, 1));
      if (path === '/large') return void res.end(Buffer.alloc(2048, 1));
      if (path === '/large-chunked') {
        res.write(Buffer.alloc(600, 1));
        res.write(Buffer.alloc(600, 1));
        return void res.end();
      }
      if (path === '/redirect') return void res.writeHead(302, { location: '/small' }).end();
      if (path === '/redirect-ftp') return void res.writeHead(302, { location: 'ftp://127.0.0.1/ca.crl' }).end();
      if (path === '/redirect-loop') return void res.writeHead(302, { location: '/redirect-loop' }).end();
      if (path === '/redirect-elsewhere') return void res.writeHead(302, { location: `http://localhost:${(server.address() as AddressInfo).port}/small` }).end();
      if (path === '/slow') return; // never answers
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('returns the body of a 200 answer', async function () {
    const answer = await nodeHttpClient({ url: `${base}/small`, method: 'GET', accept: 'application/pkix-crl' }, LIMITS);
    expect(answer.status).to.equal(200);
    expect(answer.body).to.have.length(100);
  });

  it('refuses answers larger than the bound, announced or not', async function () {
    expect(await failure({ url: `${base}/large`, method: 'GET', accept: '*/*' })).to.include({ kind: 'too_large', message: 'announced 2048 bytes, more than the 1024 accepted' });
    expect(await failure({ url: `${base}/large-chunked`, method: 'GET', accept: '*/*' })).to.include({ kind: 'too_large' });
  });

  it('follows a GET redirect to http, not one to another scheme, nor forever, nor a POST one', async function () {
    expect((await nodeHttpClient({ url: `${base}/redirect`, method: 'GET', accept: '*/*' }, LIMITS)).body).to.have.length(100);
    expect(await failure({ url: `${base}/redirect-ftp`, method: 'GET', accept: '*/*' })).to.include({ kind: 'url', message: 'redirected to a URL that is not http or https' });
    expect(await failure({ url: `${base}/redirect-loop`, method: 'GET', accept: '*/*' })).to.include({ kind: 'status' });
    // Another host (here the same server by another name) is never reached through a redirect.
    hits = 0;
    expect(await failure({ url: `${base}/redirect-elsewhere`, method: 'GET', accept: '*/*' })).to.include({ kind: 'status', message: 'answered HTTP 302 (a redirect to another host, not followed)' });
    expect(hits).to.equal(1);
    expect(await failure({ url: `${base}/redirect`, method: 'POST', body: new Uint8Array(1), accept: '*/*' })).to.include({ kind: 'status', message: 'answered HTTP 302 (a redirect, not followed)' });
  });

  it('refuses URLs that are not http or https, without a request', async function () {
    for (const url of ['ldap://127.0.0.1/cn=CA', 'file:///etc/passwd', 'not a url']) {
      expect(await failure({ url, method: 'GET', accept: '*/*' })).to.include({ kind: 'url', message: 'is not an http or https URL' });
    }
  });

  it('gives up after the timeout and says an HTTP error status', async function () {
    const started = performance.now();
    expect(await failure({ url: `${base}/slow`, method: 'GET', accept: '*/*' })).to.include({ kind: 'timeout', message: 'did not answer within 300 ms' });
    expect(performance.now() - started).to.be.within(290, 900);
    expect(await failure({ url: `${base}/missing`, method: 'GET', accept: '*/*' })).to.include({ kind: 'status', message: 'answered HTTP 404' });
  });

  it('remembers for the given time a URL that did not answer, or answered an error', async function () {
    let time = 0;
    const http = rememberingOutages(nodeHttpClient, 10_000, () => time);
    const request = (path: string): HttpRequest => ({ url: `${base}${path}`, method: 'GET', accept: '*/*' });
    hits = 0;
    for (let i = 0; i < 3; i += 1) await http(request('/slow'), LIMITS).catch(() => undefined);
    expect(hits).to.equal(1);
    // A server answering errors slowly would otherwise cost a wait per certificate.
    for (let i = 0; i < 2; i += 1) await http(request('/missing'), LIMITS).catch(() => undefined);
    expect(hits).to.equal(2);
    time = 10_001;
    await http(request('/slow'), { ...LIMITS, timeout: 50 }).catch(() => undefined);
    await http(request('/missing'), LIMITS).catch(() => undefined);
    expect(hits).to.equal(4);
  });
});

describe('revocation: an injected HTTP client', function () {
  async function statusWith(fetch: HttpClient) {
    const authority = await createAuthority('Injected QTSP');
    const leaf = await issueTppCertificate(authority, { ocspUrl: 'http://ocsp.qtsp.example/', crlUrl: 'http://crl.qtsp.example/ca.crl' });
    const logger = new RecordingLogger();
    const checker = new RevocationChecker(new MemoryStorage(), {}, { now: new ManualClock().now, logger, fetch });
    return { status: await checker.checkPath(pathOf(leaf, authority)), logger };
  }

  it('is used for every request; what it returns is checked like any answer', async function () {
    const seen: HttpRequest[] = [];
    const { status } = await statusWith(async (request) => {
      seen.push(request);
      return { status: 200, body: Buffer.from('not DER') };
    });
    expect(seen.map((request) => [request.method, request.url, request.contentType])).to.deep.equal([
      ['POST', 'http://ocsp.qtsp.example/', 'application/ocsp-request'],
      ['GET', 'http://crl.qtsp.example/ca.crl', undefined],
    ]);
    expect(status).to.include({
      status: 'unknown',
      description: 'the OCSP response from http://ocsp.qtsp.example/ cannot be read; the CRL http://crl.qtsp.example/ca.crl is not a readable CRL',
    });
  });

  it('a client that fails unexpectedly leaves the status unknown and is logged', async function () {
    const { status, logger } = await statusWith(async () => {
      throw new TypeError('boom');
    });
    expect(status).to.include({ status: 'unknown', description: 'the status lookup failed' });
    expect(logger.events('revocation.lookup_failed')).to.have.length(1);
  });
});
