/** The benchmark's results as a markdown report and an SVG chart. */
import type { LoadResult } from './load.js';
import type { StorageName, Target } from './protocol.js';

export const SCENARIOS = ['client_credentials', 'client_credentials_new_tls', 'refresh_token', 'authorization_code', 'introspection'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const SCENARIO_TITLES: Record<ScenarioName, string> = {
  client_credentials: 'client_credentials, keep-alive',
  client_credentials_new_tls: 'client_credentials, new TLS connection per request',
  refresh_token: 'refresh_token (pool, no rotation)',
  authorization_code: 'authorization-code flow (7 requests)',
  introspection: 'introspection (HTTP Basic)',
};

/** Titles short enough for a chart panel. */
const SHORT_TITLES: Record<ScenarioName, string> = {
  client_credentials: 'client_credentials, keep-alive',
  client_credentials_new_tls: 'client_credentials, new TLS',
  refresh_token: 'refresh_token',
  authorization_code: 'authorization-code flow',
  introspection: 'introspection',
};

export interface RedisPerOperation {
  /** Commands per operation, from Redis's INFO commandstats (MULTI and EXEC included). */
  readonly commands: number;
  /** Exchanges per operation (standalone commands + MULTI…EXEC blocks), counted by the server's client. */
  readonly exchanges: number;
  /** Sequential round trips per operation, from operations sent one at a time. */
  readonly waves: number;
  /** Redis CPU time per operation, microseconds. */
  readonly cpuMicros: number;
  /** Commands by name per operation. */
  readonly byCommand: Record<string, number>;
  /** Exchanges by kind per operation (`HGETALL Client`, `MULTI index:client`…), from operations sent one at a time. */
  readonly breakdown: Record<string, number>;
}

export interface RunResult {
  readonly scenario: ScenarioName;
  readonly storage: StorageName;
  readonly target: Target;
  readonly unit: 'request' | 'flow';
  readonly load: LoadResult;
  /** Server CPU seconds over the measured run. */
  readonly serverCpuSeconds: number;
  /** Successful operations per second of server CPU. */
  readonly perCore: number;
  /** Share of one core the server used, 0–1. */
  readonly utilization: number;
  /** RSS of the server process once started, before any load. */
  readonly startRssMb: number;
  readonly peakRssMb: number;
  readonly redis?: RedisPerOperation;
}

/** A client_credentials run of the growth test. */
export interface GrowthRun extends LoadResult {
  /** Server CPU per request, µs. */
  readonly serverCpuMicros: number;
  /** Share of one core the server used. */
  readonly utilization: number;
  /** Redis CPU per request, µs. */
  readonly redisCpuMicros: number;
  /** Redis commands per request. */
  readonly commands: number;
}

export interface GrowthResult {
  readonly clients: number;
  readonly grants: number;
  readonly populateSeconds: number;
  readonly redisKeys: number;
  readonly redisMemoryMb: number;
  readonly before: GrowthRun;
  readonly after: GrowthRun;
  /** Requests rotating over many clients of the TPP (informational: oidc-provider caches 100 clients). */
  readonly afterManyClients?: GrowthRun & { readonly clientCount: number };
  readonly flat: boolean;
}

export interface LeakSample {
  readonly seconds: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly rate: number;
}

export interface LeakResult {
  readonly storage: StorageName;
  readonly samples: readonly LeakSample[];
  readonly rssGrowthPct: number;
  readonly heapGrowthMb: number;
  readonly pass: boolean;
}

export interface TargetCheck {
  readonly name: string;
  readonly value: string;
  readonly pass: boolean | undefined;
}

export interface Report {
  readonly startedAt: string;
  readonly environment: Record<string, string>;
  readonly runs: readonly RunResult[];
  readonly growth?: GrowthResult;
  readonly leak?: LeakResult;
  readonly checks: readonly TargetCheck[];
  readonly notes: readonly string[];
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

export function runOf(runs: readonly RunResult[], scenario: ScenarioName, storage: StorageName, target: Target): RunResult | undefined {
  return runs.find((run) => run.scenario === scenario && run.storage === storage && run.target === target);
}

export function ratio(runs: readonly RunResult[], scenario: ScenarioName, storage: StorageName, perCore = false): number | undefined {
  const ours = runOf(runs, scenario, storage, 'ours');
  const bare = runOf(runs, scenario, storage, 'bare');
  if (!ours || !bare) return undefined;
  const value = perCore ? ours.perCore / bare.perCore : ours.load.rate / bare.load.rate;
  return Number.isFinite(value) ? value : undefined;
}

function topCommands(byCommand: Record<string, number>): string {
  return Object.entries(byCommand)
    .sort((a, b) => b[1] - a[1])
    .map(([command, calls]) => `${command} ${fixed(calls, calls < 10 ? 1 : 0)}`)
    .join(', ');
}

export function markdown(report: Report): string {
  const lines: string[] = [];
  lines.push('# Token endpoint benchmark', '');
  lines.push(`Run ${report.startedAt}. ${Object.entries(report.environment).map(([key, value]) => `${key}: ${value}`).join('; ')}.`, '');
  lines.push('![requests per second, ours vs bare oidc-provider](latest.svg)', '');

  lines.push('## Results', '');
  lines.push('Rate: successful operations per second (a flow is 7 HTTP requests). Per core: operations per second of server CPU time (the server is one Node.js process). Redis: per operation; cmds from `INFO commandstats` (MULTI/EXEC included), exch = exchanges (standalone commands + MULTI…EXEC blocks) counted by the server\'s Redis client, seq = sequential round trips of one operation sent alone.', '');
  lines.push('| Scenario | Storage | Server | Rate /s | Per core /s | Server CPU | p50 ms | p99 ms | RSS start → peak MB | Redis cmds | Redis exch | Redis seq | Errors | ours/bare | ours/bare per core |');
  lines.push('|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const run of report.runs) {
    const r = ratio(report.runs, run.scenario, run.storage);
    const rc = ratio(report.runs, run.scenario, run.storage, true);
    lines.push(`| ${SCENARIO_TITLES[run.scenario]} | ${run.storage} | ${run.target} | ${fixed(run.load.rate, run.unit === 'flow' ? 1 : 0)} | ${fixed(run.perCore, run.unit === 'flow' ? 1 : 0)} | ${fixed(run.utilization * 100)}% | ${fixed(run.load.p50, 2)} | ${fixed(run.load.p99, 2)} | ${fixed(run.startRssMb)} → ${fixed(run.peakRssMb)} | ${run.redis ? fixed(run.redis.commands, 1) : ''} | ${run.redis ? fixed(run.redis.exchanges, 1) : ''} | ${run.redis ? fixed(run.redis.waves, 1) : ''} | ${run.load.errors} | ${run.target === 'ours' && r !== undefined ? fixed(r, 2) : ''} | ${run.target === 'ours' && rc !== undefined ? fixed(rc, 2) : ''} |`);
  }
  lines.push('');

  lines.push('## Targets', '');
  lines.push('| Target | Measured | Result |', '|---|---|---|');
  for (const check of report.checks) lines.push(`| ${check.name} | ${check.value} | ${check.pass === undefined ? 'not measured' : check.pass ? 'PASS' : 'FAIL'} |`);
  lines.push('');

  const withRedis = report.runs.filter((run) => run.redis);
  if (withRedis.length) {
    lines.push('## Redis commands per operation', '');
    lines.push('| Scenario | Server | Redis CPU µs/op | Commands per operation (INFO commandstats) |', '|---|---|---:|---|');
    for (const run of withRedis) lines.push(`| ${SCENARIO_TITLES[run.scenario]} | ${run.target} | ${fixed(run.redis!.cpuMicros)} | ${topCommands(run.redis!.byCommand)} |`);
    lines.push('');
    lines.push('## Redis exchanges per operation, by what they touch', '');
    lines.push('From operations sent one at a time. `HGETALL Client`: a read of a Client record; `MULTI AccessToken`: a record written with its expiry (and its grant index when in the same slot); `MULTI index:client`: a client index update; `GET index:uid`: a uid pointer read.', '');
    lines.push('| Scenario | Server | Exchanges | By kind |', '|---|---|---:|---|');
    for (const run of withRedis) {
      const total = Object.values(run.redis!.breakdown).reduce((sum, value) => sum + value, 0);
      lines.push(`| ${SCENARIO_TITLES[run.scenario]} | ${run.target} | ${fixed(total, 1)} | ${topCommands(run.redis!.breakdown)} |`);
    }
    lines.push('');
  }

  if (report.growth) {
    const g = report.growth;
    lines.push('## Growth: client_credentials with many clients and grants in Redis (product)', '');
    lines.push(`${g.clients.toLocaleString('en')} clients and ${g.grants.toLocaleString('en')} grants written through RedisStorage in ${fixed(g.populateSeconds)} s; Redis then held ${g.redisKeys.toLocaleString('en')} keys, ${fixed(g.redisMemoryMb)} MB.`, '');
    lines.push('| Run | Rate /s | p50 ms | p99 ms | Server CPU µs/req | Server busy | Redis CPU µs/req | Redis cmds/req | Errors |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    const row = (label: string, run: GrowthRun) => lines.push(`| ${label} | ${fixed(run.rate)} | ${fixed(run.p50, 2)} | ${fixed(run.p99, 2)} | ${fixed(run.serverCpuMicros)} | ${fixed(run.utilization * 100)}% | ${fixed(run.redisCpuMicros)} | ${fixed(run.commands, 1)} | ${run.errors} |`);
    row('before (empty Redis)', g.before);
    row('after, same client', g.after);
    if (g.afterManyClients) row(`after, rotating over ${g.afterManyClients.clientCount.toLocaleString('en')} clients (informational)`, g.afterManyClients);
    lines.push('', `Flat latency: ${g.flat ? 'PASS' : 'FAIL'} (after vs before: p50 within 25 % + 0.5 ms, p99 within 50 % + 1 ms, rate within 15 %).`, '');
  }

  if (report.leak) {
    const l = report.leak;
    lines.push(`## Memory over a longer run (product, ${l.storage}, client_credentials keep-alive)`, '');
    lines.push('| Time s | RSS MB | Heap after GC MB | Rate /s |', '|---:|---:|---:|---:|');
    for (const sample of l.samples) lines.push(`| ${fixed(sample.seconds)} | ${fixed(sample.rssMb, 1)} | ${fixed(sample.heapMb, 1)} | ${fixed(sample.rate)} |`);
    lines.push('', `Mean of the first two samples (after a warm-up segment) against the mean of the last two: RSS ${l.rssGrowthPct >= 0 ? '+' : ''}${fixed(l.rssGrowthPct, 1)} %, heap after GC ${l.heapGrowthMb >= 0 ? '+' : ''}${fixed(l.heapGrowthMb, 1)} MB: ${l.pass ? 'PASS' : 'FAIL'}.`, '');
  }

  if (report.notes.length) {
    lines.push('## Method', '');
    for (const note of report.notes) lines.push(`- ${note}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** One panel per scenario, bars of the rate per storage, ours next to bare, each panel on its own scale. */
export function svg(report: Report): string {
  const scenarios = SCENARIOS.filter((scenario) => report.runs.some((run) => run.scenario === scenario));
  const storages = (['memory', 'redis'] as const).filter((storage) => report.runs.some((run) => run.storage === storage));
  const colors: Record<Target, string> = { ours: '#1f6feb', bare: '#9aa4b2' };
  const panelWidth = 220;
  const panelHeight = 260;
  const margin = 30;
  const width = Math.max(1, scenarios.length) * panelWidth + margin * 2;
  const height = panelHeight + 110;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${margin}" y="22" font-size="15" font-weight="bold">Operations per second: PSD2 server (ours) vs bare oidc-provider</text>`);
  parts.push(`<rect x="${width - 190}" y="10" width="12" height="12" fill="${colors.ours}"/><text x="${width - 174}" y="20">ours</text>`);
  parts.push(`<rect x="${width - 120}" y="10" width="12" height="12" fill="${colors.bare}"/><text x="${width - 104}" y="20">bare</text>`);
  scenarios.forEach((scenario, index) => {
    const x0 = margin + index * panelWidth;
    const top = 60;
    const plotHeight = panelHeight - 60;
    const bottom = top + plotHeight;
    const runs = report.runs.filter((run) => run.scenario === scenario);
    const max = Math.max(1, ...runs.map((run) => run.load.rate));
    const unit = runs[0]?.unit === 'flow' ? 'flows/s' : 'req/s';
    parts.push(`<text x="${x0 + panelWidth / 2 - 10}" y="${top - 18}" text-anchor="middle" font-weight="bold">${escapeXml(SHORT_TITLES[scenario])}</text>`);
    parts.push(`<text x="${x0 + panelWidth / 2 - 10}" y="${top - 5}" text-anchor="middle" fill="#555">${unit}</text>`);
    parts.push(`<line x1="${x0 + 10}" y1="${bottom}" x2="${x0 + panelWidth - 30}" y2="${bottom}" stroke="#333"/>`);
    const groupWidth = (panelWidth - 50) / Math.max(1, storages.length);
    storages.forEach((storage, s) => {
      const gx = x0 + 15 + s * groupWidth;
      const barWidth = (groupWidth - 14) / 2;
      (['ours', 'bare'] as const).forEach((target, t) => {
        const run = runOf(runs, scenario, storage, target);
        if (!run) return;
        const h = (run.load.rate / max) * (plotHeight - 20);
        const bx = gx + t * (barWidth + 4);
        parts.push(`<rect x="${bx.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${colors[target]}"><title>${escapeXml(`${scenario} ${storage} ${target}: ${run.load.rate.toFixed(1)} ${unit}, p50 ${run.load.p50} ms, p99 ${run.load.p99} ms`)}</title></rect>`);
        parts.push(`<text x="${(bx + barWidth / 2).toFixed(1)}" y="${(bottom - h - 4).toFixed(1)}" text-anchor="middle" font-size="9">${run.load.rate >= 100 ? run.load.rate.toFixed(0) : run.load.rate.toFixed(1)}</text>`);
      });
      const r = ratio(report.runs, scenario, storage);
      parts.push(`<text x="${(gx + barWidth + 2).toFixed(1)}" y="${bottom + 14}" text-anchor="middle">${storage}</text>`);
      if (r !== undefined) parts.push(`<text x="${(gx + barWidth + 2).toFixed(1)}" y="${bottom + 28}" text-anchor="middle" fill="#555">×${r.toFixed(2)}</text>`);
    });
  });
  parts.push(`<text x="${margin}" y="${height - 12}" fill="#555">×: ours/bare rate. ${escapeXml(Object.entries(report.environment).filter(([key]) => ['cpu', 'duration', 'connections'].includes(key)).map(([key, value]) => `${key} ${value}`).join(', '))}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
