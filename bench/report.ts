/** The benchmark's results as a markdown report (bench/results/latest.md). */
import { FLOW_REQUESTS } from './http.js';
import {
  fixed, ratio, SCENARIO_TITLES, TARGET_LABELS,
  type GrowthRun, type Report, type RunResult,
} from './results.js';

function topCommands(byCommand: Record<string, number>): string {
  return Object.entries(byCommand)
    .sort((a, b) => b[1] - a[1])
    .map(([command, calls]) => `${command} ${fixed(calls, calls < 10 ? 1 : 0)}`)
    .join(', ');
}

/** p50/p99 of each page of the authorization-code flow under load, one column pair per server. */
function pageLatencies(lines: string[], runs: readonly RunResult[]): void {
  const flows = runs.filter((run) => run.steps?.length);
  if (!flows.length) return;
  lines.push('## Authorization-code flow: latency of each page under load', '');
  lines.push('p50 / p99 in ms of each request of the flow, measured by the load generator\'s workers during the measured slices.', '');
  lines.push(`| Page | ${flows.map((run) => `${TARGET_LABELS[run.target]}, ${run.storage} pass`).join(' | ')} |`);
  lines.push(`|---|${flows.map(() => '---:').join('|')}|`);
  for (const step of flows[0]!.steps!.map((s) => s.step)) {
    const cells = flows.map((run) => {
      const latency = run.steps!.find((s) => s.step === step);
      return latency ? `${fixed(latency.p50, 1)} / ${fixed(latency.p99, 1)}` : '–';
    });
    lines.push(`| ${step} | ${cells.join(' | ')} |`);
  }
  lines.push('');
}

export function markdown(report: Report): string {
  const lines: string[] = [];
  lines.push('# Token endpoint benchmark', '');
  lines.push(`Run ${report.startedAt}. ${Object.entries(report.environment).map(([key, value]) => `${key}: ${value}`).join('; ')}.`, '');
  lines.push('![server CPU time per operation, ours vs bare oidc-provider and the anchors](latest.svg)', '');

  lines.push('## Results', '');
  lines.push('Rate: successful operations per second (a flow is 7 HTTP requests). CPU µs/op: server CPU time (user + system of the server process) per successful operation, summed over the slices; per core: operations per second of server CPU time (the server is one Node.js process); busy: share of one core the server used. The anchors keep oidc-provider\'s own memory adapter in every pass. Redis: per operation; cmds from `INFO commandstats` (MULTI/EXEC included), exch = exchanges (standalone commands + MULTI…EXEC blocks) counted by the server\'s Redis client, seq = sequential round trips of one operation sent alone. Ratios are the product\'s operations per server CPU second over the other server\'s, in the same pass.', '');
  // With a base checkout (BENCH_BASE), ours/base: what the change bought, in the same slices.
  const base = report.runs.some((run) => run.target === 'base');
  lines.push(`| Scenario | Storage | Server | Node | Rate /s | CPU µs/op | Per core /s | Busy | p50 ms | p99 ms | RSS start → peak MB | Redis cmds | Redis exch | Redis seq | Errors | ours/bare | ours/(a) | ours/(b) |${base ? ' ours/base |' : ''}`);
  lines.push(`|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|${base ? '---:|' : ''}`);
  for (const run of report.runs) {
    const against = (target: 'bare' | 'base' | 'anchor-express' | 'anchor-https') => {
      const value = run.target === 'ours' ? ratio(report.runs, run.scenario, run.storage, true, target) : undefined;
      return value === undefined ? '' : fixed(value, 2);
    };
    const flow = run.unit === 'flow';
    const cpu = flow ? `${fixed(run.cpuMicros)} (${fixed(run.cpuMicros / FLOW_REQUESTS)}/req)` : fixed(run.cpuMicros);
    lines.push(`| ${SCENARIO_TITLES[run.scenario]} | ${run.storage} | ${TARGET_LABELS[run.target]} | ${run.node} | ${fixed(run.load.rate, flow ? 1 : 0)} | ${cpu} | ${fixed(run.perCore, flow ? 1 : 0)} | ${fixed(run.utilization * 100)}% | ${fixed(run.load.p50, 2)} | ${fixed(run.load.p99, 2)} | ${fixed(run.startRssMb)} → ${fixed(run.peakRssMb)} | ${run.redis ? fixed(run.redis.commands, 1) : ''} | ${run.redis ? fixed(run.redis.exchanges, 1) : ''} | ${run.redis ? fixed(run.redis.waves, 1) : ''} | ${run.load.errors} | ${against('bare')} | ${against('anchor-express')} | ${against('anchor-https')} |${base ? ` ${against('base')} |` : ''}`);
  }
  lines.push('');
  pageLatencies(lines, report.runs);

  lines.push('## Targets', '');
  lines.push('| Target | Measured | Result |', '|---|---|---|');
  for (const check of report.checks) lines.push(`| ${check.name} | ${check.value} | ${check.pass === undefined ? 'not measured' : check.pass ? 'PASS' : 'FAIL'} |`);
  lines.push('');

  const withRedis = report.runs.filter((run) => run.redis);
  if (withRedis.length) {
    lines.push('## Redis commands per operation', '');
    lines.push('| Scenario | Server | Redis CPU µs/op | Commands per operation (INFO commandstats) |', '|---|---|---:|---|');
    for (const run of withRedis) lines.push(`| ${SCENARIO_TITLES[run.scenario]} | ${TARGET_LABELS[run.target]} | ${fixed(run.redis!.cpuMicros)} | ${topCommands(run.redis!.byCommand)} |`);
    lines.push('');
    lines.push('## Redis exchanges per operation, by what they touch', '');
    lines.push('From operations sent one at a time. `HGETALL Client`: a read of a Client record; `MULTI AccessToken`: a record written with its expiry (and its grant index when in the same slot); `MULTI index:client`: a client index update; `GET index:uid`: a uid pointer read.', '');
    lines.push('| Scenario | Server | Exchanges | By kind |', '|---|---|---:|---|');
    for (const run of withRedis) {
      const total = Object.values(run.redis!.breakdown).reduce((sum, value) => sum + value, 0);
      lines.push(`| ${SCENARIO_TITLES[run.scenario]} | ${TARGET_LABELS[run.target]} | ${fixed(total, 1)} | ${topCommands(run.redis!.breakdown)} |`);
    }
    lines.push('');
  }

  if (report.growth) {
    const g = report.growth;
    lines.push('## Growth: client_credentials with many clients and grants in Redis (product)', '');
    lines.push(`${g.clients.toLocaleString('en')} clients and ${g.grants.toLocaleString('en')} grants written through RedisStorage in ${fixed(g.populateSeconds)} s; Redis then held ${g.redisKeys.toLocaleString('en')} keys, ${fixed(g.redisMemoryMb)} MB.`, '');
    lines.push('| Run | Rate /s | mean ms | p50 ms | p99 ms | Server CPU µs/req | Server busy | Redis CPU µs/req | Redis cmds/req | Errors |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const row = (label: string, run: GrowthRun) => lines.push(`| ${label} | ${fixed(run.rate)} | ${fixed(run.mean, 2)} | ${fixed(run.p50, 2)} | ${fixed(run.p99, 2)} | ${fixed(run.serverCpuMicros)} | ${fixed(run.utilization * 100)}% | ${fixed(run.redisCpuMicros)} | ${fixed(run.commands, 1)} | ${run.errors} |`);
    row('before, alone, its Redis still empty (informational)', g.before);
    row('after, same client', g.after);
    row('its twin on an empty Redis, in the same alternating slices as "after"', g.reference);
    if (g.afterManyClients) row(`after, rotating over ${g.afterManyClients.clientCount.toLocaleString('en')} clients (informational)`, g.afterManyClients);
    lines.push('', `Flat latency: ${g.flat ? 'PASS' : 'FAIL'} (after against its twin: mean latency within 25 % + 0.5 ms (autocannon's percentiles are whole milliseconds), p99 within 50 % + 1 ms, rate within 15 %).`, '');
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

