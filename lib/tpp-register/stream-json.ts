/**
 * The entities of a register file, one at a time, from a stream of JSON text: the tokens of
 * stream-json's parser are assembled into an object only for each object that is an element of an
 * array (`[entity, …]`, or the EBA's `[[…], [entity, …]]`), so that memory holds one entity, never
 * the file. Objects elsewhere (a metadata object of the file) are skipped.
 */
import { getManyValues, isMany, none } from 'stream-chain/core';
import { jsonParser } from 'stream-json/parser.js';

/** A JSON object read from the register, without prototype: its keys are data. */
export type JsonObject = Record<string, unknown>;

export interface EntityLimits {
  /** Deepest nesting of arrays and objects accepted. */
  readonly maxDepth: number;
  /** Longest string or key accepted, in UTF-16 code units. */
  readonly maxStringLength: number;
  /** Most values (scalars and containers) one entity may hold. */
  readonly maxValuesPerEntity: number;
  /** Most characters its strings and keys may hold together, in UTF-16 code units. */
  readonly maxCharsPerEntity: number;
}

export const DEFAULT_ENTITY_LIMITS: EntityLimits = { maxDepth: 16, maxStringLength: 64 * 1024, maxValuesPerEntity: 100_000, maxCharsPerEntity: 4 * 1024 * 1024 };

type Token = { readonly name: string; readonly value?: unknown };
type Frame = { readonly container: JsonObject | unknown[]; key: string | undefined };

/** Builds one entity from its tokens. */
class EntityAssembler {
  readonly #stack: Frame[] = [];
  #values = 0;
  #chars = 0;

  constructor(private readonly limits: EntityLimits) {}

  get done(): boolean {
    return this.#stack.length === 0;
  }

  /** Takes a token; returns the entity once its last token arrived. */
  take(token: Token): JsonObject | undefined {
    if (++this.#values > this.limits.maxValuesPerEntity) throw new RangeError(`a register entity holds more than ${this.limits.maxValuesPerEntity} values`);
    switch (token.name) {
      case 'startObject': this.#stack.push({ container: Object.create(null) as JsonObject, key: undefined }); return undefined;
      case 'startArray': this.#stack.push({ container: [], key: undefined }); return undefined;
      case 'endObject':
      case 'endArray': {
        const frame = this.#stack.pop()!;
        if (!this.#stack.length) return frame.container as JsonObject;
        this.#add(frame.container);
        return undefined;
      }
      case 'keyValue': this.#stack.at(-1)!.key = this.#counted(String(token.value)); return undefined;
      case 'stringValue': this.#add(this.#counted(String(token.value))); return undefined;
      case 'numberValue': this.#add(Number(token.value)); return undefined;
      case 'nullValue': this.#add(null); return undefined;
      case 'trueValue': this.#add(true); return undefined;
      case 'falseValue': this.#add(false); return undefined;
      default: return undefined;
    }
  }

  #counted(text: string): string {
    this.#chars += text.length;
    if (this.#chars > this.limits.maxCharsPerEntity) throw new RangeError(`a register entity holds more than ${this.limits.maxCharsPerEntity} characters`);
    return text;
  }

  #add(value: unknown): void {
    const top = this.#stack.at(-1)!;
    if (Array.isArray(top.container)) top.container.push(value);
    else top.container[top.key ?? ''] = value;
  }
}

/** Follows the containers outside entities, and hands each entity's tokens to an assembler. */
function entityReader(onEntity: (entity: JsonObject) => void, limits: EntityLimits): (token: Token) => void {
  const outside: ('array' | 'object')[] = [];
  let entity: EntityAssembler | undefined;
  return (token) => {
    if (entity) {
      const done = entity.take(token);
      if (done) {
        entity = undefined;
        onEntity(done);
      }
      return;
    }
    switch (token.name) {
      case 'startArray': outside.push('array'); return;
      case 'endArray':
      case 'endObject': outside.pop(); return;
      case 'startObject':
        if (outside.at(-1) === 'array') {
          entity = new EntityAssembler(limits);
          entity.take(token);
        } else outside.push('object');
        return;
      default: return;
    }
  };
}

/**
 * Reads `source` (JSON text) to its end, calling `onEntity` for each entity as soon as its closing
 * brace is read; rejects on a syntax error or a limit passed. The tokenizer is called on each
 * chunk directly (not as a stream of one object per token): the register's millions of tokens
 * cost no stream machinery each.
 */
export async function readEntities(source: AsyncIterable<Buffer | string>, onEntity: (entity: JsonObject) => void, limits: EntityLimits = DEFAULT_ENTITY_LIMITS): Promise<void> {
  const read = entityReader(onEntity, limits);
  const tokenize = jsonParser({ packValues: true, streamValues: false, maxDepth: limits.maxDepth, maxPackedLength: limits.maxStringLength });
  const take = (out: unknown) => {
    if (out === none) return;
    if (isMany(out)) for (const token of getManyValues(out)) read(token as Token);
    else read(out as Token);
  };
  // A character split between two chunks waits for the next one.
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source) take(tokenize(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })));
  take(tokenize(decoder.decode()));
  // The end of the text is told with stream-chain's `none`, which the tokenizer's declared input type leaves out.
  take(Reflect.apply(tokenize, undefined, [none]));
}
