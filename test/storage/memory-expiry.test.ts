/**
 * The expiry queue of MemoryStorage: keys by second of expiry, taken out when due, visiting only
 * what is due.
 */
import { expect } from 'chai';

import { ExpiryQueue } from '../../adapters/memory/expiry.js';

describe('ExpiryQueue', () => {
  it('takes out only the keys due, oldest second first, each once', () => {
    const queue = new ExpiryQueue();
    for (let i = 0; i < 10_000; i += 1) queue.add(`later-${i}`, 5_000_000 + i * 1000);
    queue.add('c', 3500);
    queue.add('a', 1000);
    queue.add('b', 2001);
    queue.add('never', Infinity);
    expect(queue.size).to.equal(10_003);
    expect(queue.takeDue(999)).to.deep.equal([]);
    expect(queue.takeDue(2999)).to.deep.equal(['a']);
    expect(queue.takeDue(4000)).to.deep.equal(['b', 'c']);
    expect(queue.takeDue(4000)).to.deep.equal([]);
    expect(queue.size).to.equal(10_000);
    expect(queue.takeDue(5_000_000 + 4999)).to.deep.equal(['later-0', 'later-1', 'later-2', 'later-3', 'later-4']);
  });

  it('forgets a removed key, and takes a second out once even when emptied and filled again', () => {
    const queue = new ExpiryQueue();
    queue.add('a', 1000);
    queue.remove('a', 1000);
    queue.add('b', 1000);
    queue.remove('never', Infinity);
    expect(queue.takeDue(1000)).to.deep.equal(['b']);
    queue.add('c', 1000);
    expect(queue.takeDue(2000)).to.deep.equal(['c']);
    expect(queue.size).to.equal(0);
  });
});
