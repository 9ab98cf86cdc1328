/**
 * Reads lists in a worker thread, each within a time limit: a hostile list that makes parsing or
 * canonicalization slow costs that worker, which is ended, never the thread that serves requests.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import type { ReadAnswer, ReadList, ReadRequest } from './read.js';
import { TrustedListError } from './xml.js';

function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url));
  // From the TypeScript sources (run under tsx), the worker registers tsx before importing its module.
  const tsx = new URL('dist/esm/api/index.mjs', pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json'))).href;
  const worker = new URL('./worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(worker)}); });`, { eval: true });
}

/** One worker for a reading of the lists, read one at a time; {@link close} ends it. */
export class ListReader {
  #worker: Worker | undefined;

  /** @param timeout milliseconds one list may take (start of the worker included). */
  constructor(private readonly timeout: number) {}

  /** The verified list; throws {@link TrustedListError} when it cannot be used or took too long. */
  async read(request: ReadRequest): Promise<ReadList> {
    const worker = (this.#worker ??= startWorker());
    let answer: ReadAnswer;
    try {
      answer = await this.#answer(worker, request);
    } catch (error) {
      await this.close();
      throw error;
    }
    if (!answer.ok) throw new TrustedListError(answer.reason);
    return answer.list;
  }

  #answer(worker: Worker, request: ReadRequest): Promise<ReadAnswer> {
    return new Promise<ReadAnswer>((resolve, reject) => {
      const settle = (settled: () => void) => {
        clearTimeout(timer);
        worker.off('message', onMessage).off('error', onError).off('exit', onExit);
        settled();
      };
      const onMessage = (answer: ReadAnswer) => settle(() => resolve(answer));
      const onError = (error: Error) => settle(() => reject(new TrustedListError(`the list could not be read: ${error.message.slice(0, 200)}`)));
      const onExit = () => settle(() => reject(new TrustedListError('the list reader stopped')));
      const timer = setTimeout(() => settle(() => reject(new TrustedListError(`reading the list took longer than ${this.timeout} ms`))), this.timeout);
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    await worker?.terminate();
  }
}
