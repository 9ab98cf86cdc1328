/**
 * `x-fapi-interaction-id` (FAPI 1.0 Part 1 §6.2.1, 6.2.2): a TPP may send an RFC 4122 UUID naming
 * the interaction; the server answers with the same value, or with one it generates when none
 * came, and logs it with every line about the request, so that the TPP's, the bank's and this
 * server's logs of one request can be found together.
 *
 * A value that is not a UUID (another format, several values, too long) is not echoed and not
 * logged, since it is whatever a client chose to send: a new UUID is generated and answered
 * instead, and the request is marked `interactionIdReplaced` in the log, so that a TPP asking why
 * its id did not come back can be told.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Logger } from '../logger.js';

export const INTERACTION_ID_HEADER = 'x-fapi-interaction-id';

/** The RFC 4122 (RFC 9562) textual form: 8-4-4-4-12 hex digits, version 1 to 8, variant 10xx. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Whether `value` is a UUID in the RFC 4122 form (either case). */
export function isInteractionId(value: unknown): value is string {
  return typeof value === 'string' && value.length === 36 && UUID.test(value);
}

export interface InteractionId {
  readonly id: string;
  /** `tpp`: the TPP's own, echoed; `generated`: none came, or the one that came was not a UUID. */
  readonly source: 'tpp' | 'generated';
  /** True when the TPP sent a value that is not a UUID (replaced by a generated one). */
  readonly replaced: boolean;
}

/**
 * The interaction id of a request from its `x-fapi-interaction-id` header value (Node gives
 * several headers of one name as an array, or joined with `, `: neither is a UUID).
 */
export function interactionIdFrom(header: string | readonly string[] | undefined, generate: () => string = randomUUID): InteractionId {
  if (header === undefined || header === '') return { id: generate(), source: 'generated', replaced: false };
  if (isInteractionId(header)) return { id: header, source: 'tpp', replaced: false };
  return { id: generate(), source: 'generated', replaced: true };
}

const current = new AsyncLocalStorage<InteractionId>();
/**
 * Where a request's id is kept: a property of the request under a symbol of this module's, not a
 * WeakMap, whose every entry for a new request costs several times as much to write.
 */
const INTERACTION = Symbol('interaction id');
type Carrier = { [INTERACTION]?: InteractionId };

/** The interaction id of the request being handled (in its asynchronous context), if any. */
export function currentInteractionId(): InteractionId | undefined {
  return current.getStore();
}

/** Runs `work` in the context of `interaction`, for requests that do not pass the middleware. */
export function runWithInteractionId<T>(interaction: InteractionId, work: () => T): T {
  return current.run(interaction, work);
}

/** The interaction id given to `req` by {@link interactionIdMiddleware}, if any. */
export function interactionIdOf(req: object): InteractionId | undefined {
  return (req as Carrier)[INTERACTION];
}

/**
 * Middleware for Node and Express, first in line: reads the TPP's id or generates one, sets it on
 * the answer, remembers it for `req` ({@link interactionIdOf}), and runs `next` (when given) in
 * the request's context ({@link currentInteractionId}, {@link withInteractionId}). Returns the id.
 */
export function interactionIdMiddleware(options: { readonly generate?: () => string } = {}) {
  return (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): string => {
    const carrier = req as IncomingMessage & Carrier;
    let interaction = carrier[INTERACTION];
    if (!interaction) {
      interaction = interactionIdFrom(req.headers[INTERACTION_ID_HEADER], options.generate);
      carrier[INTERACTION] = interaction;
    }
    if (!res.headersSent) res.setHeader(INTERACTION_ID_HEADER, interaction.id);
    // `run` calls `next` without arguments: it goes on as `next()` does.
    if (next) current.run(interaction, next);
    return interaction.id;
  };
}

/** The log fields of an interaction id: `interactionId`, and `interactionIdReplaced` when it was. */
export function interactionIdFields(interaction: InteractionId | undefined): { interactionId?: string; interactionIdReplaced?: true } {
  if (!interaction) return {};
  return { interactionId: interaction.id, ...(interaction.replaced ? { interactionIdReplaced: true as const } : {}) };
}

/**
 * `logger`, adding the interaction id of the request being handled to each entry written in its
 * context (audit lines and error logs alike); entries outside a request are written as they are.
 */
export function withInteractionId(logger: Logger): Logger {
  // The fields of interactionIdFields first, in one object made per entry.
  const add = (fields: object): object => {
    const interaction = current.getStore();
    if (!interaction) return fields;
    return interaction.replaced ? { interactionId: interaction.id, interactionIdReplaced: true, ...fields } : { interactionId: interaction.id, ...fields };
  };
  return {
    info: (fields, message) => logger.info(add(fields), message),
    warn: (fields, message) => logger.warn(add(fields), message),
    error: (fields, message) => logger.error(add(fields), message),
  };
}
