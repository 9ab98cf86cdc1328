/**
 * A server under test as the driver sees it: a child process running bench/server.ts with the
 * driver's own Node (process.execPath), pinned to the server CPU when pinning, spoken to over IPC
 * (start, stats with CPU time and memory, Redis call counts, CPU profiles, exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { benchDir, config, nodeCommand, rootDir, serverCpu } from './options.js';
import type { FromServer, ServerConfig, ServerStats, ToServer } from './protocol.js';

export class ServerChild {
  #nextId = 0;
  readonly #pending = new Map<number, (stats: ServerStats) => void>();

  private constructor(readonly child: ChildProcess, readonly port: number, readonly pid: number, readonly node: string) {
    child.on('message', (message: FromServer) => {
      if (message.type === 'stats') {
        this.#pending.get(message.id)?.(message.stats);
        this.#pending.delete(message.id);
      }
    });
  }

  static async start(serverConfig: ServerConfig): Promise<ServerChild> {
    // `base`: the other checkout's own server child, serving its product as `ours`.
    const base = serverConfig.target === 'base' ? config.base : undefined;
    if (serverConfig.target === 'base' && !base) throw new Error('the base target needs BENCH_BASE, the checkout to compare with');
    const [command, args] = nodeCommand(['--expose-gc', '--import', 'tsx', join(base ? join(base, 'bench') : benchDir, 'server.ts')], serverCpu);
    const child = spawn(command, args, { cwd: base ?? rootDir, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } });
    const ready = await new Promise<{ port: number; pid: number; node: string }>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the server child exited with ${code} before it was ready`));
      child.once('exit', onExit);
      child.on('message', (message: FromServer) => {
        if (message.type === 'ready') {
          child.off('exit', onExit);
          resolve(message);
        } else if (message.type === 'failed') {
          reject(new Error(`the server child failed: ${message.message}`));
        }
      });
      child.send({ type: 'start', config: base ? { ...serverConfig, target: 'ours' } : serverConfig } satisfies ToServer);
    });
    return new ServerChild(child, ready.port, ready.pid, ready.node);
  }

  stats(gc = false): Promise<ServerStats> {
    const id = (this.#nextId += 1);
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.child.send({ type: 'stats', id, gc } satisfies ToServer);
    });
  }

  breakdown(on: boolean): void {
    this.child.send({ type: 'breakdown', on } satisfies ToServer);
  }

  /** Starts the CPU profiler of the child; the returned function stops it and waits for the file. */
  profile(file: string): () => Promise<void> {
    this.child.send({ type: 'profile', action: 'start' } satisfies ToServer);
    return () => new Promise((resolve) => {
      const onMessage = (message: FromServer) => {
        if (message.type === 'profiled' && message.file === file) {
          this.child.off('message', onMessage);
          resolve();
        }
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'profile', action: 'stop', file } satisfies ToServer);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'exit' } satisfies ToServer);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
