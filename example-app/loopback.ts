/** The example app's private listeners, on the loopback address only. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1:`port` (0: any free port); resolves with the port bound. */
export function listenOnLoopback(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A private listener of the app: what it is, the variable setting its port, its default port. */
export interface Listener {
  /** What listens, as a sentence's subject: "the development QTSPs". */
  readonly what: string;
  /** The environment variable that sets the port. */
  readonly variable: string;
  /** The port set, or undefined for the default. */
  readonly port: number | undefined;
  readonly fallback: number;
  /** The warning when the default port is in use and `bound` is used instead. */
  readonly moved: (bound: number) => string;
}

/**
 * Listens on 127.0.0.1 at the port set, which must be free; or, when none is set, at the default
 * port, and at a free port with a warning when that one is in use (another app on the machine, or
 * a second example app, holds it). Resolves with the port bound.
 */
export async function listenAt(server: Server, listener: Listener, warn: (message: string) => void): Promise<number> {
  const { port, fallback } = listener;
  try {
    return await listenOnLoopback(server, port ?? fallback);
  } catch (error) {
    if (port !== undefined || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
      throw new Error(`${listener.what} cannot listen on 127.0.0.1:${port ?? fallback} (${listener.variable}): ${(error as Error).message}`, { cause: error });
    }
    const bound = await listenOnLoopback(server, 0);
    warn(`port ${fallback} is in use: ${listener.moved(bound)}`);
    return bound;
  }
}
