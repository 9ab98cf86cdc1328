/**
 * The example app's operations listener: the authorization server's metrics, health and PSD2
 * statistics over plain HTTP on the loopback address, for the bank's monitoring agent on the same
 * machine (or a sidecar). It authenticates nobody: never expose it beyond the host.
 */
import { createServer, type Server } from 'node:http';

import type { AuthorizationServer } from '../lib/index.js';
import { stderrLogger } from '../lib/logger.js';
import { operationsListener } from '../lib/index.js';
import { listenAt } from './loopback.js';

/** The default port of OpenTelemetry's Prometheus exporter, where monitoring agents look first. */
export const DEFAULT_METRICS_PORT = 9464;

export interface Operations {
  readonly server: Server;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics`, `/health/live`, `/health/ready` and
 * `/statistics?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv]` of `auth` on 127.0.0.1 at `port`
 * (METRICS_PORT), by default {@link DEFAULT_METRICS_PORT}.
 */
export async function startOperations(auth: Pick<AuthorizationServer, 'metrics' | 'health' | 'management'>, port: number | undefined, warn: (message: string) => void): Promise<Operations> {
  const { metrics, health, management } = auth;
  // The statistics as the bank's own tools read them: through the management API.
  const server = createServer(operationsListener({ metrics, health, management, logger: stderrLogger }));
  // A scrape is small and quick: no client may hold a connection long.
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  const bound = await listenAt(server, {
    what: 'the operations listener',
    variable: 'METRICS_PORT',
    port,
    fallback: DEFAULT_METRICS_PORT,
    moved: (other) => `the operations listener answers on port ${other} instead (set METRICS_PORT to keep one)`,
  }, warn);
  return {
    server,
    base: `http://127.0.0.1:${bound}`,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    }),
  };
}
