/**
 * The thread that reads trusted lists: parsing and verifying a list of megabytes is synchronous work
 * that would otherwise hold up every request the server is answering.
 */
import { parentPort } from 'node:worker_threads';

import { answerOf, type ReadRequest } from './read.js';

parentPort?.on('message', (request: ReadRequest) => {
  void answerOf(request).then((answer) => parentPort?.postMessage(answer));
});
