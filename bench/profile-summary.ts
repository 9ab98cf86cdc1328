/**
 * Reading V8 CPU profiles of the server children: self time by area (a package, the product's own
 * folders, Node internals, V8) and by function, inclusive time of chosen functions or files, and
 * two profiles side by side per operation, the largest differences first.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A profile's self times, µs: by node, and summed by area and by function. */
export interface ProfileTimes {
  readonly file: string;
  readonly total: number;
  readonly busy: number;
  readonly areas: ReadonlyMap<string, number>;
  readonly functions: ReadonlyMap<string, number>;
  /** Inclusive time of the functions or files whose name contains each string. */
  inclusive(focus: readonly string[]): Map<string, number>;
}

/** A profile file, or the largest profile of a folder (with --cpu-prof, the main thread's). */
export function profileFile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path).filter((name) => name.endsWith('.cpuprofile')).map((name) => join(path, name));
  const largest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!largest) throw new Error(`no .cpuprofile in ${path}`);
  return largest;
}

/** The area a frame belongs to: a package, the product's own folders, Node internals, or V8. */
function areaOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return url.split('/')[0]!;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  const own = /\/(lib|adapters|interactions|bench)\//.exec(url);
  return own?.[1] ? `(product) ${own[1]}/` : url;
}

/** `name file:line`, the file relative to node_modules or to the checkout (so that two checkouts compare). */
function functionKey(frame: ProfileNode['callFrame']): string {
  const file = frame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/((?:lib|adapters|interactions|bench)\/)/, '$1');
  return `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
}

export function readProfile(path: string): ProfileTimes {
  const file = profileFile(path);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, time] of self) {
    const frame = byId.get(id)!.callFrame;
    total += time;
    // Idle, and the profiler's own work (the inspector session starting and stopping it).
    if (frame.functionName === '(idle)' || frame.url.startsWith('node:inspector')) {
      idle += time;
      continue;
    }
    const area = areaOf(frame.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + time);
    const key = functionKey(frame);
    functions.set(key, (functions.get(key) ?? 0) + time);
  }
  const inclusive = (focus: readonly string[]) => {
    const result = new Map<string, number>(focus.map((name) => [name, 0]));
    for (const [id, time] of self) {
      const seen = new Set<string>();
      for (let current: number | undefined = id; current !== undefined; current = parent.get(current)) {
        const frame = byId.get(current)!.callFrame;
        const match = focus.find((f) => frame.functionName.includes(f) || frame.url.includes(f));
        if (match && !seen.has(match)) {
          seen.add(match);
          result.set(match, result.get(match)! + time);
        }
      }
    }
    return result;
  };
  return { file, total, busy: total - idle, areas, functions, inclusive };
}

const sorted = (map: ReadonlyMap<string, number>) => [...map].sort((a, b) => b[1] - a[1]);

/** Self time by area and function, as a share of busy time and, given the operations profiled, µs per operation. */
export function printSummary(times: ProfileTimes, options: { top: number; focus: readonly string[]; operations?: number }): void {
  const cell = (value: number) => `${((value / times.busy) * 100).toFixed(1).padStart(5)}%${options.operations ? ` ${(value / options.operations).toFixed(1).padStart(7)} µs` : ''}`;
  const perOperation = options.operations ? `, ${(times.busy / options.operations).toFixed(0)} µs busy per operation over ${options.operations} operations` : '';
  console.log(`\n${times.file}: ${(times.total / 1e6).toFixed(1)} s sampled, ${(times.busy / 1e6).toFixed(1)} s busy${perOperation} (shares of busy time)`);
  console.log('\nSelf time by area');
  for (const [area, time] of sorted(times.areas).slice(0, options.top)) console.log(`  ${cell(time)}  ${area}`);
  console.log('\nHottest functions (self time)');
  for (const [name, time] of sorted(times.functions).slice(0, options.top)) console.log(`  ${cell(time)}  ${name}`);
  if (options.focus.length) {
    console.log('\nInclusive time of matching functions (a sample counts once per function name)');
    for (const [name, time] of times.inclusive(options.focus)) console.log(`  ${cell(time)}  ${name}`);
  }
}

/** Two profiles per operation, by area and by function, the largest differences first. */
export function printComparison(a: { label: string; times: ProfileTimes; operations: number }, b: { label: string; times: ProfileTimes; operations: number }, top: number): void {
  const row = (name: string, left: number, right: number) => `  ${left.toFixed(1).padStart(8)} ${right.toFixed(1).padStart(8)} ${(left - right >= 0 ? '+' : '') + (left - right).toFixed(1).padStart(7)}  ${name}`;
  const table = (title: string, pick: (times: ProfileTimes) => ReadonlyMap<string, number>) => {
    const left = pick(a.times);
    const right = pick(b.times);
    const names = new Set([...left.keys(), ...right.keys()]);
    const rows = [...names].map((name) => ({ name, l: (left.get(name) ?? 0) / a.operations, r: (right.get(name) ?? 0) / b.operations }));
    rows.sort((x, y) => Math.abs(y.l - y.r) - Math.abs(x.l - x.r));
    console.log(`\n${title}: µs of self time per operation (${a.label} | ${b.label} | difference)`);
    for (const { name, l, r } of rows.slice(0, top)) console.log(row(name, l, r));
  };
  console.log(`\n${a.label}: ${(a.times.busy / a.operations).toFixed(0)} µs busy per operation; ${b.label}: ${(b.times.busy / b.operations).toFixed(0)} µs`);
  table('By area', (times) => times.areas);
  table('By function', (times) => times.functions);
}
