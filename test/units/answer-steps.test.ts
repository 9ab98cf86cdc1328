/**
 * The answer steps run in order, each waited for when it answers a promise or any other thenable
 * (a bank's own storage may answer with a promise library's), and a step answering 'final' ends them.
 */
import { expect } from 'chai';
import type { KoaContextWithOIDC } from 'oidc-provider';

import type { RequestState } from '../../lib/provider/request-state.js';
import { runSteps } from '../../lib/provider/steps/index.js';
import type { AnswerStep } from '../../lib/provider/steps/step.js';

/** A thenable that is not a native promise, settling on a later turn of the event loop. */
function laterThenable<T>(value: T): PromiseLike<T> {
  return {
    then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
      return new Promise<T>((resolve) => setTimeout(() => resolve(value), 5)).then(onFulfilled, onRejected);
    },
  };
}

const ctx = {} as KoaContextWithOIDC;
const state = {} as RequestState;

describe('answer steps', () => {
  it('waits for a step that answers a thenable other than a native promise before the next step', async () => {
    const order: string[] = [];
    const steps: AnswerStep[] = [
      () => laterThenable(undefined).then(() => { order.push('first done'); }) as unknown as Promise<void>,
      () => { order.push('second'); },
    ];
    const running = runSteps(steps, ctx, state);
    expect(running, 'a promise while a step has something to wait for').to.be.instanceOf(Promise);
    order.push('returned');
    await running;
    expect(order).to.deep.equal(['returned', 'first done', 'second']);
  });

  it('stops at a step whose thenable answers final, and runs nothing after it', async () => {
    const ran: string[] = [];
    const steps: AnswerStep[] = [
      () => laterThenable('final' as const) as unknown as Promise<'final'>,
      () => { ran.push('after'); },
    ];
    await runSteps(steps, ctx, state);
    expect(ran).to.deep.equal([]);
  });

  it('goes on without a promise when no step has anything to wait for', () => {
    const ran: string[] = [];
    const steps: AnswerStep[] = [() => { ran.push('one'); }, () => { ran.push('two'); return 'final'; }, () => { ran.push('three'); }];
    expect(runSteps(steps, ctx, state)).to.equal(undefined);
    expect(ran).to.deep.equal(['one', 'two']);
  });
});
