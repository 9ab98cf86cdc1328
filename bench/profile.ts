/**
 * Summarises V8 CPU profiles of the server children (`BENCH_PROFILE=1 npm run bench` writes one per
 * measured run to bench/results/profiles/, or any .cpuprofile, e.g. from --cpu-prof): self time by area and the hottest functions, and with `--focus`
 * the inclusive time of the functions whose name or file matches.
 *
 *   npx tsx bench/profile.ts bench/results/profiles/client_credentials-memory-ours.cpuprofile [--top 30] [--focus isSuspended,requireCertificate]
 *
 * A folder stands for its largest profile (with --cpu-prof, the main thread's).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** A profile file, or the largest profile of a folder. */
function profileFile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(path, name));
  const largest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!largest) throw new Error(`no .cpuprofile in ${path}`);
  return largest;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The area a frame belongs to: a package, the product's own folders, Node internals, or V8. */
function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return url.split('/')[0]!;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  const own = /\/work\/[^/]+\/([^/]+)\//.exec(url) ?? /\/(lib|adapters|interactions|bench)\//.exec(url);
  return own?.[1] ? `(product) ${own[1]}/` : url;
}

function main(): void {
  const args = process.argv.slice(2);
  const files = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const top = Number(args[args.indexOf('--top') + 1] ?? 25) || 25;
  const focus = args.includes('--focus') ? (args[args.indexOf('--focus') + 1] ?? '').split(',').filter(Boolean) : [];
  for (const path of files) {
    const file = profileFile(path);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    const self = new Map<number, number>();
    profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
    const busy = total - idle;
    const pct = (value: number) => `${((value / busy) * 100).toFixed(1).padStart(5)}%`;
    console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages of busy time)`);

    const areas = new Map<string, number>();
    const functions = new Map<string, number>();
    for (const [id, time] of self) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(idle)') continue;
      const area = areaOf(frame.url, frame.functionName);
      areas.set(area, (areas.get(area) ?? 0) + time);
      const key = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/\/work\/[^/]+\//, '')}:${frame.lineNumber + 1}`;
      functions.set(key, (functions.get(key) ?? 0) + time);
    }
    console.log('\nSelf time by area');
    for (const [area, time] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(time)}  ${area}`);
    console.log('\nHottest functions (self time)');
    for (const [name, time] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(time)}  ${name}`);

    if (focus.length) {
      console.log('\nInclusive time of matching functions (a sample counts once per function name)');
      const inclusive = new Map<string, number>();
      for (const [id, time] of self) {
        const seen = new Set<string>();
        for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
          const frame = byId.get(current)!.callFrame;
          const match = focus.find((f) => frame.functionName.includes(f) || frame.url.includes(f));
          if (match && !seen.has(match)) {
            seen.add(match);
            inclusive.set(match, (inclusive.get(match) ?? 0) + time);
          }
        }
      }
      for (const name of focus) console.log(`  ${pct(inclusive.get(name) ?? 0)}  ${name}`);
    }
  }
}

main();
