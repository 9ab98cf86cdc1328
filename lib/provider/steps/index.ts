/**
 * What the server changes in oidc-provider's answers, in the order it changes it: read this list
 * to know everything an answer goes through between oidc-provider and the client.
 */
import type { Logger } from '../../logger.js';
import type { Storage } from '../../storage.js';
import { removeDeletedClient } from './client-deletion.js';
import { describeServer, type MetadataFacts } from './discovery.js';
import { refuseMistypedMetadata } from './mistyped-metadata.js';
import { answerNotFound } from './not-found.js';
import { shapeRegistrationAnswer } from './registration-answer.js';
import { auditRevocation } from './revocation.js';
import { endBrowserSession } from './single-use-session.js';
import type { AnswerStep } from './step.js';
import { reportStorageUnavailable } from './storage-unavailable.js';
import { restateTokenAnswer } from './token-answer.js';

export { returnLentRegistrationToken } from './lent-registration-token.js';
export type { AnswerStep } from './step.js';

export interface StepParts {
  readonly storage: Storage;
  readonly logger: Logger;
  /** Counts a revocation by its client (metrics). */
  recordRevocation(kind: 'access_token' | 'refresh_token'): void;
  readonly mountPath: string;
  readonly metadata: MetadataFacts;
}

/** The steps every answer goes through once oidc-provider made it (the lent token is returned first, always). */
export function answerSteps(parts: StepParts): readonly AnswerStep[] {
  return [
    shapeRegistrationAnswer,
    reportStorageUnavailable,
    refuseMistypedMetadata,
    endBrowserSession,
    restateTokenAnswer,
    auditRevocation(parts.logger, parts.recordRevocation),
    removeDeletedClient(parts.storage),
    describeServer(parts.metadata),
    answerNotFound(parts.mountPath),
  ];
}

/**
 * Runs `steps` in order (from the one at `from`) until one answers `'final'`; only a step that
 * answers a promise is waited for. A promise comes back only then: when no step has anything to
 * wait for (most answers), the request goes on without a turn of the microtask queue.
 */
/** Whether `value` is a promise or another thenable, to be waited for. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

export function runSteps(steps: readonly AnswerStep[], ctx: Parameters<AnswerStep>[0], state: Parameters<AnswerStep>[1], from = 0): Promise<void> | undefined {
  for (let index = from; index < steps.length; index += 1) {
    const outcome = (steps[index] as AnswerStep)(ctx, state);
    // Any thenable, not only a native promise: a bank's own storage may answer with another kind.
    if (isThenable(outcome)) return Promise.resolve(outcome).then((awaited) => (awaited === 'final' ? undefined : runSteps(steps, ctx, state, index + 1)));
    if (outcome === 'final') return undefined;
  }
  return undefined;
}
