/**
 * `npm run bench`: server CPU time per request, rates, latency, memory and Redis round trips of the
 * PSD2 authorization server, each scenario run in the same alternating slices against bare
 * oidc-provider configured alike (the PSD2 layer's cost) and against the anchors, oidc-provider
 * with its own defaults in Express (a) and on node:https (b) (the cost against what a bank would
 * otherwise deploy). Settings: environment variables, see bench/options.ts and bench/README.md
 * (BENCH_QUICK=1 for a smoke run).
 *
 * `npm run bench -- --render [file.json]` writes the markdown and SVG of a JSON report again.
 */
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';

import { subjectDnOf } from './anchor.js';
import { svg } from './chart.js';
import { describe } from './cpu.js';
import { startCrlServer } from './crl.js';
import { runGrowth, runLeak } from './longer-runs.js';
import { config, cpuCount, driverCpus, log, pinSelf, resultsDir, rootDir, serverCpu } from './options.js';
import { createBenchPki } from './pki.js';
import { buildProduct, productBuild } from './product.js';
import type { StorageName } from './protocol.js';
import { startRedis } from './redis.js';
import { markdown } from './report.js';
import { ratio, SCENARIO_TITLES, SCENARIOS, type GrowthResult, type LeakResult, type Report, type RunResult } from './results.js';
import type { Context } from './scenarios.js';
import { runScenario } from './slices.js';
import { checks } from './targets.js';

function notes(): string[] {
  return [
    `Every request goes over HTTPS with mutual TLS (ECDSA P-256 certificates from the project's PKI helpers: sandbox root → QTSP intermediate → the TPP's QWAC with PSP_AI and PSP_PI, sent with its intermediate). The product checks the chain, the QWAC statements and the PSD2 roles (cached by leaf), and ${config.revocation === 'off' ? 'not (BENCH_REVOCATION=off) ' : ''}the revocation status of the QWAC and its intermediate (hard fail) through the CRLs they name, served by the driver on a loopback port: fetched once, then served from the status cache; bare only reads the peer certificate; the anchors let OpenSSL verify the chain against the sandbox root during the handshake.`,
    'ours: createAuthorizationServer mounted at /oauth2 of an Express app, the TPP client registered over RFC 7591. bare: oidc-provider with the same grants, scopes, TTLs, cookies, PKCE, tls_client_auth and certificate-bound tokens, the product\'s storage adapter, its clients written through that adapter, mounted the same way: the cost of the PSD2 layer. Anchors: oidc-provider configured for the same job with its own defaults (its in-memory adapter in every pass, its `clients` configuration, the shortest mTLS helpers), (a) mounted in an Express 5 app with `app.use(\'/oauth2\', provider.callback())` as its documentation shows, (b) served by node:https directly; the targets are set against (a), (b) is information. bare and the anchors have minimal sign-in and consent pages with the same steps as ours.',
    `Each scenario starts a fresh server child process per server, side by side (${config.pin ? `each pinned with taskset to CPU ${serverCpu}; the load generator and Redis share CPU ${driverCpus}` : 'not pinned'}); each gets ${config.warmup} s of warm-up, then ${config.duration} s measured in ${config.slices} alternating slice(s), forward then backward (the authorization-code flow on memory storage: ${config.flowDuration} s in ${config.flowSlices}), so that drift of the shared machine weighs on all alike; rates add the slices up, p50/p99 are the slices' values weighted by their completions. Keep-alive runs use autocannon; new-TLS-per-request and flows use a closed loop of ${config.connections} workers over node:https (a full TLS handshake per request, no session resumption).`,
    'CPU µs/op = server CPU time (process.cpuUsage of the server process, user + system, read before and after each slice) per successful operation; per core = its inverse (operations per CPU second). The load generator shares the machine, so CPU per operation is the figure to compare; rates follow the CPU the server got. RSS start = VmRSS of the server process once listening (the tsx loader accounts for ~35 MB of it, oidc-provider ~35 MB); peak = its VmHWM at the end of its run.',
    'Redis round trips: "exch" counts each standalone command and each MULTI…EXEC block the server sends, over the whole run; "seq" counts groups of overlapping exchanges for operations sent one at a time (exchanges sent together with Promise.all are pipelined and cost one network round trip). The round-trip targets are checked on sequential round trips (what a request waits for); exchanges are shown next to them.',
    'refresh_token: a pool of refresh tokens from real authorization-code flows, used round-robin; without rotation each refresh reuses its token. introspection: access tokens from such flows, the resource server authenticating with HTTP Basic (baselines: a client_secret_basic client).',
  ];
}

async function measureAll(context: Context): Promise<{ runs: RunResult[]; growth?: GrowthResult; leak?: LeakResult }> {
  const runs: RunResult[] = [];
  for (const storage of config.storages) {
    for (const scenario of SCENARIOS) {
      if (!config.scenarios.includes(scenario)) continue;
      log(`${SCENARIO_TITLES[scenario]}, ${storage}`);
      runs.push(...await runScenario(context, scenario, storage));
      const against = (target: 'bare' | 'base' | 'anchor-express') => ratio(runs, scenario, storage, true, target)?.toFixed(2) ?? '–';
      log(`  ours per CPU second: ${against('bare')} of bare, ${against('anchor-express')} of anchor (a)${config.base ? `, ${against('base')} of base` : ''}`);
    }
  }
  let growth: GrowthResult | undefined;
  if (config.scenarios.includes('growth')) {
    if (context.redis) {
      log(`growth: client_credentials before and after ${config.clients.toLocaleString('en')} clients and ${config.grants.toLocaleString('en')} grants in Redis`);
      growth = await runGrowth(context);
    } else {
      log('growth: skipped (needs BENCH_STORAGE to include redis)');
    }
  }
  let leak: LeakResult | undefined;
  if (config.scenarios.includes('leak')) {
    const storage: StorageName = context.redis ? 'redis' : 'memory';
    log(`memory: client_credentials for ${config.leakDuration} s on ${storage}`);
    leak = await runLeak(context, storage);
  }
  return { runs, ...(growth ? { growth } : {}), ...(leak ? { leak } : {}) };
}

async function main(): Promise<void> {
  const startedAt = new Date();
  mkdirSync(resultsDir, { recursive: true });
  if (config.profile) mkdirSync(join(resultsDir, 'profiles'), { recursive: true });
  pinSelf(driverCpus);
  const pinning = config.pin ? `; servers on CPU ${serverCpu}, driver and Redis on CPU ${driverCpus}` : config.pinWanted ? '; not pinned (no taskset)' : '; not pinned';
  const measuring = `${config.duration} s in ${config.slices} slices (the flow on memory ${config.flowDuration} s in ${config.flowSlices})`;
  log(`bench on Node ${process.version}${config.quick ? ' (BENCH_QUICK: a smoke run, not a measurement)' : ''}: ${measuring} per server after ${config.warmup} s of warm-up, ${config.connections} connections, scenarios ${config.scenarios.join(', ')}, storage ${config.storages.join(', ')}, servers ${config.targets.join(', ')}${pinning}`);
  buildProduct(rootDir);
  if (config.base) buildProduct(config.base);
  log(`product served from ${productBuild}`);
  const crls = await startCrlServer();
  const pki = await createBenchPki(crls);
  const context: Context = {
    pki,
    tpp: { cert: pki.tpp.chainPem, key: pki.tpp.keyPem },
    redis: config.storages.includes('redis') ? await startRedis(config.pin ? driverCpus : undefined) : undefined,
    subjectDn: subjectDnOf(new X509Certificate(pki.tpp.chainPem)),
  };
  let measured: Awaited<ReturnType<typeof measureAll>>;
  try {
    measured = await measureAll(context);
  } finally {
    await context.redis?.close();
    await crls.close();
  }
  log(`revocation: ${crls.downloads} CRL download(s) over the whole run`);

  const report: Report = {
    startedAt: startedAt.toISOString(),
    environment: {
      cpu: `${cpus()[0]?.model ?? '?'} × ${cpuCount}`,
      node: process.version,
      product: productBuild,
      duration: `${measuring}${config.quick ? ' (BENCH_QUICK)' : ''}`,
      connections: String(config.connections),
      pinning: config.pin ? `servers on CPU ${serverCpu}, load generator on ${driverCpus}` : 'none',
      redis: context.redis ? (process.env.REDIS_URL ? 'REDIS_URL' : 'redis-server (no persistence)') : 'not used',
      ...(config.base ? { base: config.base } : {}),
    },
    ...measured,
    checks: checks(measured.runs, measured.growth, measured.leak),
    notes: notes(),
  };
  writeFileSync(join(resultsDir, 'latest.md'), markdown(report));
  writeFileSync(join(resultsDir, 'latest.svg'), svg(report));
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);

  console.log(`\nSummary (Node ${process.version})`);
  for (const run of report.runs) console.log(`  ${SCENARIO_TITLES[run.scenario]} / ${run.storage} / ${run.target}: ${describe(run)}`);
  console.log('\nTargets');
  for (const check of report.checks) console.log(`  ${check.pass === undefined ? 'SKIP' : check.pass ? 'PASS' : 'FAIL'}  ${check.name}: ${check.value}`);
  console.log(`\nWritten: ${join('bench', 'results', 'latest.md')}, latest.svg, latest.json (${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s)`);
}

/** `npm run bench -- --render [bench/results/latest.json]`: the markdown and SVG again from a JSON report, without running anything. */
function render(file: string): void {
  const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
  const base = basename(file, '.json');
  writeFileSync(join(dirname(file), `${base}.md`), markdown(report).replace('](latest.svg)', `](${base}.svg)`));
  writeFileSync(join(dirname(file), `${base}.svg`), svg(report));
  console.log(`Written: ${join(dirname(file), `${base}.md`)}, ${base}.svg`);
}

const renderAt = process.argv.indexOf('--render');
(renderAt >= 0 ? Promise.resolve(render(process.argv[renderAt + 1] ?? join(resultsDir, 'latest.json'))) : main()).then(() => {
  // Keep-alive agents and autocannon's timers would keep the process alive.
  process.exit(0);
}, (error: unknown) => {
  console.error(error);
  process.exit(1);
});
