/** What the benchmark driver and its server child say to each other over the IPC channel. */
import type { SandboxPsu } from '../lib/index.js';

/**
 * The servers under test: the product; `bare`, oidc-provider with the product's storage adapter
 * and Express mounting (the cost of the PSD2 layer); and the anchors, oidc-provider with its own
 * defaults (its in-memory adapter) mounted in Express 5 as its documentation shows
 * (`anchor-express`) or served by node:https directly (`anchor-https`); and `base`, the product
 * of another checkout (BENCH_BASE), to measure a change against what it changes; and
 * `ours-metrics-off`, the product with `metrics: false`, to measure what the metrics cost.
 */
export const TARGETS = ['ours', 'ours-metrics-off', 'base', 'bare', 'anchor-express', 'anchor-https'] as const;
export type Target = (typeof TARGETS)[number];

export function isAnchor(target: Target): boolean {
  return target === 'anchor-express' || target === 'anchor-https';
}

/** The targets running the product: they register their TPP and serve its pages. */
export function isProduct(target: Target): boolean {
  return target === 'ours' || target === 'ours-metrics-off' || target === 'base';
}
export type StorageName = 'memory' | 'redis';

export const SANDBOX_PSU: SandboxPsu = {
  id: 'bench-psu',
  name: 'Bench PSU',
  accounts: [{ id: 'bench-account-1', iban: 'DE89370400440532013000', name: 'Girokonto', currency: 'EUR' }],
};

export const REDIRECT_URI = 'https://tpp.example/callback';
export const COOKIE_KEY = 'bench-cookie-key-0123456789abcdef0123456789';
export const RESOURCE_SERVER = { id: 'bench-api', secret: 'bench-resource-server-secret-0123456789abcdef' };
/** client_id of the bare provider's TPP client (ours registers its own over RFC 7591). */
export const BARE_CLIENT_ID = 'bench-tpp';

export interface ServerConfig {
  readonly target: Target;
  /** The product's and bare's storage; the anchors always keep oidc-provider's own memory adapter. */
  readonly storage: StorageName;
  readonly redisUrl?: string;
  readonly keyPrefix: string;
  readonly tls: { readonly key: string; readonly cert: string };
  readonly sandboxRootPem: string;
  readonly signingKey: Record<string, unknown>;
  /** tls_client_auth_subject_dn of the baselines' client (the TPP certificate's subject, RFC 4514). */
  readonly tppSubjectDn: string;
  /** Revocation checking of ours: `hard` as a bank runs it, `off` to measure what it costs. */
  readonly revocation: 'hard' | 'off';
}

export type ToServer =
  | { readonly type: 'start'; readonly config: ServerConfig }
  | { readonly type: 'stats'; readonly id: number; readonly gc?: boolean }
  /** Counts Redis exchanges by kind (for operations sent one at a time) until turned off. */
  | { readonly type: 'breakdown'; readonly on: boolean }
  /** CPU profile of the measured window only; `stop` writes it to `file` and answers `profiled`. */
  | { readonly type: 'profile'; readonly action: 'start' }
  | { readonly type: 'profile'; readonly action: 'stop'; readonly file: string }
  | { readonly type: 'exit' };

/** Redis calls of the server as seen by its RedisStorage (see bench/redis.ts). */
export interface RedisCalls {
  /** Request/response exchanges: each standalone command, and each MULTI…EXEC transaction. */
  readonly exchanges: number;
  /** Commands sent, MULTI and EXEC included (comparable to INFO commandstats). */
  readonly commands: number;
  /** Groups of overlapping exchanges: the round trips one waits for when requests come one at a time. */
  readonly waves: number;
  /** Exchanges by kind (`HGETALL Client`, `MULTI index:client`…), while the breakdown is on. */
  readonly breakdown?: Readonly<Record<string, number>>;
}

export interface ServerStats {
  readonly rssKb: number;
  readonly hwmKb: number;
  readonly heapUsed: number;
  /** process.cpuUsage() in microseconds. */
  readonly cpuUser: number;
  readonly cpuSystem: number;
  readonly redis: RedisCalls;
}

export type FromServer =
  | { readonly type: 'ready'; readonly port: number; readonly pid: number; readonly node: string }
  | { readonly type: 'stats'; readonly id: number; readonly stats: ServerStats }
  | { readonly type: 'profiled'; readonly file: string }
  | { readonly type: 'failed'; readonly message: string };
