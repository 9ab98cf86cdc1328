/**
 * Errors as log fields: type, message, code, status, causes (depth-limited, cycle-safe), and
 * nothing that looks like a secret.
 */
import { expect } from 'chai';
import fc from 'fast-check';

import { StorageUnavailableError } from '../../lib/errors.js';
import { errorForLog, errorReplacer } from '../../lib/observability/index.js';

describe('observability: errors for logs', () => {
  it('writes what JSON.stringify loses: type, message, code, status and the cause chain', () => {
    const socket = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', port: 6379 });
    const error = new StorageUnavailableError('the token store failed', { cause: socket });
    expect(JSON.parse(JSON.stringify({ err: socket }))).to.deep.equal({ err: { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', port: 6379 } });
    const logged = errorForLog(error);
    expect(logged).to.include({ type: 'StorageUnavailableError', status: 503 });
    expect(logged.message).to.be.a('string');
    expect(logged.stack).to.match(/StorageUnavailableError/);
    expect(logged.cause).to.include({ type: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:6379', code: 'ECONNREFUSED' });
    expect(logged.cause!.fields).to.deep.equal({ errno: -111, syscall: 'connect', port: 6379 });
    const line = JSON.parse(JSON.stringify({ err: error }, errorReplacer)) as { err: { cause: { code: string } } };
    expect(line.err.cause.code).to.equal('ECONNREFUSED');
  });

  it('names the class when the error does not set a name', () => {
    class StoreTimeout extends Error {}
    expect(errorForLog(new StoreTimeout('late')).type).to.equal('StoreTimeout');
    expect(errorForLog(new RangeError('x')).type).to.equal('RangeError');
  });

  it('follows causes to a depth, and stops at a cycle', () => {
    let deep: Error = new Error('root');
    for (let i = 0; i < 10; i += 1) deep = new Error(`level ${i}`, { cause: deep });
    let logged = errorForLog(deep, { depth: 3 });
    let levels = 0;
    while (logged.cause) {
      logged = logged.cause;
      levels += 1;
    }
    expect(levels).to.equal(3);
    expect(logged.omitted).to.equal('cause (depth)');

    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    const cyclic = errorForLog(a);
    expect(cyclic.cause!.message).to.equal('b');
    expect(cyclic.cause!.omitted).to.equal('cause (a cycle)');
    expect(() => JSON.stringify(cyclic)).not.to.throw();
  });

  it("writes an AggregateError's errors, and what was thrown that is not an Error", () => {
    const logged = errorForLog(new AggregateError([new Error('node 1 down'), 'node 2 down', new TypeError('x')], 'cluster'));
    expect(logged.errors!.map((each) => `${each.type}: ${each.message}`)).to.deep.equal(['Error: node 1 down', 'string: node 2 down', 'TypeError: x']);
    expect(errorForLog('plain')).to.deep.equal({ type: 'string', message: 'plain' });
    expect(errorForLog(null)).to.deep.equal({ type: 'null', message: 'null' });
    expect(errorForLog({ token: 'abc' })).to.deep.equal({ type: 'object', message: 'a non-Error object' });
  });

  it('never writes fields that look like secrets, or what carries a request', () => {
    const error = Object.assign(new Error('refused'), {
      accessToken: 'at-123', client_secret: 's3cr3t', password: 'pw', Authorization: 'Basic eHg6eXk=', cookie: 'sid=1',
      privateKey: '-----BEGIN', refresh_token: 'rt', body: 'client_secret=s3cr3t', headers: { authorization: 'Bearer x' },
      config: { auth: 'x' }, reason: 'kept',
    });
    const written = JSON.stringify(errorForLog(error));
    for (const secret of ['at-123', 's3cr3t', '"pw"', 'eHg6eXk=', 'sid=1', 'BEGIN', '"rt"', 'Bearer']) expect(written).not.to.include(secret);
    expect(errorForLog(error).fields).to.deep.equal({ reason: 'kept' });
  });

  it('redacts tokens in messages and stacks', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwc3UifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const opaque = 'Zx8v0zYvA3kq1Jr8mXcW2b9Lr0pQy7tE5sN4uH6gF2d';
    const logged = errorForLog(new Error(`token ${jwt} or ${opaque} refused; Authorization: Bearer abc.def`));
    expect(JSON.stringify(logged)).not.to.match(/eyJhbGci|Zx8v0zYvA3kq|abc\.def/);
    expect(logged.message).to.equal('token [redacted] or [redacted] refused; Authorization: [redacted]');
  });

  it('never throws, whatever the error holds', () => {
    fc.assert(fc.property(fc.anything(), fc.string(), (value, message) => {
      const error = Object.assign(new Error(message), typeof value === 'object' && value !== null ? value : { value });
      const hostile = new Error('getter');
      Object.defineProperty(hostile, 'code', { get: () => { throw new Error('boom'); }, enumerable: true });
      for (const thrown of [value, error, hostile, new Error('x', { cause: value })]) {
        expect(() => JSON.stringify(errorForLog(thrown))).not.to.throw();
      }
    }), { numRuns: 200 });
  });
});
