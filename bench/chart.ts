/** The benchmark's results as an SVG chart (bench/results/latest.svg): server CPU time per request. */
import { FLOW_REQUESTS } from './http.js';
import type { Target } from './protocol.js';
import { ratio, runOf, SCENARIOS, SHORT_TITLES, type Report, type RunResult } from './results.js';

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const COLORS: Record<Target, string> = { ours: '#1f6feb', 'ours-metrics-off': '#79c0ff', base: '#8957e5', bare: '#9aa4b2', 'anchor-express': '#d29922', 'anchor-https': '#57ab5a' };
const LEGEND: Record<Target, string> = { ours: 'ours', 'ours-metrics-off': 'ours, metrics off', base: 'base', bare: 'bare', 'anchor-express': '(a) Express', 'anchor-https': '(b) node:https' };

/** Server CPU per HTTP request, µs (a flow's divided by its requests). */
function perRequest(run: RunResult): number {
  return run.unit === 'flow' ? run.cpuMicros / FLOW_REQUESTS : run.cpuMicros;
}

/** One panel per scenario, bars of server CPU per request per storage and server, each panel on its own scale (lower is cheaper). */
export function svg(report: Report): string {
  const scenarios = SCENARIOS.filter((scenario) => report.runs.some((run) => run.scenario === scenario));
  const storages = (['memory', 'redis'] as const).filter((storage) => report.runs.some((run) => run.storage === storage));
  const targets = (Object.keys(COLORS) as Target[]).filter((target) => report.runs.some((run) => run.target === target));
  const panelWidth = 260;
  const panelHeight = 260;
  const margin = 30;
  const width = Math.max(1, scenarios.length) * panelWidth + margin * 2;
  const height = panelHeight + 110;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${margin}" y="22" font-size="15" font-weight="bold">Server CPU µs per request (lower is cheaper): ours, bare oidc-provider, and the anchors</text>`);
  targets.forEach((target, t) => {
    const x = width - (targets.length - t) * 110;
    parts.push(`<rect x="${x}" y="30" width="12" height="12" fill="${COLORS[target]}"/><text x="${x + 16}" y="40">${escapeXml(LEGEND[target])}</text>`);
  });
  scenarios.forEach((scenario, index) => {
    const x0 = margin + index * panelWidth;
    const top = 75;
    const plotHeight = panelHeight - 75;
    const bottom = top + plotHeight;
    const runs = report.runs.filter((run) => run.scenario === scenario);
    const max = Math.max(1, ...runs.map((run) => (Number.isFinite(perRequest(run)) ? perRequest(run) : 0)));
    parts.push(`<text x="${x0 + panelWidth / 2 - 10}" y="${top - 18}" text-anchor="middle" font-weight="bold">${escapeXml(SHORT_TITLES[scenario])}</text>`);
    parts.push(`<text x="${x0 + panelWidth / 2 - 10}" y="${top - 5}" text-anchor="middle" fill="#555">µs CPU / request</text>`);
    parts.push(`<line x1="${x0 + 10}" y1="${bottom}" x2="${x0 + panelWidth - 30}" y2="${bottom}" stroke="#333"/>`);
    const groupWidth = (panelWidth - 50) / Math.max(1, storages.length);
    storages.forEach((storage, s) => {
      const gx = x0 + 15 + s * groupWidth;
      const barWidth = (groupWidth - 14) / Math.max(1, targets.length);
      targets.forEach((target, t) => {
        const run = runOf(runs, scenario, storage, target);
        if (!run || !Number.isFinite(perRequest(run))) return;
        const value = perRequest(run);
        const h = (value / max) * (plotHeight - 20);
        const bx = gx + t * barWidth;
        parts.push(`<rect x="${bx.toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[target]}"><title>${escapeXml(`${scenario} ${storage} ${target}: ${value.toFixed(0)} µs CPU per request, ${run.load.rate.toFixed(1)} /s, p50 ${run.load.p50} ms, p99 ${run.load.p99} ms, ${run.node}`)}</title></rect>`);
        parts.push(`<text x="${(bx + barWidth / 2).toFixed(1)}" y="${(bottom - h - 4).toFixed(1)}" text-anchor="middle" font-size="8">${value.toFixed(0)}</text>`);
      });
      const r = ratio(report.runs, scenario, storage, true, 'anchor-express');
      const mid = gx + (barWidth * targets.length) / 2;
      parts.push(`<text x="${mid.toFixed(1)}" y="${bottom + 14}" text-anchor="middle">${storage}</text>`);
      if (r !== undefined) parts.push(`<text x="${mid.toFixed(1)}" y="${bottom + 28}" text-anchor="middle" fill="#555">×${r.toFixed(2)} of (a)</text>`);
    });
  });
  const environment = Object.entries(report.environment).filter(([key]) => ['cpu', 'node', 'duration', 'connections'].includes(key)).map(([key, value]) => `${key} ${value}`).join(', ');
  parts.push(`<text x="${margin}" y="${height - 12}" fill="#555">×: ours per CPU second over anchor (a)'s; anchors on their own memory adapter in every pass. ${escapeXml(environment)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
