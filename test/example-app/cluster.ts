/**
 * A Redis Cluster of three masters, each with a replica, on ephemeral ports: to fail a master over
 * as a bank's cluster does, and time what its clients see.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startClusterNodes, type RedisProcess } from '../support/redis.js';

const run = promisify(execFile);

export interface ReplicatedCluster {
  /** Every node's URL, as REDIS_URL lists them. */
  readonly urls: string[];
  /** A master that has a replica, and that replica. */
  readonly master: RedisProcess;
  readonly replica: RedisProcess;
  /** Milliseconds (since the epoch) at which `replica` first reports itself a master, polled every 20 ms; fails after `ms`. */
  promoted(ms?: number): Promise<number>;
  close(): Promise<void>;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-p', String(port), ...args])).stdout;
}

/** Starts six redis-servers and makes them a cluster of three masters with a replica each. */
export async function startReplicatedCluster(nodeTimeoutMs = 2000): Promise<ReplicatedCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-failover-'));
  let nodes: RedisProcess[] = [];
  const close = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    nodes = await startClusterNodes(6, nodeTimeoutMs, (port) => {
      // A folder each: a replica writes the master's data to dump.rdb in it while syncing.
      const own = join(dir, String(port));
      mkdirSync(own, { recursive: true });
      return own;
    });
    await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '1', '--cluster-yes']);
    // Every node agrees the cluster is up, and every replica has synced with its master.
    for (let attempt = 0; ; attempt += 1) {
      const states = await Promise.all(nodes.map((node) => cli(node.port, 'cluster', 'info')));
      const links = await Promise.all(nodes.map((node) => cli(node.port, 'info', 'replication')));
      const topology = await cli(nodes[0]!.port, 'cluster', 'nodes');
      const synced = links.filter((info) => /master_link_status:up/.test(info)).length;
      if (states.every((state) => /cluster_state:ok/.test(state)) && synced === 3) break;
      if (attempt > 300) throw new Error(`the cluster did not come up:\n${topology}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // A replica and its master, from CLUSTER NODES: `<id> <ip:port@bus> <flags> <master id> …`.
    const lines = (await cli(nodes[0]!.port, 'cluster', 'nodes')).trim().split('\n').map((line) => line.split(' '));
    const portOf = (address: string) => Number(address.split('@')[0]!.split(':')[1]);
    const replicaLine = lines.find((fields) => fields[2]!.includes('slave'))!;
    const masterLine = lines.find((fields) => fields[0] === replicaLine[3])!;
    const byPort = (port: number) => nodes.find((node) => node.port === port)!;
    const replica = byPort(portOf(replicaLine[1]!));
    return {
      urls: nodes.map((node) => node.url),
      master: byPort(portOf(masterLine[1]!)),
      replica,
      promoted: async (ms = 30_000) => {
        for (const end = Date.now() + ms; Date.now() < end;) {
          if ((await cli(replica.port, 'role')).startsWith('master')) return Date.now();
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        throw new Error(`the replica was not promoted within ${ms} ms`);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
